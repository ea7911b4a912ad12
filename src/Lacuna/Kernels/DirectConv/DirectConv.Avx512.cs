using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX-512 tiles: 32 vector registers and weights broadcast straight from memory into the FMA (EVEX embedded
// broadcast), so a tile can hold 16-24 accumulators and still spend about one load per FMA. Zen 4 runs a 512-bit
// FMA as two 256-bit halves, so a zmm tile is not faster per lane than a ymm one; what it buys is fewer
// instructions per FMA and more output channels per input load. 16x16 (16 zmm) and 8x32 (16 zmm) suit wide maps;
// 24x8 (24 ymm, EVEX-encoded so it needs the AVX-512 register file) wastes no lanes on 56-, 28- and 14-column maps
// and one in eight on 7-column ones; 1x64 is the depthwise tile. Edges store through lane masks.
// DirectConv.Avx512Channels.cs has the tiles with the channels in the lanes instead.
internal static unsafe partial class DirectConv
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Clamp(Vector512<float> v, Vector512<float> lo, Vector512<float> hi) =>
        Avx512F.Min(Avx512F.Max(v, lo), hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Bcast512(float* w) => Vector512.Create(*w);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Bcast256(float* w) => Vector256.Create(*w);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma512(Vector512<float> x, float* w, Vector512<float> c) => Avx512F.FusedMultiplyAdd(x, Bcast512(w), c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> x, float* w, Vector256<float> c) => Fma.MultiplyAdd(x, Bcast256(w), c);

    [SkipLocalsInit]
    public static void Avx512Tile16x16(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector512<float> c0 = Bcast512(bias), c1 = Bcast512(bias + 1), c2 = Bcast512(bias + 2), c3 = Bcast512(bias + 3);
        Vector512<float> c4 = Bcast512(bias + 4), c5 = Bcast512(bias + 5), c6 = Bcast512(bias + 6), c7 = Bcast512(bias + 7);
        Vector512<float> c8 = Bcast512(bias + 8), c9 = Bcast512(bias + 9), c10 = Bcast512(bias + 10), c11 = Bcast512(bias + 11);
        Vector512<float> c12 = Bcast512(bias + 12), c13 = Bcast512(bias + 13), c14 = Bcast512(bias + 14), c15 = Bcast512(bias + 15);
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 16)
            {
                var x0 = Avx512F.LoadVector512(x + offs[t]);
                c0 = Fma512(x0, w, c0); c1 = Fma512(x0, w + 1, c1); c2 = Fma512(x0, w + 2, c2); c3 = Fma512(x0, w + 3, c3);
                c4 = Fma512(x0, w + 4, c4); c5 = Fma512(x0, w + 5, c5); c6 = Fma512(x0, w + 6, c6); c7 = Fma512(x0, w + 7, c7);
                c8 = Fma512(x0, w + 8, c8); c9 = Fma512(x0, w + 9, c9); c10 = Fma512(x0, w + 10, c10); c11 = Fma512(x0, w + 11, c11);
                c12 = Fma512(x0, w + 12, c12); c13 = Fma512(x0, w + 13, c13); c14 = Fma512(x0, w + 14, c14); c15 = Fma512(x0, w + 15, c15);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector512.Create(a->Min); var hi = Vector512.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
            c4 = Clamp(c4, lo, hi); c5 = Clamp(c5, lo, hi); c6 = Clamp(c6, lo, hi); c7 = Clamp(c7, lo, hi);
            c8 = Clamp(c8, lo, hi); c9 = Clamp(c9, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c12 = Clamp(c12, lo, hi); c13 = Clamp(c13, lo, hi); c14 = Clamp(c14, lo, hi); c15 = Clamp(c15, lo, hi);
        }
        float* o = a->Output;
        nint os = a->OutputChannelStride;
        if (a->ValidRows == 16 && a->ValidWidth == 16)
        {
            c0.Store(o); c1.Store(o + os); c2.Store(o + 2 * os); c3.Store(o + 3 * os);
            o += 4 * os;
            c4.Store(o); c5.Store(o + os); c6.Store(o + 2 * os); c7.Store(o + 3 * os);
            o += 4 * os;
            c8.Store(o); c9.Store(o + os); c10.Store(o + 2 * os); c11.Store(o + 3 * os);
            o += 4 * os;
            c12.Store(o); c13.Store(o + os); c14.Store(o + 2 * os); c15.Store(o + 3 * os);
            return;
        }
        var m = LaneMask.First16(a->ValidWidth);
        int vr = a->ValidRows;
        Avx512F.MaskStore(o, m, c0); if (vr == 1) return; o += os;
        Avx512F.MaskStore(o, m, c1); if (vr == 2) return; o += os;
        Avx512F.MaskStore(o, m, c2); if (vr == 3) return; o += os;
        Avx512F.MaskStore(o, m, c3); if (vr == 4) return; o += os;
        Avx512F.MaskStore(o, m, c4); if (vr == 5) return; o += os;
        Avx512F.MaskStore(o, m, c5); if (vr == 6) return; o += os;
        Avx512F.MaskStore(o, m, c6); if (vr == 7) return; o += os;
        Avx512F.MaskStore(o, m, c7); if (vr == 8) return; o += os;
        Avx512F.MaskStore(o, m, c8); if (vr == 9) return; o += os;
        Avx512F.MaskStore(o, m, c9); if (vr == 10) return; o += os;
        Avx512F.MaskStore(o, m, c10); if (vr == 11) return; o += os;
        Avx512F.MaskStore(o, m, c11); if (vr == 12) return; o += os;
        Avx512F.MaskStore(o, m, c12); if (vr == 13) return; o += os;
        Avx512F.MaskStore(o, m, c13); if (vr == 14) return; o += os;
        Avx512F.MaskStore(o, m, c14); if (vr == 15) return; o += os;
        Avx512F.MaskStore(o, m, c15);
    }

    [SkipLocalsInit]
    public static void Avx512Tile8x32(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector512<float> c00 = Bcast512(bias), c01 = c00, c10 = Bcast512(bias + 1), c11 = c10;
        Vector512<float> c20 = Bcast512(bias + 2), c21 = c20, c30 = Bcast512(bias + 3), c31 = c30;
        Vector512<float> c40 = Bcast512(bias + 4), c41 = c40, c50 = Bcast512(bias + 5), c51 = c50;
        Vector512<float> c60 = Bcast512(bias + 6), c61 = c60, c70 = Bcast512(bias + 7), c71 = c70;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 8)
            {
                float* xp = x + offs[t];
                var x0 = Avx512F.LoadVector512(xp);
                var x1 = Avx512F.LoadVector512(xp + 16);
                var b = Bcast512(w);
                c00 = Avx512F.FusedMultiplyAdd(x0, b, c00); c01 = Avx512F.FusedMultiplyAdd(x1, b, c01);
                b = Bcast512(w + 1);
                c10 = Avx512F.FusedMultiplyAdd(x0, b, c10); c11 = Avx512F.FusedMultiplyAdd(x1, b, c11);
                b = Bcast512(w + 2);
                c20 = Avx512F.FusedMultiplyAdd(x0, b, c20); c21 = Avx512F.FusedMultiplyAdd(x1, b, c21);
                b = Bcast512(w + 3);
                c30 = Avx512F.FusedMultiplyAdd(x0, b, c30); c31 = Avx512F.FusedMultiplyAdd(x1, b, c31);
                b = Bcast512(w + 4);
                c40 = Avx512F.FusedMultiplyAdd(x0, b, c40); c41 = Avx512F.FusedMultiplyAdd(x1, b, c41);
                b = Bcast512(w + 5);
                c50 = Avx512F.FusedMultiplyAdd(x0, b, c50); c51 = Avx512F.FusedMultiplyAdd(x1, b, c51);
                b = Bcast512(w + 6);
                c60 = Avx512F.FusedMultiplyAdd(x0, b, c60); c61 = Avx512F.FusedMultiplyAdd(x1, b, c61);
                b = Bcast512(w + 7);
                c70 = Avx512F.FusedMultiplyAdd(x0, b, c70); c71 = Avx512F.FusedMultiplyAdd(x1, b, c71);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector512.Create(a->Min); var hi = Vector512.Create(a->Max);
            c00 = Clamp(c00, lo, hi); c01 = Clamp(c01, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c20 = Clamp(c20, lo, hi); c21 = Clamp(c21, lo, hi); c30 = Clamp(c30, lo, hi); c31 = Clamp(c31, lo, hi);
            c40 = Clamp(c40, lo, hi); c41 = Clamp(c41, lo, hi); c50 = Clamp(c50, lo, hi); c51 = Clamp(c51, lo, hi);
            c60 = Clamp(c60, lo, hi); c61 = Clamp(c61, lo, hi); c70 = Clamp(c70, lo, hi); c71 = Clamp(c71, lo, hi);
        }
        float* o = a->Output;
        nint os = a->OutputChannelStride;
        if (a->ValidRows == 8 && a->ValidWidth == 32)
        {
            c00.Store(o); c01.Store(o + 16); o += os;
            c10.Store(o); c11.Store(o + 16); o += os;
            c20.Store(o); c21.Store(o + 16); o += os;
            c30.Store(o); c31.Store(o + 16); o += os;
            c40.Store(o); c41.Store(o + 16); o += os;
            c50.Store(o); c51.Store(o + 16); o += os;
            c60.Store(o); c61.Store(o + 16); o += os;
            c70.Store(o); c71.Store(o + 16);
            return;
        }
        var m0 = LaneMask.First16(a->ValidWidth);
        var m1 = LaneMask.First16(a->ValidWidth - 16);
        int vr = a->ValidRows;
        Avx512F.MaskStore(o, m0, c00); Avx512F.MaskStore(o + 16, m1, c01); if (vr == 1) return; o += os;
        Avx512F.MaskStore(o, m0, c10); Avx512F.MaskStore(o + 16, m1, c11); if (vr == 2) return; o += os;
        Avx512F.MaskStore(o, m0, c20); Avx512F.MaskStore(o + 16, m1, c21); if (vr == 3) return; o += os;
        Avx512F.MaskStore(o, m0, c30); Avx512F.MaskStore(o + 16, m1, c31); if (vr == 4) return; o += os;
        Avx512F.MaskStore(o, m0, c40); Avx512F.MaskStore(o + 16, m1, c41); if (vr == 5) return; o += os;
        Avx512F.MaskStore(o, m0, c50); Avx512F.MaskStore(o + 16, m1, c51); if (vr == 6) return; o += os;
        Avx512F.MaskStore(o, m0, c60); Avx512F.MaskStore(o + 16, m1, c61); if (vr == 7) return; o += os;
        Avx512F.MaskStore(o, m0, c70); Avx512F.MaskStore(o + 16, m1, c71);
    }

    [SkipLocalsInit]
    public static void Avx512Tile24x8(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector256<float> c0 = Bcast256(bias), c1 = Bcast256(bias + 1), c2 = Bcast256(bias + 2), c3 = Bcast256(bias + 3);
        Vector256<float> c4 = Bcast256(bias + 4), c5 = Bcast256(bias + 5), c6 = Bcast256(bias + 6), c7 = Bcast256(bias + 7);
        Vector256<float> c8 = Bcast256(bias + 8), c9 = Bcast256(bias + 9), c10 = Bcast256(bias + 10), c11 = Bcast256(bias + 11);
        Vector256<float> c12 = Bcast256(bias + 12), c13 = Bcast256(bias + 13), c14 = Bcast256(bias + 14), c15 = Bcast256(bias + 15);
        Vector256<float> c16 = Bcast256(bias + 16), c17 = Bcast256(bias + 17), c18 = Bcast256(bias + 18), c19 = Bcast256(bias + 19);
        Vector256<float> c20 = Bcast256(bias + 20), c21 = Bcast256(bias + 21), c22 = Bcast256(bias + 22), c23 = Bcast256(bias + 23);
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 24)
            {
                var x0 = Avx.LoadVector256(x + offs[t]);
                c0 = Fma256(x0, w, c0); c1 = Fma256(x0, w + 1, c1); c2 = Fma256(x0, w + 2, c2); c3 = Fma256(x0, w + 3, c3);
                c4 = Fma256(x0, w + 4, c4); c5 = Fma256(x0, w + 5, c5); c6 = Fma256(x0, w + 6, c6); c7 = Fma256(x0, w + 7, c7);
                c8 = Fma256(x0, w + 8, c8); c9 = Fma256(x0, w + 9, c9); c10 = Fma256(x0, w + 10, c10); c11 = Fma256(x0, w + 11, c11);
                c12 = Fma256(x0, w + 12, c12); c13 = Fma256(x0, w + 13, c13); c14 = Fma256(x0, w + 14, c14); c15 = Fma256(x0, w + 15, c15);
                c16 = Fma256(x0, w + 16, c16); c17 = Fma256(x0, w + 17, c17); c18 = Fma256(x0, w + 18, c18); c19 = Fma256(x0, w + 19, c19);
                c20 = Fma256(x0, w + 20, c20); c21 = Fma256(x0, w + 21, c21); c22 = Fma256(x0, w + 22, c22); c23 = Fma256(x0, w + 23, c23);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector256.Create(a->Min); var hi = Vector256.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
            c4 = Clamp(c4, lo, hi); c5 = Clamp(c5, lo, hi); c6 = Clamp(c6, lo, hi); c7 = Clamp(c7, lo, hi);
            c8 = Clamp(c8, lo, hi); c9 = Clamp(c9, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c12 = Clamp(c12, lo, hi); c13 = Clamp(c13, lo, hi); c14 = Clamp(c14, lo, hi); c15 = Clamp(c15, lo, hi);
            c16 = Clamp(c16, lo, hi); c17 = Clamp(c17, lo, hi); c18 = Clamp(c18, lo, hi); c19 = Clamp(c19, lo, hi);
            c20 = Clamp(c20, lo, hi); c21 = Clamp(c21, lo, hi); c22 = Clamp(c22, lo, hi); c23 = Clamp(c23, lo, hi);
        }
        float* o = a->Output;
        nint os = a->OutputChannelStride;
        if (a->ValidRows == 24 && a->ValidWidth == 8)
        {
            c0.Store(o); c1.Store(o + os); c2.Store(o + 2 * os); c3.Store(o + 3 * os); o += 4 * os;
            c4.Store(o); c5.Store(o + os); c6.Store(o + 2 * os); c7.Store(o + 3 * os); o += 4 * os;
            c8.Store(o); c9.Store(o + os); c10.Store(o + 2 * os); c11.Store(o + 3 * os); o += 4 * os;
            c12.Store(o); c13.Store(o + os); c14.Store(o + 2 * os); c15.Store(o + 3 * os); o += 4 * os;
            c16.Store(o); c17.Store(o + os); c18.Store(o + 2 * os); c19.Store(o + 3 * os); o += 4 * os;
            c20.Store(o); c21.Store(o + os); c22.Store(o + 2 * os); c23.Store(o + 3 * os);
            return;
        }
        var m = LaneMask.First8(a->ValidWidth);
        int vr = a->ValidRows;
        Avx512F.VL.MaskStore(o, m, c0); if (vr == 1) return; o += os;
        Avx512F.VL.MaskStore(o, m, c1); if (vr == 2) return; o += os;
        Avx512F.VL.MaskStore(o, m, c2); if (vr == 3) return; o += os;
        Avx512F.VL.MaskStore(o, m, c3); if (vr == 4) return; o += os;
        Avx512F.VL.MaskStore(o, m, c4); if (vr == 5) return; o += os;
        Avx512F.VL.MaskStore(o, m, c5); if (vr == 6) return; o += os;
        Avx512F.VL.MaskStore(o, m, c6); if (vr == 7) return; o += os;
        Avx512F.VL.MaskStore(o, m, c7); if (vr == 8) return; o += os;
        Avx512F.VL.MaskStore(o, m, c8); if (vr == 9) return; o += os;
        Avx512F.VL.MaskStore(o, m, c9); if (vr == 10) return; o += os;
        Avx512F.VL.MaskStore(o, m, c10); if (vr == 11) return; o += os;
        Avx512F.VL.MaskStore(o, m, c11); if (vr == 12) return; o += os;
        Avx512F.VL.MaskStore(o, m, c12); if (vr == 13) return; o += os;
        Avx512F.VL.MaskStore(o, m, c13); if (vr == 14) return; o += os;
        Avx512F.VL.MaskStore(o, m, c14); if (vr == 15) return; o += os;
        Avx512F.VL.MaskStore(o, m, c15); if (vr == 16) return; o += os;
        Avx512F.VL.MaskStore(o, m, c16); if (vr == 17) return; o += os;
        Avx512F.VL.MaskStore(o, m, c17); if (vr == 18) return; o += os;
        Avx512F.VL.MaskStore(o, m, c18); if (vr == 19) return; o += os;
        Avx512F.VL.MaskStore(o, m, c19); if (vr == 20) return; o += os;
        Avx512F.VL.MaskStore(o, m, c20); if (vr == 21) return; o += os;
        Avx512F.VL.MaskStore(o, m, c21); if (vr == 22) return; o += os;
        Avx512F.VL.MaskStore(o, m, c22); if (vr == 23) return; o += os;
        Avx512F.VL.MaskStore(o, m, c23);
    }

    [SkipLocalsInit]
    public static void Avx512Tile1x64(DirectConvArgs* a)
    {
        Vector512<float> c0 = Bcast512(a->Bias), c1 = c0, c2 = c0, c3 = c0;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w++)
            {
                float* xp = x + offs[t];
                var b = Bcast512(w);
                c0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp), b, c0);
                c1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 16), b, c1);
                c2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 32), b, c2);
                c3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 48), b, c3);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector512.Create(a->Min); var hi = Vector512.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
        }
        float* o = a->Output;
        int vw = a->ValidWidth;
        if (vw == 64)
        {
            c0.Store(o); c1.Store(o + 16); c2.Store(o + 32); c3.Store(o + 48);
            return;
        }
        Avx512F.MaskStore(o, LaneMask.First16(vw), c0);
        if (vw > 16) Avx512F.MaskStore(o + 16, LaneMask.First16(vw - 16), c1);
        if (vw > 32) Avx512F.MaskStore(o + 32, LaneMask.First16(vw - 32), c2);
        if (vw > 48) Avx512F.MaskStore(o + 48, LaneMask.First16(vw - 48), c3);
    }
}
