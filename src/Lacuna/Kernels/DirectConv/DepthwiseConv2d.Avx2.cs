using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX2 + FMA sweep: blocks of 4 × 8 wide outputs.
internal static unsafe partial class DepthwiseConv2d
{
    public static void Avx2Sweep(DepthwiseArgs* a)
    {
        float* x = a->Planes, w = a->Weights, y = a->Output;
        int* offs = a->TapOffsets;
        int taps = a->Taps, count = a->Count;
        var bias = Vector256.Create(a->Bias);
        bool clamp = a->Activation != ActivationKind.None;
        var lo = Vector256.Create(a->Min);
        var hi = Vector256.Create(a->Max);
        for (int i = 0; i < count; i += 32)
        {
            Vector256<float> c0 = bias, c1 = bias, c2 = bias, c3 = bias;
            float* xi = x + i;
            for (int t = 0; t < taps; t++)
            {
                float* xp = xi + offs[t];
                var b = Vector256.Create(w[t]);
                c0 = Fma.MultiplyAdd(Avx.LoadVector256(xp), b, c0);
                c1 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 8), b, c1);
                c2 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 16), b, c2);
                c3 = Fma.MultiplyAdd(Avx.LoadVector256(xp + 24), b, c3);
            }
            if (clamp)
            {
                c0 = Avx.Min(Avx.Max(c0, lo), hi); c1 = Avx.Min(Avx.Max(c1, lo), hi);
                c2 = Avx.Min(Avx.Max(c2, lo), hi); c3 = Avx.Min(Avx.Max(c3, lo), hi);
            }
            float* yi = y + i;
            c0.Store(yi); c1.Store(yi + 8); c2.Store(yi + 16); c3.Store(yi + 24);
        }
    }
}
