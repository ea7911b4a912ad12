using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.DirectConv;

// Vector128 sweep (SSE / AdvSIMD): blocks of 4 × 4 wide outputs, multiply then add (no FMA assumed at this tier).
internal static unsafe partial class DepthwiseConv2d
{
    public static void Vector128Sweep(DepthwiseArgs* a)
    {
        float* x = a->Planes, w = a->Weights, y = a->Output;
        int* offs = a->TapOffsets;
        int taps = a->Taps, count = a->Count;
        var bias = Vector128.Create(a->Bias);
        bool clamp = a->Activation != ActivationKind.None;
        var lo = Vector128.Create(a->Min);
        var hi = Vector128.Create(a->Max);
        for (int i = 0; i < count; i += 16)
        {
            Vector128<float> c0 = bias, c1 = bias, c2 = bias, c3 = bias;
            float* xi = x + i;
            for (int t = 0; t < taps; t++)
            {
                float* xp = xi + offs[t];
                var b = Vector128.Create(w[t]);
                c0 += Vector128.Load(xp) * b;
                c1 += Vector128.Load(xp + 4) * b;
                c2 += Vector128.Load(xp + 8) * b;
                c3 += Vector128.Load(xp + 12) * b;
            }
            if (clamp)
            {
                c0 = Vector128.MinNative(Vector128.MaxNative(c0, lo), hi); c1 = Vector128.MinNative(Vector128.MaxNative(c1, lo), hi);
                c2 = Vector128.MinNative(Vector128.MaxNative(c2, lo), hi); c3 = Vector128.MinNative(Vector128.MaxNative(c3, lo), hi);
            }
            float* yi = y + i;
            c0.Store(yi); c1.Store(yi + 4); c2.Store(yi + 8); c3.Store(yi + 12);
        }
    }
}
