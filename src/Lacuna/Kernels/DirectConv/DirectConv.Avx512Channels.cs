using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX-512 tiles with the output channels in the vector lanes: per tap one (or two) 16-channel weight vectors are
// loaded and each of the tile's columns is one input value broadcast into the FMA. A column tile can then be any
// width, so 14 columns fit the 14-, 28- and 56-column maps and 7 the 7-column ones with no wasted lanes (every
// column-vector tile wastes one lane in eight there). The price is a transposing store (channels × columns to the
// NCHW rows), small beside a 3x3 conv's Cg·9 taps per tile but not beside a 1x1's Cg, so these are for several taps.
internal static unsafe partial class DirectConv
{
    [SkipLocalsInit]
    public static void Avx512Tile16x14(DirectConvArgs* a)
    {
        var bias = Avx512F.LoadVector512(a->Bias);
        Vector512<float> c0 = bias, c1 = bias, c2 = bias, c3 = bias, c4 = bias, c5 = bias, c6 = bias;
        Vector512<float> c7 = bias, c8 = bias, c9 = bias, c10 = bias, c11 = bias, c12 = bias, c13 = bias;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 16)
            {
                float* xp = x + offs[t];
                var wv = Avx512F.LoadVector512(w);
                c0 = Fma512(wv, xp, c0); c1 = Fma512(wv, xp + 1, c1); c2 = Fma512(wv, xp + 2, c2); c3 = Fma512(wv, xp + 3, c3);
                c4 = Fma512(wv, xp + 4, c4); c5 = Fma512(wv, xp + 5, c5); c6 = Fma512(wv, xp + 6, c6); c7 = Fma512(wv, xp + 7, c7);
                c8 = Fma512(wv, xp + 8, c8); c9 = Fma512(wv, xp + 9, c9); c10 = Fma512(wv, xp + 10, c10);
                c11 = Fma512(wv, xp + 11, c11); c12 = Fma512(wv, xp + 12, c12); c13 = Fma512(wv, xp + 13, c13);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector512.Create(a->Min); var hi = Vector512.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
            c4 = Clamp(c4, lo, hi); c5 = Clamp(c5, lo, hi); c6 = Clamp(c6, lo, hi); c7 = Clamp(c7, lo, hi);
            c8 = Clamp(c8, lo, hi); c9 = Clamp(c9, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c12 = Clamp(c12, lo, hi); c13 = Clamp(c13, lo, hi);
        }
        float* tile = stackalloc float[14 * 16];
        c0.Store(tile); c1.Store(tile + 16); c2.Store(tile + 32); c3.Store(tile + 48); c4.Store(tile + 64);
        c5.Store(tile + 80); c6.Store(tile + 96); c7.Store(tile + 112); c8.Store(tile + 128); c9.Store(tile + 144);
        c10.Store(tile + 160); c11.Store(tile + 176); c12.Store(tile + 192); c13.Store(tile + 208);
        StoreTransposed(tile, 16, a);
    }

    [SkipLocalsInit]
    public static void Avx512Tile32x7(DirectConvArgs* a)
    {
        var bias0 = Avx512F.LoadVector512(a->Bias);
        var bias1 = Avx512F.LoadVector512(a->Bias + 16);
        Vector512<float> c00 = bias0, c10 = bias0, c20 = bias0, c30 = bias0, c40 = bias0, c50 = bias0, c60 = bias0;
        Vector512<float> c01 = bias1, c11 = bias1, c21 = bias1, c31 = bias1, c41 = bias1, c51 = bias1, c61 = bias1;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 32)
            {
                float* xp = x + offs[t];
                var w0 = Avx512F.LoadVector512(w);
                var w1 = Avx512F.LoadVector512(w + 16);
                var b = Bcast512(xp);
                c00 = Avx512F.FusedMultiplyAdd(w0, b, c00); c01 = Avx512F.FusedMultiplyAdd(w1, b, c01);
                b = Bcast512(xp + 1);
                c10 = Avx512F.FusedMultiplyAdd(w0, b, c10); c11 = Avx512F.FusedMultiplyAdd(w1, b, c11);
                b = Bcast512(xp + 2);
                c20 = Avx512F.FusedMultiplyAdd(w0, b, c20); c21 = Avx512F.FusedMultiplyAdd(w1, b, c21);
                b = Bcast512(xp + 3);
                c30 = Avx512F.FusedMultiplyAdd(w0, b, c30); c31 = Avx512F.FusedMultiplyAdd(w1, b, c31);
                b = Bcast512(xp + 4);
                c40 = Avx512F.FusedMultiplyAdd(w0, b, c40); c41 = Avx512F.FusedMultiplyAdd(w1, b, c41);
                b = Bcast512(xp + 5);
                c50 = Avx512F.FusedMultiplyAdd(w0, b, c50); c51 = Avx512F.FusedMultiplyAdd(w1, b, c51);
                b = Bcast512(xp + 6);
                c60 = Avx512F.FusedMultiplyAdd(w0, b, c60); c61 = Avx512F.FusedMultiplyAdd(w1, b, c61);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector512.Create(a->Min); var hi = Vector512.Create(a->Max);
            c00 = Clamp(c00, lo, hi); c10 = Clamp(c10, lo, hi); c20 = Clamp(c20, lo, hi); c30 = Clamp(c30, lo, hi);
            c40 = Clamp(c40, lo, hi); c50 = Clamp(c50, lo, hi); c60 = Clamp(c60, lo, hi);
            c01 = Clamp(c01, lo, hi); c11 = Clamp(c11, lo, hi); c21 = Clamp(c21, lo, hi); c31 = Clamp(c31, lo, hi);
            c41 = Clamp(c41, lo, hi); c51 = Clamp(c51, lo, hi); c61 = Clamp(c61, lo, hi);
        }
        float* tile = stackalloc float[7 * 32];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208);
        StoreTransposed(tile, 32, a);
    }

    /// <summary>
    /// Stores the valid corner of a column-major tile (tile[j·rows + r] = channel r, column j) to the NCHW rows,
    /// element by element: a few hundred moves per tile against its Cg·taps·columns FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreTransposed(float* tile, int rows, DirectConvArgs* a)
    {
        int vr = a->ValidRows, vw = a->ValidWidth;
        float* o = a->Output;
        nint os = a->OutputChannelStride;
        for (int r = 0; r < vr; r++, o += os)
            for (int j = 0; j < vw; j++) o[j] = tile[j * rows + r];
    }
}
