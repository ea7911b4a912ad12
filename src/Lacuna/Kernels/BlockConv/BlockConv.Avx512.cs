using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.BlockConv;

internal static unsafe partial class BlockConv
{
    /// <summary>
    /// AVX-512 tier: TRows channels × TTile vectors per pass (TRows · Vectors ≤ 24 accumulators: 8x3, 4x6), then
    /// 3-vector passes, then one pass of 1-3 vectors whose last is loaded and stored under a lane mask (nothing past
    /// End is touched). Per entry: Vectors loads of the planes and TRows weight broadcasts feed TRows × Vectors FMAs,
    /// the dense direct tile's reuse restricted to the non-zero positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512<TRows, TTile>(BlockConvArgs* a) where TRows : struct, IBlockRows where TTile : struct, ISpmmTile
    {
        int g = a->Start, end = a->End, width = TTile.Vectors * 16;
        for (; g + width <= end; g += width) Avx512Pass<TRows, TTile, WholeVectors>(a, g, width);
        for (; g + 48 <= end; g += 48) Avx512Pass<TRows, Tile3, WholeVectors>(a, g, 48);
        int rest = end - g;
        if (rest <= 0) return;
        switch ((rest + 15) >> 4)
        {
            case 1: Avx512Pass<TRows, Tile1, MaskedLastVector>(a, g, rest); break;
            case 2: Avx512Pass<TRows, Tile2, MaskedLastVector>(a, g, rest); break;
            default: Avx512Pass<TRows, Tile3, MaskedLastVector>(a, g, rest); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx512Pass<TRows, TTile, TTail>(BlockConvArgs* a, int g, int valid)
        where TRows : struct, IBlockRows where TTile : struct, ISpmmTile where TTail : struct, ISparseConvTail
    {
        int nv = TTile.Vectors, rows = TRows.Rows, count = a->Count;
        float* planes = a->Planes + g, bias = a->Bias;
        int* offs = a->Offsets;
        var mask = TTail.Masked ? LaneMask.First16(valid - (nv - 1) * 16) : Vector512<float>.AllBitsSet;
        Vector512<float> a00 = Vector512.Create(bias[0]), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00;
        Vector512<float> a10 = TRows.Rows > 1 ? Vector512.Create(bias[1]) : default, a11 = a10, a12 = a10, a13 = a10, a14 = a10, a15 = a10;
        Vector512<float> a20 = TRows.Rows > 2 ? Vector512.Create(bias[2]) : default, a21 = a20, a22 = a20, a23 = a20, a24 = a20, a25 = a20;
        Vector512<float> a30 = TRows.Rows > 3 ? Vector512.Create(bias[3]) : default, a31 = a30, a32 = a30, a33 = a30, a34 = a30, a35 = a30;
        Vector512<float> a40 = TRows.Rows > 4 ? Vector512.Create(bias[4]) : default, a41 = a40, a42 = a40, a43 = a40, a44 = a40, a45 = a40;
        Vector512<float> a50 = TRows.Rows > 5 ? Vector512.Create(bias[5]) : default, a51 = a50, a52 = a50, a53 = a50, a54 = a50, a55 = a50;
        Vector512<float> a60 = TRows.Rows > 6 ? Vector512.Create(bias[6]) : default, a61 = a60, a62 = a60, a63 = a60, a64 = a60, a65 = a60;
        Vector512<float> a70 = TRows.Rows > 7 ? Vector512.Create(bias[7]) : default, a71 = a70, a72 = a70, a73 = a70, a74 = a70, a75 = a70;
        float* w = a->Weights;
        for (int i = 0; i < count; i++, w += rows)
        {
            float* p = planes + offs[i];
            var x0 = TailVectors512.Load<TTail>(p, 0, nv, mask);
            var x1 = nv > 1 ? TailVectors512.Load<TTail>(p, 1, nv, mask) : default;
            var x2 = nv > 2 ? TailVectors512.Load<TTail>(p, 2, nv, mask) : default;
            var x3 = nv > 3 ? TailVectors512.Load<TTail>(p, 3, nv, mask) : default;
            var x4 = nv > 4 ? TailVectors512.Load<TTail>(p, 4, nv, mask) : default;
            var x5 = nv > 5 ? TailVectors512.Load<TTail>(p, 5, nv, mask) : default;
            { var w0 = Vector512.Create(w[0]); a00 = Avx512F.FusedMultiplyAdd(w0, x0, a00); if (nv > 1) a01 = Avx512F.FusedMultiplyAdd(w0, x1, a01); if (nv > 2) a02 = Avx512F.FusedMultiplyAdd(w0, x2, a02); if (nv > 3) a03 = Avx512F.FusedMultiplyAdd(w0, x3, a03); if (nv > 4) a04 = Avx512F.FusedMultiplyAdd(w0, x4, a04); if (nv > 5) a05 = Avx512F.FusedMultiplyAdd(w0, x5, a05); }
            if (TRows.Rows > 1) { var w1 = Vector512.Create(w[1]); a10 = Avx512F.FusedMultiplyAdd(w1, x0, a10); if (nv > 1) a11 = Avx512F.FusedMultiplyAdd(w1, x1, a11); if (nv > 2) a12 = Avx512F.FusedMultiplyAdd(w1, x2, a12); if (nv > 3) a13 = Avx512F.FusedMultiplyAdd(w1, x3, a13); if (nv > 4) a14 = Avx512F.FusedMultiplyAdd(w1, x4, a14); if (nv > 5) a15 = Avx512F.FusedMultiplyAdd(w1, x5, a15); }
            if (TRows.Rows > 2) { var w2 = Vector512.Create(w[2]); a20 = Avx512F.FusedMultiplyAdd(w2, x0, a20); if (nv > 1) a21 = Avx512F.FusedMultiplyAdd(w2, x1, a21); if (nv > 2) a22 = Avx512F.FusedMultiplyAdd(w2, x2, a22); if (nv > 3) a23 = Avx512F.FusedMultiplyAdd(w2, x3, a23); if (nv > 4) a24 = Avx512F.FusedMultiplyAdd(w2, x4, a24); if (nv > 5) a25 = Avx512F.FusedMultiplyAdd(w2, x5, a25); }
            if (TRows.Rows > 3) { var w3 = Vector512.Create(w[3]); a30 = Avx512F.FusedMultiplyAdd(w3, x0, a30); if (nv > 1) a31 = Avx512F.FusedMultiplyAdd(w3, x1, a31); if (nv > 2) a32 = Avx512F.FusedMultiplyAdd(w3, x2, a32); if (nv > 3) a33 = Avx512F.FusedMultiplyAdd(w3, x3, a33); if (nv > 4) a34 = Avx512F.FusedMultiplyAdd(w3, x4, a34); if (nv > 5) a35 = Avx512F.FusedMultiplyAdd(w3, x5, a35); }
            if (TRows.Rows > 4) { var w4 = Vector512.Create(w[4]); a40 = Avx512F.FusedMultiplyAdd(w4, x0, a40); if (nv > 1) a41 = Avx512F.FusedMultiplyAdd(w4, x1, a41); if (nv > 2) a42 = Avx512F.FusedMultiplyAdd(w4, x2, a42); if (nv > 3) a43 = Avx512F.FusedMultiplyAdd(w4, x3, a43); if (nv > 4) a44 = Avx512F.FusedMultiplyAdd(w4, x4, a44); if (nv > 5) a45 = Avx512F.FusedMultiplyAdd(w4, x5, a45); }
            if (TRows.Rows > 5) { var w5 = Vector512.Create(w[5]); a50 = Avx512F.FusedMultiplyAdd(w5, x0, a50); if (nv > 1) a51 = Avx512F.FusedMultiplyAdd(w5, x1, a51); if (nv > 2) a52 = Avx512F.FusedMultiplyAdd(w5, x2, a52); if (nv > 3) a53 = Avx512F.FusedMultiplyAdd(w5, x3, a53); if (nv > 4) a54 = Avx512F.FusedMultiplyAdd(w5, x4, a54); if (nv > 5) a55 = Avx512F.FusedMultiplyAdd(w5, x5, a55); }
            if (TRows.Rows > 6) { var w6 = Vector512.Create(w[6]); a60 = Avx512F.FusedMultiplyAdd(w6, x0, a60); if (nv > 1) a61 = Avx512F.FusedMultiplyAdd(w6, x1, a61); if (nv > 2) a62 = Avx512F.FusedMultiplyAdd(w6, x2, a62); if (nv > 3) a63 = Avx512F.FusedMultiplyAdd(w6, x3, a63); if (nv > 4) a64 = Avx512F.FusedMultiplyAdd(w6, x4, a64); if (nv > 5) a65 = Avx512F.FusedMultiplyAdd(w6, x5, a65); }
            if (TRows.Rows > 7) { var w7 = Vector512.Create(w[7]); a70 = Avx512F.FusedMultiplyAdd(w7, x0, a70); if (nv > 1) a71 = Avx512F.FusedMultiplyAdd(w7, x1, a71); if (nv > 2) a72 = Avx512F.FusedMultiplyAdd(w7, x2, a72); if (nv > 3) a73 = Avx512F.FusedMultiplyAdd(w7, x3, a73); if (nv > 4) a74 = Avx512F.FusedMultiplyAdd(w7, x4, a74); if (nv > 5) a75 = Avx512F.FusedMultiplyAdd(w7, x5, a75); }
        }
        bool clamp = a->Activation != ActivationKind.None;
        var lo = Vector512.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector512.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
        { float* d = a->Grid + 0 * a->GridStride + g; TailVectors512.Store<TTail>(d, a00, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a01, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a02, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a03, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a04, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a05, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 1) { float* d = a->Grid + 1 * a->GridStride + g; TailVectors512.Store<TTail>(d, a10, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a11, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a12, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a13, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a14, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a15, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 2) { float* d = a->Grid + 2 * a->GridStride + g; TailVectors512.Store<TTail>(d, a20, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a21, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a22, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a23, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a24, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a25, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 3) { float* d = a->Grid + 3 * a->GridStride + g; TailVectors512.Store<TTail>(d, a30, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a31, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a32, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a33, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a34, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a35, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 4) { float* d = a->Grid + 4 * a->GridStride + g; TailVectors512.Store<TTail>(d, a40, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a41, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a42, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a43, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a44, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a45, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 5) { float* d = a->Grid + 5 * a->GridStride + g; TailVectors512.Store<TTail>(d, a50, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a51, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a52, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a53, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a54, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a55, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 6) { float* d = a->Grid + 6 * a->GridStride + g; TailVectors512.Store<TTail>(d, a60, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a61, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a62, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a63, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a64, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a65, 5, nv, mask, clamp, lo, hi); }
        if (TRows.Rows > 7) { float* d = a->Grid + 7 * a->GridStride + g; TailVectors512.Store<TTail>(d, a70, 0, nv, mask, clamp, lo, hi); if (nv > 1) TailVectors512.Store<TTail>(d, a71, 1, nv, mask, clamp, lo, hi); if (nv > 2) TailVectors512.Store<TTail>(d, a72, 2, nv, mask, clamp, lo, hi); if (nv > 3) TailVectors512.Store<TTail>(d, a73, 3, nv, mask, clamp, lo, hi); if (nv > 4) TailVectors512.Store<TTail>(d, a74, 4, nv, mask, clamp, lo, hi); if (nv > 5) TailVectors512.Store<TTail>(d, a75, 5, nv, mask, clamp, lo, hi); }
    }
}
