using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.SparseConv;

/// <summary>Whether a sparse-conv pass covers whole vectors only, or ends in a partial vector read and written under a mask.</summary>
internal interface ISparseConvTail
{
    static abstract bool Masked { get; }
}

internal struct WholeVectors : ISparseConvTail { public static bool Masked => false; }
internal struct MaskedLastVector : ISparseConvTail { public static bool Masked => true; }

internal static unsafe partial class SparseConv
{
    /// <summary>
    /// AVX-512 tier, <c>TTile.Vectors</c> × 16 grid points per pass (the register tiles are SpMM's: a tile is just
    /// a count of vectors). Per non-zero one broadcast and one load+FMA per vector, as <see cref="Avx2Row64"/> with
    /// twice the lanes, so the same points take half the instructions. A pass needs 8 independent FMA chains (two
    /// FMA pipes, 4-cycle latency): tiles of 8 or more vectors have them in their accumulators; narrower passes run
    /// two non-zeros per step into two accumulator sets, so a 4-vector tile and the short tails of small layers
    /// (rn50's 7x7 grids have 61 points, one partial pass) are not latency-bound. The widest tiles measured fastest
    /// (each non-zero's index and broadcast are paid once per more points, and one pass reads longer runs of a plane);
    /// the registry keeps several widths and the conv planner times them per layer. The remainder (&lt; one tile) runs
    /// as whole 8-vector passes and then one pass of just enough vectors whose last vector is loaded and stored under a
    /// lane mask, so nothing past End is read or written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512Row<TTile>(SparseConvArgs* a) where TTile : struct, ISpmmTile
    {
        int width = TTile.Vectors * 16;
        int g = a->Start, end = a->End;
        for (; g + width <= end; g += width) Avx512Pass<TTile, WholeVectors>(a, g, width);
        for (; g + 128 < end; g += 128) Avx512Pass<Tile8, WholeVectors>(a, g, 128);
        int rest = end - g;
        if (rest <= 0) return;
        switch ((rest + 15) >> 4)
        {
            case 1: Avx512Pass<Tile1, MaskedLastVector>(a, g, rest); break;
            case 2: Avx512Pass<Tile2, MaskedLastVector>(a, g, rest); break;
            case 3: Avx512Pass<Tile3, MaskedLastVector>(a, g, rest); break;
            case 4: Avx512Pass<Tile4, MaskedLastVector>(a, g, rest); break;
            case 5: Avx512Pass<Tile5, MaskedLastVector>(a, g, rest); break;
            case 6: Avx512Pass<Tile6, MaskedLastVector>(a, g, rest); break;
            case 7: Avx512Pass<Tile7, MaskedLastVector>(a, g, rest); break;
            default: Avx512Pass<Tile8, MaskedLastVector>(a, g, rest); break;
        }
    }

    /// <summary>
    /// One pass over grid points [g, g + valid): <c>TTile.Vectors</c> vectors, of which only the last may be partial
    /// (and then only when <c>TTail.Masked</c>, with valid in ((Vectors − 1)·16, Vectors·16]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx512Pass<TTile, TTail>(SparseConvArgs* a, int g, int valid)
        where TTile : struct, ISpmmTile where TTail : struct, ISparseConvTail
    {
        float* planes = a->Planes + g, vals = a->Values;
        int* offs = a->Offsets;
        int count = a->Count, nv = TTile.Vectors;
        bool dual = nv < 8; // fewer than 8 accumulators: a second set for every other non-zero
        var mask = TTail.Masked ? LaneMask.First16(valid - (nv - 1) * 16) : Vector512<float>.AllBitsSet;
        Vector512<float> s0 = Vector512.Create(a->Bias), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        Vector512<float> s8 = s0, s9 = s0, s10 = s0, s11 = s0, s12 = s0, s13 = s0, s14 = s0, s15 = s0;
        Vector512<float> t0 = Vector512<float>.Zero, t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0;
        int i = 0;
        if (dual)
            for (; i + 2 <= count; i += 2)
            {
                var v = Vector512.Create(vals[i]);
                var u = Vector512.Create(vals[i + 1]);
                float* p = planes + offs[i];
                float* q = planes + offs[i + 1];
                s0 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 0, nv, mask), s0); t0 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 0, nv, mask), t0);
                if (nv > 1) { s1 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 1, nv, mask), s1); t1 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 1, nv, mask), t1); }
                if (nv > 2) { s2 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 2, nv, mask), s2); t2 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 2, nv, mask), t2); }
                if (nv > 3) { s3 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 3, nv, mask), s3); t3 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 3, nv, mask), t3); }
                if (nv > 4) { s4 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 4, nv, mask), s4); t4 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 4, nv, mask), t4); }
                if (nv > 5) { s5 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 5, nv, mask), s5); t5 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 5, nv, mask), t5); }
                if (nv > 6) { s6 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 6, nv, mask), s6); t6 = Avx512F.FusedMultiplyAdd(u, TailVectors512.Load<TTail>(q, 6, nv, mask), t6); }
            }
        for (; i < count; i++)
        {
            var v = Vector512.Create(vals[i]);
            float* p = planes + offs[i];
            s0 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 0, nv, mask), s0);
            if (nv > 1) s1 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 1, nv, mask), s1);
            if (nv > 2) s2 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 2, nv, mask), s2);
            if (nv > 3) s3 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 3, nv, mask), s3);
            if (nv > 4) s4 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 4, nv, mask), s4);
            if (nv > 5) s5 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 5, nv, mask), s5);
            if (nv > 6) s6 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 6, nv, mask), s6);
            if (nv > 7) s7 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 7, nv, mask), s7);
            if (nv > 8) s8 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 8, nv, mask), s8);
            if (nv > 9) s9 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 9, nv, mask), s9);
            if (nv > 10) s10 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 10, nv, mask), s10);
            if (nv > 11) s11 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 11, nv, mask), s11);
            if (nv > 12) s12 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 12, nv, mask), s12);
            if (nv > 13) s13 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 13, nv, mask), s13);
            if (nv > 14) s14 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 14, nv, mask), s14);
            if (nv > 15) s15 = Avx512F.FusedMultiplyAdd(v, TailVectors512.Load<TTail>(p, 15, nv, mask), s15);
        }
        if (dual)
        {
            s0 += t0;
            if (nv > 1) s1 += t1;
            if (nv > 2) s2 += t2;
            if (nv > 3) s3 += t3;
            if (nv > 4) s4 += t4;
            if (nv > 5) s5 += t5;
            if (nv > 6) s6 += t6;
        }
        float* dst = a->Grid + g;
        var lo = Vector512.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector512.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
        bool clamp = a->Activation != ActivationKind.None;
        TailVectors512.Store<TTail>(dst, s0, 0, nv, mask, clamp, lo, hi);
        if (nv > 1) TailVectors512.Store<TTail>(dst, s1, 1, nv, mask, clamp, lo, hi);
        if (nv > 2) TailVectors512.Store<TTail>(dst, s2, 2, nv, mask, clamp, lo, hi);
        if (nv > 3) TailVectors512.Store<TTail>(dst, s3, 3, nv, mask, clamp, lo, hi);
        if (nv > 4) TailVectors512.Store<TTail>(dst, s4, 4, nv, mask, clamp, lo, hi);
        if (nv > 5) TailVectors512.Store<TTail>(dst, s5, 5, nv, mask, clamp, lo, hi);
        if (nv > 6) TailVectors512.Store<TTail>(dst, s6, 6, nv, mask, clamp, lo, hi);
        if (nv > 7) TailVectors512.Store<TTail>(dst, s7, 7, nv, mask, clamp, lo, hi);
        if (nv > 8) TailVectors512.Store<TTail>(dst, s8, 8, nv, mask, clamp, lo, hi);
        if (nv > 9) TailVectors512.Store<TTail>(dst, s9, 9, nv, mask, clamp, lo, hi);
        if (nv > 10) TailVectors512.Store<TTail>(dst, s10, 10, nv, mask, clamp, lo, hi);
        if (nv > 11) TailVectors512.Store<TTail>(dst, s11, 11, nv, mask, clamp, lo, hi);
        if (nv > 12) TailVectors512.Store<TTail>(dst, s12, 12, nv, mask, clamp, lo, hi);
        if (nv > 13) TailVectors512.Store<TTail>(dst, s13, 13, nv, mask, clamp, lo, hi);
        if (nv > 14) TailVectors512.Store<TTail>(dst, s14, 14, nv, mask, clamp, lo, hi);
        if (nv > 15) TailVectors512.Store<TTail>(dst, s15, 15, nv, mask, clamp, lo, hi);
    }
}
