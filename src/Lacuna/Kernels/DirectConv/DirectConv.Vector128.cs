using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.DirectConv;

// Vector128 tiles (SSE / AdvSIMD): 4 lanes, multiply then add (FMA is not assumed below the AVX2 tier).
// 4x8 = 4 channels × 2 vectors (8 accumulators of the 16 registers); 1x16 is the depthwise tile.
internal static unsafe partial class DirectConv
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Clamp(Vector128<float> v, Vector128<float> lo, Vector128<float> hi) =>
        Vector128.MinNative(Vector128.MaxNative(v, lo), hi);

    [SkipLocalsInit]
    public static void Vector128Tile4x8(DirectConvArgs* a)
    {
        float* bias = a->Bias;
        Vector128<float> c00 = Vector128.Create(bias[0]), c01 = c00;
        Vector128<float> c10 = Vector128.Create(bias[1]), c11 = c10;
        Vector128<float> c20 = Vector128.Create(bias[2]), c21 = c20;
        Vector128<float> c30 = Vector128.Create(bias[3]), c31 = c30;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w += 4)
            {
                float* xp = x + offs[t];
                var x0 = Vector128.Load(xp);
                var x1 = Vector128.Load(xp + 4);
                var b = Vector128.Create(w[0]);
                c00 += x0 * b; c01 += x1 * b;
                b = Vector128.Create(w[1]);
                c10 += x0 * b; c11 += x1 * b;
                b = Vector128.Create(w[2]);
                c20 += x0 * b; c21 += x1 * b;
                b = Vector128.Create(w[3]);
                c30 += x0 * b; c31 += x1 * b;
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector128.Create(a->Min); var hi = Vector128.Create(a->Max);
            c00 = Clamp(c00, lo, hi); c01 = Clamp(c01, lo, hi); c10 = Clamp(c10, lo, hi); c11 = Clamp(c11, lo, hi);
            c20 = Clamp(c20, lo, hi); c21 = Clamp(c21, lo, hi); c30 = Clamp(c30, lo, hi); c31 = Clamp(c31, lo, hi);
        }
        bool full = a->ValidRows == 4 && a->ValidWidth == 8;
        float* tile = stackalloc float[4 * 8];
        float* o = full ? a->Output : tile;
        nint os = full ? a->OutputChannelStride : 8;
        c00.Store(o); c01.Store(o + 4); o += os;
        c10.Store(o); c11.Store(o + 4); o += os;
        c20.Store(o); c21.Store(o + 4); o += os;
        c30.Store(o); c31.Store(o + 4);
        if (!full) StorePartial(tile, 8, a);
    }

    [SkipLocalsInit]
    public static void Vector128Tile1x16(DirectConvArgs* a)
    {
        Vector128<float> c0 = Vector128.Create(a->Bias[0]), c1 = c0, c2 = c0, c3 = c0;
        float* x = a->Input, w = a->Weights;
        int* offs = a->TapOffsets;
        int taps = a->Taps;
        nint cs = a->ChannelStride;
        for (int c = a->Channels; c > 0; c--, x += cs)
        {
            for (int t = 0; t < taps; t++, w++)
            {
                float* xp = x + offs[t];
                var b = Vector128.Create(*w);
                c0 += Vector128.Load(xp) * b;
                c1 += Vector128.Load(xp + 4) * b;
                c2 += Vector128.Load(xp + 8) * b;
                c3 += Vector128.Load(xp + 12) * b;
            }
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector128.Create(a->Min); var hi = Vector128.Create(a->Max);
            c0 = Clamp(c0, lo, hi); c1 = Clamp(c1, lo, hi); c2 = Clamp(c2, lo, hi); c3 = Clamp(c3, lo, hi);
        }
        bool full = a->ValidRows == 1 && a->ValidWidth == 16;
        float* tile = stackalloc float[16];
        float* o = full ? a->Output : tile;
        c0.Store(o); c1.Store(o + 4); c2.Store(o + 8); c3.Store(o + 12);
        if (!full) StorePartial(tile, 16, a);
    }
}
