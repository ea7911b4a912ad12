using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>
    /// <see cref="Avx2Tile"/> over a bf16 panel of X (<see cref="SpmmBf16Panel"/>): per non-zero one 32-byte load
    /// per pair of vectors, widened by a shift (even vector) and an AND (odd vector), then the FMAs into fp32
    /// accumulators; tiles of up to 6 vectors run two non-zeros per step, as in the fp32 tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2TileBf16X<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        uint* x = (uint*)a->X;
        void* cols = a->Cols, vals = a->Values;
        int* starts = a->Starts, ends = a->Ends;
        float* bias = a->Bias;
        bool accumulate = a->Accumulate;
        nint stride = a->Stride / 2, ldy = a->Ldy; // X row stride in 32-bit pairs of bf16
        int nv = TTile.Vectors, valid = a->Valid;
        var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Max);
        var high = Vector256.Create(0xFFFF0000u);
        bool clamp = a->Activate && a->Activation != ActivationKind.None;
        float* y = a->Y + a->M0 * ldy;
        var laneMask = LaneMask.First8(valid & 7);
        for (int m = a->M0; m < a->M1; m++, y += ldy)
        {
            int i = starts[m], end = ends[m];
            Vector256<float> s0 = Vector256.Create(bias[m]), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
            if (accumulate)
            {
                s0 = LoadY(y, valid, laneMask);
                if (nv > 1) s1 = LoadY(y + 8, valid - 8, laneMask);
                if (nv > 2) s2 = LoadY(y + 16, valid - 16, laneMask);
                if (nv > 3) s3 = LoadY(y + 24, valid - 24, laneMask);
                if (nv > 4) s4 = LoadY(y + 32, valid - 32, laneMask);
                if (nv > 5) s5 = LoadY(y + 40, valid - 40, laneMask);
                if (nv > 6) s6 = LoadY(y + 48, valid - 48, laneMask);
                if (nv > 7) s7 = LoadY(y + 56, valid - 56, laneMask);
                if (nv > 8) s8 = LoadY(y + 64, valid - 64, laneMask);
                if (nv > 9) s9 = LoadY(y + 72, valid - 72, laneMask);
                if (nv > 10) s10 = LoadY(y + 80, valid - 80, laneMask);
                if (nv > 11) s11 = LoadY(y + 88, valid - 88, laneMask);
            }
            if (nv <= 6)
            {
                Vector256<float> t0 = Vector256<float>.Zero, t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0;
                for (; i + 2 <= end; i += 2)
                {
                    var v = TWeight.Broadcast(vals, i);
                    var u = TWeight.Broadcast(vals, i + 1);
                    uint* p = x + TIndex.Get(cols, i) * stride;
                    uint* q = x + TIndex.Get(cols, i + 1) * stride;
                    {
                        var r = Avx.LoadVector256(p); var h = Avx.LoadVector256(q);
                        s0 = Fma.MultiplyAdd(v, Even(r), s0); t0 = Fma.MultiplyAdd(u, Even(h), t0);
                        if (nv > 1) { s1 = Fma.MultiplyAdd(v, Odd(r, high), s1); t1 = Fma.MultiplyAdd(u, Odd(h, high), t1); }
                    }
                    if (nv > 2)
                    {
                        var r = Avx.LoadVector256(p + 8); var h = Avx.LoadVector256(q + 8);
                        s2 = Fma.MultiplyAdd(v, Even(r), s2); t2 = Fma.MultiplyAdd(u, Even(h), t2);
                        if (nv > 3) { s3 = Fma.MultiplyAdd(v, Odd(r, high), s3); t3 = Fma.MultiplyAdd(u, Odd(h, high), t3); }
                    }
                    if (nv > 4)
                    {
                        var r = Avx.LoadVector256(p + 16); var h = Avx.LoadVector256(q + 16);
                        s4 = Fma.MultiplyAdd(v, Even(r), s4); t4 = Fma.MultiplyAdd(u, Even(h), t4);
                        if (nv > 5) { s5 = Fma.MultiplyAdd(v, Odd(r, high), s5); t5 = Fma.MultiplyAdd(u, Odd(h, high), t5); }
                    }
                }
                s0 += t0; s1 += t1; s2 += t2; s3 += t3; s4 += t4; s5 += t5;
            }
            for (; i < end; i++)
            {
                var v = TWeight.Broadcast(vals, i);
                uint* p = x + TIndex.Get(cols, i) * stride;
                { var r = Avx.LoadVector256(p); s0 = Fma.MultiplyAdd(v, Even(r), s0); if (nv > 1) s1 = Fma.MultiplyAdd(v, Odd(r, high), s1); }
                if (nv > 2) { var r = Avx.LoadVector256(p + 8); s2 = Fma.MultiplyAdd(v, Even(r), s2); if (nv > 3) s3 = Fma.MultiplyAdd(v, Odd(r, high), s3); }
                if (nv > 4) { var r = Avx.LoadVector256(p + 16); s4 = Fma.MultiplyAdd(v, Even(r), s4); if (nv > 5) s5 = Fma.MultiplyAdd(v, Odd(r, high), s5); }
                if (nv > 6) { var r = Avx.LoadVector256(p + 24); s6 = Fma.MultiplyAdd(v, Even(r), s6); if (nv > 7) s7 = Fma.MultiplyAdd(v, Odd(r, high), s7); }
                if (nv > 8) { var r = Avx.LoadVector256(p + 32); s8 = Fma.MultiplyAdd(v, Even(r), s8); if (nv > 9) s9 = Fma.MultiplyAdd(v, Odd(r, high), s9); }
                if (nv > 10) { var r = Avx.LoadVector256(p + 40); s10 = Fma.MultiplyAdd(v, Even(r), s10); if (nv > 11) s11 = Fma.MultiplyAdd(v, Odd(r, high), s11); }
            }
            if (clamp)
            {
                s0 = Avx.Min(Avx.Max(s0, lo), hi); s1 = Avx.Min(Avx.Max(s1, lo), hi); s2 = Avx.Min(Avx.Max(s2, lo), hi);
                s3 = Avx.Min(Avx.Max(s3, lo), hi); s4 = Avx.Min(Avx.Max(s4, lo), hi); s5 = Avx.Min(Avx.Max(s5, lo), hi);
                s6 = Avx.Min(Avx.Max(s6, lo), hi); s7 = Avx.Min(Avx.Max(s7, lo), hi); s8 = Avx.Min(Avx.Max(s8, lo), hi);
                s9 = Avx.Min(Avx.Max(s9, lo), hi); s10 = Avx.Min(Avx.Max(s10, lo), hi); s11 = Avx.Min(Avx.Max(s11, lo), hi);
            }
            if (valid >= nv * 8)
            {
                Avx.Store(y, s0);
                if (nv > 1) Avx.Store(y + 8, s1);
                if (nv > 2) Avx.Store(y + 16, s2);
                if (nv > 3) Avx.Store(y + 24, s3);
                if (nv > 4) Avx.Store(y + 32, s4);
                if (nv > 5) Avx.Store(y + 40, s5);
                if (nv > 6) Avx.Store(y + 48, s6);
                if (nv > 7) Avx.Store(y + 56, s7);
                if (nv > 8) Avx.Store(y + 64, s8);
                if (nv > 9) Avx.Store(y + 72, s9);
                if (nv > 10) Avx.Store(y + 80, s10);
                if (nv > 11) Avx.Store(y + 88, s11);
            }
            else
            {
                Store(y, s0, valid);
                if (nv > 1) Store(y + 8, s1, valid - 8);
                if (nv > 2) Store(y + 16, s2, valid - 16);
                if (nv > 3) Store(y + 24, s3, valid - 24);
                if (nv > 4) Store(y + 32, s4, valid - 32);
                if (nv > 5) Store(y + 40, s5, valid - 40);
                if (nv > 6) Store(y + 48, s6, valid - 48);
                if (nv > 7) Store(y + 56, s7, valid - 56);
                if (nv > 8) Store(y + 64, s8, valid - 64);
                if (nv > 9) Store(y + 72, s9, valid - 72);
                if (nv > 10) Store(y + 80, s10, valid - 80);
                if (nv > 11) Store(y + 88, s11, valid - 88);
            }
        }
    }

    /// <summary>The low bf16 halves of a pair's lanes (its even vector) as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<uint> pair) => Avx2.ShiftLeftLogical(pair, 16).AsSingle();

    /// <summary>The high bf16 halves of a pair's lanes (its odd vector) as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<uint> pair, Vector256<uint> high) => Avx2.And(pair, high).AsSingle();
}
