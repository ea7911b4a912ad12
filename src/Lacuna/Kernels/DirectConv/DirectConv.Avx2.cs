using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX2 + FMA tiles: 8 lanes. 6x16 (12 accumulators, 2 loads + 6 broadcasts per 12 FMAs) is FMA-bound; 4x24 keeps 12 accumulators (4 channels × 3 vectors) so each tap costs
// 3 loads + 4 broadcasts per 12 FMAs; 8x8 suits narrow outputs (7, 14 columns); 1x32 is the depthwise tile
// (4 independent FMA chains hide the FMA latency).
internal static unsafe partial class DirectConv
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Clamp(Vector256<float> v, Vector256<float> lo, Vector256<float> hi) => Avx.Min(Avx.Max(v, lo), hi);

    [SkipLocalsInit]
    public static void Avx2Tile4x24(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector256<float> c00 = Vector256.Create(bias[0]), c01 = c00, c02 = c00;
        Vector256<float> c10 = Vector256.Create(bias[1]), c11 = c10, c12 = c10;
        Vector256<float> c20 = Vector256.Create(bias[2]), c21 = c20, c22 = c20;
        Vector256<float> c30 = Vector256.Create(bias[3]), c31 = c30, c32 = c30;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 4)
            {
                float* xp = x + offs[t];
                var x0 = Avx.LoadVector256(xp);
                var x1 = Avx.LoadVector256(xp + 8);
                var x2 = Avx.LoadVector256(xp + 16);
                var b = Avx.BroadcastScalarToVector256(w);
                c00 = Fma.MultiplyAdd(x0, b, c00); c01 = Fma.MultiplyAdd(x1, b, c01); c02 = Fma.MultiplyAdd(x2, b, c02);
                b = Avx.BroadcastScalarToVector256(w + 1);
                c10 = Fma.MultiplyAdd(x0, b, c10); c11 = Fma.MultiplyAdd(x1, b, c11); c12 = Fma.MultiplyAdd(x2, b, c12);
                b = Avx.BroadcastScalarToVector256(w + 2);
                c20 = Fma.MultiplyAdd(x0, b, c20); c21 = Fma.MultiplyAdd(x1, b, c21); c22 = Fma.MultiplyAdd(x2, b, c22);
                b = Avx.BroadcastScalarToVector256(w + 3);
                c30 = Fma.MultiplyAdd(x0, b, c30); c31 = Fma.MultiplyAdd(x1, b, c31); c32 = Fma.MultiplyAdd(x2, b, c32);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector256.Create(a->Min); var hi = Vector256.Create(a->Max);
            c00 = Clamp(c00, lo, hi); c01 = Clamp(c01, lo, hi); c02 = Clamp(c02, lo, hi);
            c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi); c12 = Clamp(c12, lo, hi);
            c20 = Clamp(c20, lo, hi); c21 = Clamp(c21, lo, hi); c22 = Clamp(c22, lo, hi);
            c30 = Clamp(c30, lo, hi); c31 = Clamp(c31, lo, hi); c32 = Clamp(c32, lo, hi);
        }
        bool full = a->ValidRows == 4 && a->ValidWidth == 24;
        float* tile = stackalloc float[4 * 24];
        float* o = full ? a->Output : tile;
        nint os = full ? a->OutputChannelStride : 24;
        c00.Store(o); c01.Store(o + 8); c02.Store(o + 16); o += os;
        c10.Store(o); c11.Store(o + 8); c12.Store(o + 16); o += os;
        c20.Store(o); c21.Store(o + 8); c22.Store(o + 16); o += os;
        c30.Store(o); c31.Store(o + 8); c32.Store(o + 16);
        if (!full) StorePartial(tile, 24, a);
    }

    [SkipLocalsInit]
    public static void Avx2Tile6x16(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector256<float> c00 = Vector256.Create(bias[0]), c01 = c00, c10 = Vector256.Create(bias[1]), c11 = c10;
        Vector256<float> c20 = Vector256.Create(bias[2]), c21 = c20, c30 = Vector256.Create(bias[3]), c31 = c30;
        Vector256<float> c40 = Vector256.Create(bias[4]), c41 = c40, c50 = Vector256.Create(bias[5]), c51 = c50;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 6)
            {
                float* xp = x + offs[t];
                var x0 = Avx.LoadVector256(xp);
                var x1 = Avx.LoadVector256(xp + 8);
                var b = Avx.BroadcastScalarToVector256(w);
                c00 = Fma.MultiplyAdd(x0, b, c00); c01 = Fma.MultiplyAdd(x1, b, c01);
                b = Avx.BroadcastScalarToVector256(w + 1);
                c10 = Fma.MultiplyAdd(x0, b, c10); c11 = Fma.MultiplyAdd(x1, b, c11);
                b = Avx.BroadcastScalarToVector256(w + 2);
                c20 = Fma.MultiplyAdd(x0, b, c20); c21 = Fma.MultiplyAdd(x1, b, c21);
                b = Avx.BroadcastScalarToVector256(w + 3);
                c30 = Fma.MultiplyAdd(x0, b, c30); c31 = Fma.MultiplyAdd(x1, b, c31);
                b = Avx.BroadcastScalarToVector256(w + 4);
                c40 = Fma.MultiplyAdd(x0, b, c40); c41 = Fma.MultiplyAdd(x1, b, c41);
                b = Avx.BroadcastScalarToVector256(w + 5);
                c50 = Fma.MultiplyAdd(x0, b, c50); c51 = Fma.MultiplyAdd(x1, b, c51);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector256.Create(a->Min); var hi = Vector256.Create(a->Max);
            c00 = Clamp(c00, lo, hi); c01 = Clamp(c01, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c20 = Clamp(c20, lo, hi); c21 = Clamp(c21, lo, hi); c30 = Clamp(c30, lo, hi); c31 = Clamp(c31, lo, hi);
            c40 = Clamp(c40, lo, hi); c41 = Clamp(c41, lo, hi); c50 = Clamp(c50, lo, hi); c51 = Clamp(c51, lo, hi);
        }
        bool full = a->ValidRows == 6 && a->ValidWidth == 16;
        float* tile = stackalloc float[6 * 16];
        float* o = full ? a->Output : tile;
        nint os = full ? a->OutputChannelStride : 16;
        c00.Store(o); c01.Store(o + 8); o += os;
        c10.Store(o); c11.Store(o + 8); o += os;
        c20.Store(o); c21.Store(o + 8); o += os;
        c30.Store(o); c31.Store(o + 8); o += os;
        c40.Store(o); c41.Store(o + 8); o += os;
        c50.Store(o); c51.Store(o + 8);
        if (!full) StorePartial(tile, 16, a);
    }

    [SkipLocalsInit]
    public static void Avx2Tile8x8(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector256<float> c0 = Vector256.Create(bias[0]), c1 = Vector256.Create(bias[1]);
        Vector256<float> c2 = Vector256.Create(bias[2]), c3 = Vector256.Create(bias[3]);
        Vector256<float> c4 = Vector256.Create(bias[4]), c5 = Vector256.Create(bias[5]);
        Vector256<float> c6 = Vector256.Create(bias[6]), c7 = Vector256.Create(bias[7]);
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 8)
            {
                var x0 = Avx.LoadVector256(x + offs[t]);
                c0 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w), c0);
                c1 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 1), c1);
                c2 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 2), c2);
                c3 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 3), c3);
                c4 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 4), c4);
                c5 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 5), c5);
                c6 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 6), c6);
                c7 = Fma.MultiplyAdd(x0, Avx.BroadcastScalarToVector256(w + 7), c7);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector256.Create(a->Min); var hi = Vector256.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
            c4 = Clamp(c4, lo, hi); c5 = Clamp(c5, lo, hi); c6 = Clamp(c6, lo, hi); c7 = Clamp(c7, lo, hi);
        }
        bool full = a->ValidRows == 8 && a->ValidWidth == 8;
        float* tile = stackalloc float[8 * 8];
        float* o = full ? a->Output : tile;
        nint os = full ? a->OutputChannelStride : 8;
        c0.Store(o); c1.Store(o + os); c2.Store(o + 2 * os); c3.Store(o + 3 * os);
        c4.Store(o + 4 * os); c5.Store(o + 5 * os); c6.Store(o + 6 * os); c7.Store(o + 7 * os);
        if (!full) StorePartial(tile, 8, a);
    }

    [SkipLocalsInit]
    public static void Avx2Tile1x32(DirectConvArgs* a)
    {
        Vector256<float> c0 = Vector256.Create(a->Bias[0]), c1 = c0, c2 = c0, c3 = c0;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w++)
            {
                float* xp = x + offs[t];
                var b = Avx.BroadcastScalarToVector256(w);
                c0 = Fma.MultiplyAdd(Avx.LoadVector256(xp), b, c0);
                c1 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 8), b, c1);
                c2 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 16), b, c2);
                c3 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 24), b, c3);
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector256.Create(a->Min); var hi = Vector256.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
        }
        bool full = a->ValidRows == 1 && a->ValidWidth == 32;
        float* tile = stackalloc float[32];
        float* o = full ? a->Output : tile;
        c0.Store(o); c1.Store(o + 8); c2.Store(o + 16); c3.Store(o + 24);
        if (!full) StorePartial(tile, 32, a);
    }
}
