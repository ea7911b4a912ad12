using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{

    /// <summary>
    /// AVX2+FMA row pass over a tile of <c>TTile.Vectors</c> × 8 columns: per non-zero, one broadcast weight and one
    /// load+FMA per vector into that vector's own accumulator (independent FMA chains). Tiles of up to 3 vectors
    /// have too few chains to hide the 4-cycle FMA latency, so they run two non-zeros per step into two accumulator
    /// sets and add them at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Tile<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        float* x = a->X;
        void* cols = a->Cols, vals = a->Values;
        nint stride = a->Stride;
        int count = a->Count, i = 0;
        int nv = TTile.Vectors;
        Vector256<float> s0 = Vector256.Create(a->Bias), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
        if (nv <= 3)
        {
            Vector256<float> t0 = Vector256<float>.Zero, t1 = t0, t2 = t0;
            for (; i + 2 <= count; i += 2)
            {
                var v = Vector256.Create(TWeight.Get(vals, i));
                var u = Vector256.Create(TWeight.Get(vals, i + 1));
                float* p = x + TIndex.Get(cols, i) * stride;
                float* q = x + TIndex.Get(cols, i + 1) * stride;
                s0 = Fma.MultiplyAdd(v, Avx.LoadVector256(p), s0);
                t0 = Fma.MultiplyAdd(u, Avx.LoadVector256(q), t0);
                if (nv > 1) { s1 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 8), s1); t1 = Fma.MultiplyAdd(u, Avx.LoadVector256(q + 8), t1); }
                if (nv > 2) { s2 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 16), s2); t2 = Fma.MultiplyAdd(u, Avx.LoadVector256(q + 16), t2); }
            }
            s0 += t0; s1 += t1; s2 += t2;
        }
        for (; i < count; i++)
        {
            var v = Vector256.Create(TWeight.Get(vals, i));
            float* p = x + TIndex.Get(cols, i) * stride;
            s0 = Fma.MultiplyAdd(v, Avx.LoadVector256(p), s0);
            if (nv > 1) s1 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 8), s1);
            if (nv > 2) s2 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 16), s2);
            if (nv > 3) s3 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 24), s3);
            if (nv > 4) s4 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 32), s4);
            if (nv > 5) s5 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 40), s5);
            if (nv > 6) s6 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 48), s6);
            if (nv > 7) s7 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 56), s7);
            if (nv > 8) s8 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 64), s8);
            if (nv > 9) s9 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 72), s9);
            if (nv > 10) s10 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 80), s10);
            if (nv > 11) s11 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 88), s11);
        }
        float* y = a->Y;
        int valid = a->Valid;
        // Activation bounds in registers: Y stores may alias *a as far as the JIT knows, so reading a-> per vector would reload.
        var lo = Vector256.Create(a->Activation == ActivationKind.None ? float.NegativeInfinity : a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Activation == ActivationKind.Clip ? a->Max : float.PositiveInfinity);
        bool clamp = a->Activation != ActivationKind.None;
        Store(clamp, lo, hi, y, s0, valid);
        if (nv > 1) Store(clamp, lo, hi, y + 8, s1, valid - 8);
        if (nv > 2) Store(clamp, lo, hi, y + 16, s2, valid - 16);
        if (nv > 3) Store(clamp, lo, hi, y + 24, s3, valid - 24);
        if (nv > 4) Store(clamp, lo, hi, y + 32, s4, valid - 32);
        if (nv > 5) Store(clamp, lo, hi, y + 40, s5, valid - 40);
        if (nv > 6) Store(clamp, lo, hi, y + 48, s6, valid - 48);
        if (nv > 7) Store(clamp, lo, hi, y + 56, s7, valid - 56);
        if (nv > 8) Store(clamp, lo, hi, y + 64, s8, valid - 64);
        if (nv > 9) Store(clamp, lo, hi, y + 72, s9, valid - 72);
        if (nv > 10) Store(clamp, lo, hi, y + 80, s10, valid - 80);
        if (nv > 11) Store(clamp, lo, hi, y + 88, s11, valid - 88);
    }

    /// <summary>Clamp to [lo, hi] (the activation, when there is one) and store one vector, keeping its first <paramref name="valid"/> lanes (a masked store for 1-7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(bool clamp, Vector256<float> lo, Vector256<float> hi, float* dst, Vector256<float> s, int valid)
    {
        if (valid <= 0) return;
        if (clamp) s = Avx.Min(Avx.Max(s, lo), hi);
        if (valid >= 8) Avx.Store(dst, s);
        else Avx.MaskStore(dst, Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle(), s);
    }
}
