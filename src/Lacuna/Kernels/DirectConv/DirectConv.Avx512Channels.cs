using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX-512 tiles with the output channels in the vector lanes: per tap one (or two) 16-channel weight vectors are
// loaded and each of the tile's columns is one input value broadcast into the FMA. A column tile can then be any
// width, so 14 columns fit the 14-, 28- and 56-column maps and 7 the 7-column ones with no wasted lanes (every
// column-vector tile wastes one lane in eight there). The price is a transposing store (channels × columns to the
// NCHW rows, a 16x16 transpose in registers per 16 channels).
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
        var z = Vector512<float>.Zero;
        TransposeStore(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, z, z,
            a->Output, a->OutputChannelStride, a->ValidRows, LaneMask.First16(a->ValidWidth));
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
        var z = Vector512<float>.Zero;
        var mask = LaneMask.First16(a->ValidWidth);
        float* o = a->Output;
        nint os = a->OutputChannelStride;
        int vr = a->ValidRows;
        TransposeStore(c00, c10, c20, c30, c40, c50, c60, z, z, z, z, z, z, z, z, z, o, os, vr, mask);
        if (vr > 16) TransposeStore(c01, c11, c21, c31, c41, c51, c61, z, z, z, z, z, z, z, z, z, o + 16 * os, os, vr - 16, mask);
    }

    /// <summary>
    /// Stores a 16-channel × 16-column tile held as one vector per column (aj[i] = channel i, column j) to the NCHW
    /// rows o + i·os, channels below <paramref name="rows"/>, columns where <paramref name="mask"/> is set: a 16x16
    /// transpose in registers (64 shuffles: 32-bit and 64-bit interleaves within 128-bit lanes, then two rounds
    /// of 128-bit lane shuffles) instead of 224 scalar moves through the stack.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeStore(
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7,
        Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11,
        Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15,
        float* o, nint os, int rows, Vector512<float> mask)
    {
        // b: pairs of columns interleaved; per 128-bit lane L, unpacklo holds channels 4L, 4L+1 and unpackhi 4L+2, 4L+3.
        var b0 = Avx512F.UnpackLow(a0, a1); var b1 = Avx512F.UnpackHigh(a0, a1);
        var b2 = Avx512F.UnpackLow(a2, a3); var b3 = Avx512F.UnpackHigh(a2, a3);
        var b4 = Avx512F.UnpackLow(a4, a5); var b5 = Avx512F.UnpackHigh(a4, a5);
        var b6 = Avx512F.UnpackLow(a6, a7); var b7 = Avx512F.UnpackHigh(a6, a7);
        var b8 = Avx512F.UnpackLow(a8, a9); var b9 = Avx512F.UnpackHigh(a8, a9);
        var b10 = Avx512F.UnpackLow(a10, a11); var b11 = Avx512F.UnpackHigh(a10, a11);
        var b12 = Avx512F.UnpackLow(a12, a13); var b13 = Avx512F.UnpackHigh(a12, a13);
        var b14 = Avx512F.UnpackLow(a14, a15); var b15 = Avx512F.UnpackHigh(a14, a15);
        // c[4g + q], lane L: columns 4g..4g+3 of channel 4L + q.
        var c0 = Avx512F.Shuffle(b0, b2, 0x44); var c1 = Avx512F.Shuffle(b0, b2, 0xEE);
        var c2 = Avx512F.Shuffle(b1, b3, 0x44); var c3 = Avx512F.Shuffle(b1, b3, 0xEE);
        var c4 = Avx512F.Shuffle(b4, b6, 0x44); var c5 = Avx512F.Shuffle(b4, b6, 0xEE);
        var c6 = Avx512F.Shuffle(b5, b7, 0x44); var c7 = Avx512F.Shuffle(b5, b7, 0xEE);
        var c8 = Avx512F.Shuffle(b8, b10, 0x44); var c9 = Avx512F.Shuffle(b8, b10, 0xEE);
        var c10 = Avx512F.Shuffle(b9, b11, 0x44); var c11 = Avx512F.Shuffle(b9, b11, 0xEE);
        var c12 = Avx512F.Shuffle(b12, b14, 0x44); var c13 = Avx512F.Shuffle(b12, b14, 0xEE);
        var c14 = Avx512F.Shuffle(b13, b15, 0x44); var c15 = Avx512F.Shuffle(b13, b15, 0xEE);
        RowsOfQuarter(c0, c4, c8, c12, o, os, rows, mask);
        RowsOfQuarter(c1, c5, c9, c13, o + os, os, rows - 1, mask);
        RowsOfQuarter(c2, c6, c10, c14, o + 2 * os, os, rows - 2, mask);
        RowsOfQuarter(c3, c7, c11, c15, o + 3 * os, os, rows - 3, mask);
    }

    /// <summary>
    /// Channels q, q+4, q+8, q+12 (o points at channel q's row; <paramref name="rows"/> counts from q): lane L of
    /// the result for channel 4L + q gathers lane L of each of the four column quarters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowsOfQuarter(Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3,
        float* o, nint os, int rows, Vector512<float> mask)
    {
        var d0 = Avx512F.Shuffle4x128(q0, q1, 0x88); var d1 = Avx512F.Shuffle4x128(q0, q1, 0xDD);
        var d2 = Avx512F.Shuffle4x128(q2, q3, 0x88); var d3 = Avx512F.Shuffle4x128(q2, q3, 0xDD);
        if (rows > 0) Avx512F.MaskStore(o, mask, Avx512F.Shuffle4x128(d0, d2, 0x88));
        if (rows > 4) Avx512F.MaskStore(o + 4 * os, mask, Avx512F.Shuffle4x128(d1, d3, 0x88));
        if (rows > 8) Avx512F.MaskStore(o + 8 * os, mask, Avx512F.Shuffle4x128(d0, d2, 0xDD));
        if (rows > 12) Avx512F.MaskStore(o + 12 * os, mask, Avx512F.Shuffle4x128(d1, d3, 0xDD));
    }
}
