using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>
    /// <see cref="Avx512Tile"/> over a bf16 panel of X (<see cref="SpmmBf16Panel"/>), up to 8 vectors: per non-zero
    /// one 64-byte load per pair of vectors (half the fp32 tile's bytes of X), widened to fp32 by a shift (even
    /// vector) and an AND (odd vector), then one FMA per vector into fp32 accumulators; two non-zeros per step into
    /// two accumulator sets as in the fp32 tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512TileBf16X<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        uint* x = (uint*)a->X;
        void* cols = a->Cols, vals = a->Values;
        int* starts = a->Starts, ends = a->Ends;
        float* bias = a->Bias;
        bool accumulate = a->Accumulate;
        nint stride = a->Stride / 2, ldy = a->Ldy; // X row stride in 32-bit pairs of bf16
        int nv = TTile.Vectors, valid = a->Valid;
        var lo = Vector512.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector512.Create(a->Max);
        var high = Vector512.Create(0xFFFF0000u);
        bool clamp = a->Activate && a->Activation != ActivationKind.None;
        float* y = a->Y + a->M0 * ldy;
        for (int m = a->M0; m < a->M1; m++, y += ldy)
        {
            int i = starts[m], end = ends[m];
            Vector512<float> s0 = Vector512.Create(bias[m]), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            if (accumulate)
            {
                s0 = LoadY512(y + 0, valid - 0);
                if (nv > 1) s1 = LoadY512(y + 16, valid - 16);
                if (nv > 2) s2 = LoadY512(y + 32, valid - 32);
                if (nv > 3) s3 = LoadY512(y + 48, valid - 48);
                if (nv > 4) s4 = LoadY512(y + 64, valid - 64);
                if (nv > 5) s5 = LoadY512(y + 80, valid - 80);
                if (nv > 6) s6 = LoadY512(y + 96, valid - 96);
                if (nv > 7) s7 = LoadY512(y + 112, valid - 112);
            }
            Vector512<float> t0 = Vector512<float>.Zero, t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
            for (; i + 2 <= end; i += 2)
            {
                var v = TWeight.Broadcast16(vals, i);
                var u = TWeight.Broadcast16(vals, i + 1);
                uint* p = x + TIndex.Get(cols, i) * stride;
                uint* q = x + TIndex.Get(cols, i + 1) * stride;
                {
                    var r = Avx512F.LoadVector512(p); var h = Avx512F.LoadVector512(q);
                    s0 = Avx512F.FusedMultiplyAdd(v, Even(r), s0); t0 = Avx512F.FusedMultiplyAdd(u, Even(h), t0);
                    if (nv > 1) { s1 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s1); t1 = Avx512F.FusedMultiplyAdd(u, Odd(h, high), t1); }
                }
                if (nv > 2)
                {
                    var r = Avx512F.LoadVector512(p + 16); var h = Avx512F.LoadVector512(q + 16);
                    s2 = Avx512F.FusedMultiplyAdd(v, Even(r), s2); t2 = Avx512F.FusedMultiplyAdd(u, Even(h), t2);
                    if (nv > 3) { s3 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s3); t3 = Avx512F.FusedMultiplyAdd(u, Odd(h, high), t3); }
                }
                if (nv > 4)
                {
                    var r = Avx512F.LoadVector512(p + 32); var h = Avx512F.LoadVector512(q + 32);
                    s4 = Avx512F.FusedMultiplyAdd(v, Even(r), s4); t4 = Avx512F.FusedMultiplyAdd(u, Even(h), t4);
                    if (nv > 5) { s5 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s5); t5 = Avx512F.FusedMultiplyAdd(u, Odd(h, high), t5); }
                }
                if (nv > 6)
                {
                    var r = Avx512F.LoadVector512(p + 48); var h = Avx512F.LoadVector512(q + 48);
                    s6 = Avx512F.FusedMultiplyAdd(v, Even(r), s6); t6 = Avx512F.FusedMultiplyAdd(u, Even(h), t6);
                    if (nv > 7) { s7 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s7); t7 = Avx512F.FusedMultiplyAdd(u, Odd(h, high), t7); }
                }
            }
            if (i < end)
            {
                var v = TWeight.Broadcast16(vals, i);
                uint* p = x + TIndex.Get(cols, i) * stride;
                { var r = Avx512F.LoadVector512(p); s0 = Avx512F.FusedMultiplyAdd(v, Even(r), s0); if (nv > 1) s1 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s1); }
                if (nv > 2) { var r = Avx512F.LoadVector512(p + 16); s2 = Avx512F.FusedMultiplyAdd(v, Even(r), s2); if (nv > 3) s3 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s3); }
                if (nv > 4) { var r = Avx512F.LoadVector512(p + 32); s4 = Avx512F.FusedMultiplyAdd(v, Even(r), s4); if (nv > 5) s5 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s5); }
                if (nv > 6) { var r = Avx512F.LoadVector512(p + 48); s6 = Avx512F.FusedMultiplyAdd(v, Even(r), s6); if (nv > 7) s7 = Avx512F.FusedMultiplyAdd(v, Odd(r, high), s7); }
            }
            s0 += t0;
            if (nv > 1) s1 += t1;
            if (nv > 2) s2 += t2;
            if (nv > 3) s3 += t3;
            if (nv > 4) s4 += t4;
            if (nv > 5) s5 += t5;
            if (nv > 6) s6 += t6;
            if (nv > 7) s7 += t7;
            if (clamp)
            {
                s0 = Avx512F.Min(Avx512F.Max(s0, lo), hi);
                if (nv > 1) s1 = Avx512F.Min(Avx512F.Max(s1, lo), hi);
                if (nv > 2) s2 = Avx512F.Min(Avx512F.Max(s2, lo), hi);
                if (nv > 3) s3 = Avx512F.Min(Avx512F.Max(s3, lo), hi);
                if (nv > 4) s4 = Avx512F.Min(Avx512F.Max(s4, lo), hi);
                if (nv > 5) s5 = Avx512F.Min(Avx512F.Max(s5, lo), hi);
                if (nv > 6) s6 = Avx512F.Min(Avx512F.Max(s6, lo), hi);
                if (nv > 7) s7 = Avx512F.Min(Avx512F.Max(s7, lo), hi);
            }
            if (valid >= nv * 16)
            {
                Avx512F.Store(y + 0, s0);
                if (nv > 1) Avx512F.Store(y + 16, s1);
                if (nv > 2) Avx512F.Store(y + 32, s2);
                if (nv > 3) Avx512F.Store(y + 48, s3);
                if (nv > 4) Avx512F.Store(y + 64, s4);
                if (nv > 5) Avx512F.Store(y + 80, s5);
                if (nv > 6) Avx512F.Store(y + 96, s6);
                if (nv > 7) Avx512F.Store(y + 112, s7);
            }
            else
            {
                StoreY512(y + 0, s0, valid - 0);
                if (nv > 1) StoreY512(y + 16, s1, valid - 16);
                if (nv > 2) StoreY512(y + 32, s2, valid - 32);
                if (nv > 3) StoreY512(y + 48, s3, valid - 48);
                if (nv > 4) StoreY512(y + 64, s4, valid - 64);
                if (nv > 5) StoreY512(y + 80, s5, valid - 80);
                if (nv > 6) StoreY512(y + 96, s6, valid - 96);
                if (nv > 7) StoreY512(y + 112, s7, valid - 112);
            }
        }
    }

    /// <summary>The low bf16 halves of a pair's lanes (its even vector) as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<uint> pair) => Avx512F.ShiftLeftLogical(pair, 16).AsSingle();

    /// <summary>The high bf16 halves of a pair's lanes (its odd vector) as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<uint> pair, Vector512<uint> high) => Avx512F.And(pair, high).AsSingle();
}
