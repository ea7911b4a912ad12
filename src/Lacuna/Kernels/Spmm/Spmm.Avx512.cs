using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>
    /// AVX-512 row pass over a tile of <c>TTile.Vectors</c> × 16 columns: per non-zero one broadcast weight and one
    /// load+FMA per vector, as <see cref="Avx2Tile"/> with twice the lanes, so the same columns take half the
    /// instructions (index, broadcast and loop overhead per non-zero are paid once per 16 columns, not 8). With 32
    /// vector registers every tile up to 12 vectors runs two non-zeros per step into two accumulator sets, which
    /// hides the FMA latency for narrow tiles. Partial Y vectors are loaded and stored under a lane mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512Tile<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        float* x = a->X;
        void* cols = a->Cols, vals = a->Values;
        int* starts = a->Starts, ends = a->Ends;
        float* bias = a->Bias;
        bool accumulate = a->Accumulate;
        nint stride = a->Stride, ldy = a->Ldy;
        int nv = TTile.Vectors, valid = a->Valid;
        var lo = Vector512.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector512.Create(a->Max);
        bool clamp = a->Activate && a->Activation != ActivationKind.None;
        float* y = a->Y + a->M0 * ldy;
        for (int m = a->M0; m < a->M1; m++, y += ldy)
        {
            int i = starts[m], end = ends[m];
            Vector512<float> s0 = Vector512.Create(bias[m]), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
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
                if (nv > 8) s8 = LoadY512(y + 128, valid - 128);
                if (nv > 9) s9 = LoadY512(y + 144, valid - 144);
                if (nv > 10) s10 = LoadY512(y + 160, valid - 160);
                if (nv > 11) s11 = LoadY512(y + 176, valid - 176);
            }
            Vector512<float> t0 = Vector512<float>.Zero, t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0, t8 = t0, t9 = t0, t10 = t0, t11 = t0;
            for (; i + 2 <= end; i += 2)
            {
                var v = TWeight.Broadcast16(vals, i);
                var u = TWeight.Broadcast16(vals, i + 1);
                float* p = x + TIndex.Get(cols, i) * stride;
                float* q = x + TIndex.Get(cols, i + 1) * stride;
                { s0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 0), s0); t0 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 0), t0); }
                if (nv > 1) { s1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 16), s1); t1 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 16), t1); }
                if (nv > 2) { s2 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 32), s2); t2 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 32), t2); }
                if (nv > 3) { s3 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 48), s3); t3 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 48), t3); }
                if (nv > 4) { s4 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 64), s4); t4 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 64), t4); }
                if (nv > 5) { s5 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 80), s5); t5 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 80), t5); }
                if (nv > 6) { s6 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 96), s6); t6 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 96), t6); }
                if (nv > 7) { s7 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 112), s7); t7 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 112), t7); }
                if (nv > 8) { s8 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 128), s8); t8 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 128), t8); }
                if (nv > 9) { s9 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 144), s9); t9 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 144), t9); }
                if (nv > 10) { s10 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 160), s10); t10 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 160), t10); }
                if (nv > 11) { s11 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 176), s11); t11 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadVector512(q + 176), t11); }
            }
            if (i < end)
            {
                var v = TWeight.Broadcast16(vals, i);
                float* p = x + TIndex.Get(cols, i) * stride;
                s0 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 0), s0);
                if (nv > 1) s1 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 16), s1);
                if (nv > 2) s2 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 32), s2);
                if (nv > 3) s3 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 48), s3);
                if (nv > 4) s4 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 64), s4);
                if (nv > 5) s5 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 80), s5);
                if (nv > 6) s6 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 96), s6);
                if (nv > 7) s7 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 112), s7);
                if (nv > 8) s8 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 128), s8);
                if (nv > 9) s9 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 144), s9);
                if (nv > 10) s10 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 160), s10);
                if (nv > 11) s11 = Avx512F.FusedMultiplyAdd(v, Avx512F.LoadVector512(p + 176), s11);
            }
            s0 += t0;
            if (nv > 1) s1 += t1;
            if (nv > 2) s2 += t2;
            if (nv > 3) s3 += t3;
            if (nv > 4) s4 += t4;
            if (nv > 5) s5 += t5;
            if (nv > 6) s6 += t6;
            if (nv > 7) s7 += t7;
            if (nv > 8) s8 += t8;
            if (nv > 9) s9 += t9;
            if (nv > 10) s10 += t10;
            if (nv > 11) s11 += t11;
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
                if (nv > 8) s8 = Avx512F.Min(Avx512F.Max(s8, lo), hi);
                if (nv > 9) s9 = Avx512F.Min(Avx512F.Max(s9, lo), hi);
                if (nv > 10) s10 = Avx512F.Min(Avx512F.Max(s10, lo), hi);
                if (nv > 11) s11 = Avx512F.Min(Avx512F.Max(s11, lo), hi);
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
                if (nv > 8) Avx512F.Store(y + 128, s8);
                if (nv > 9) Avx512F.Store(y + 144, s9);
                if (nv > 10) Avx512F.Store(y + 160, s10);
                if (nv > 11) Avx512F.Store(y + 176, s11);
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
                if (nv > 8) StoreY512(y + 128, s8, valid - 128);
                if (nv > 9) StoreY512(y + 144, s9, valid - 144);
                if (nv > 10) StoreY512(y + 160, s10, valid - 160);
                if (nv > 11) StoreY512(y + 176, s11, valid - 176);
            }
        }
    }

    /// <summary>Loads the first <paramref name="valid"/> lanes of a partial sum (nothing past them is read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadY512(float* src, int valid)
    {
        if (valid >= 16) return Avx512F.LoadVector512(src);
        if (valid <= 0) return Vector512<float>.Zero;
        return Avx512F.MaskLoad(src, LaneMask.First16(valid), Vector512<float>.Zero);
    }

    /// <summary>Stores the first <paramref name="valid"/> lanes of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreY512(float* dst, Vector512<float> s, int valid)
    {
        if (valid <= 0) return;
        if (valid >= 16) Avx512F.Store(dst, s);
        else Avx512F.MaskStore(dst, LaneMask.First16(valid), s);
    }
}
