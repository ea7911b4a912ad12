using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.BlockConv;

internal static unsafe partial class BlockConv
{
    /// <summary>
    /// AVX2+FMA tier: TRows (≤ 4) channels × 3 ymm (24 grid points) per pass, 12 accumulators as in the block SpMM's
    /// 4x3 body; the remainder as one pass of 1-3 vectors, the last under a lane mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2<TRows>(BlockConvArgs* a) where TRows : struct, IBlockRows
    {
        int g = a->Start, end = a->End;
        for (; g + 24 <= end; g += 24) Avx2Pass<TRows, Tile3>(a, g, 24);
        int rest = end - g;
        if (rest <= 0) return;
        switch ((rest + 7) >> 3)
        {
            case 1: Avx2Pass<TRows, Tile1>(a, g, rest); break;
            case 2: Avx2Pass<TRows, Tile2>(a, g, rest); break;
            default: Avx2Pass<TRows, Tile3>(a, g, rest); break;
        }
    }

    /// <summary>One pass over grid points [g, g + valid), valid in ((Vectors − 1)·8, Vectors·8].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2Pass<TRows, TTile>(BlockConvArgs* a, int g, int valid)
        where TRows : struct, IBlockRows where TTile : struct, ISpmmTile
    {
        int nv = TTile.Vectors, rows = TRows.Rows, count = a->Count;
        float* planes = a->Planes + g, bias = a->Bias;
        int* offs = a->Offsets;
        bool masked = valid < nv * 8;
        var mask = LaneMask.First8(valid - (nv - 1) * 8);
        Vector256<float> a00 = Vector256.Create(bias[0]), a01 = a00, a02 = a00;
        Vector256<float> a10 = TRows.Rows > 1 ? Vector256.Create(bias[1]) : default, a11 = a10, a12 = a10;
        Vector256<float> a20 = TRows.Rows > 2 ? Vector256.Create(bias[2]) : default, a21 = a20, a22 = a20;
        Vector256<float> a30 = TRows.Rows > 3 ? Vector256.Create(bias[3]) : default, a31 = a30, a32 = a30;
        float* w = a->Weights;
        for (int i = 0; i < count; i++, w += rows)
        {
            float* p = planes + offs[i];
            var x0 = Load256(p, 0, nv, masked, mask);
            var x1 = nv > 1 ? Load256(p, 1, nv, masked, mask) : default;
            var x2 = nv > 2 ? Load256(p, 2, nv, masked, mask) : default;
            { var w0 = Vector256.Create(w[0]); a00 = Fma.MultiplyAdd(w0, x0, a00); if (nv > 1) a01 = Fma.MultiplyAdd(w0, x1, a01); if (nv > 2) a02 = Fma.MultiplyAdd(w0, x2, a02); }
            if (TRows.Rows > 1) { var w1 = Vector256.Create(w[1]); a10 = Fma.MultiplyAdd(w1, x0, a10); if (nv > 1) a11 = Fma.MultiplyAdd(w1, x1, a11); if (nv > 2) a12 = Fma.MultiplyAdd(w1, x2, a12); }
            if (TRows.Rows > 2) { var w2 = Vector256.Create(w[2]); a20 = Fma.MultiplyAdd(w2, x0, a20); if (nv > 1) a21 = Fma.MultiplyAdd(w2, x1, a21); if (nv > 2) a22 = Fma.MultiplyAdd(w2, x2, a22); }
            if (TRows.Rows > 3) { var w3 = Vector256.Create(w[3]); a30 = Fma.MultiplyAdd(w3, x0, a30); if (nv > 1) a31 = Fma.MultiplyAdd(w3, x1, a31); if (nv > 2) a32 = Fma.MultiplyAdd(w3, x2, a32); }
        }
        bool clamp = a->Activation != ActivationKind.None;
        var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
        { float* d = a->Grid + 0 * a->GridStride + g; Put256(d, a00, 0, nv, masked, mask, clamp, lo, hi); if (nv > 1) Put256(d, a01, 1, nv, masked, mask, clamp, lo, hi); if (nv > 2) Put256(d, a02, 2, nv, masked, mask, clamp, lo, hi); }
        if (TRows.Rows > 1) { float* d = a->Grid + 1 * a->GridStride + g; Put256(d, a10, 0, nv, masked, mask, clamp, lo, hi); if (nv > 1) Put256(d, a11, 1, nv, masked, mask, clamp, lo, hi); if (nv > 2) Put256(d, a12, 2, nv, masked, mask, clamp, lo, hi); }
        if (TRows.Rows > 2) { float* d = a->Grid + 2 * a->GridStride + g; Put256(d, a20, 0, nv, masked, mask, clamp, lo, hi); if (nv > 1) Put256(d, a21, 1, nv, masked, mask, clamp, lo, hi); if (nv > 2) Put256(d, a22, 2, nv, masked, mask, clamp, lo, hi); }
        if (TRows.Rows > 3) { float* d = a->Grid + 3 * a->GridStride + g; Put256(d, a30, 0, nv, masked, mask, clamp, lo, hi); if (nv > 1) Put256(d, a31, 1, nv, masked, mask, clamp, lo, hi); if (nv > 2) Put256(d, a32, 2, nv, masked, mask, clamp, lo, hi); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load256(float* p, int j, int nv, bool masked, Vector256<float> mask) =>
        masked && j == nv - 1 ? Avx.MaskLoad(p + j * 8, mask) : Avx.LoadVector256(p + j * 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put256(float* dst, Vector256<float> s, int j, int nv, bool masked, Vector256<float> mask, bool clamp,
        Vector256<float> lo, Vector256<float> hi)
    {
        if (clamp) s = Avx.Min(Avx.Max(s, lo), hi);
        if (masked && j == nv - 1) Avx.MaskStore(dst + j * 8, mask, s);
        else Avx.Store(dst + j * 8, s);
    }
}
