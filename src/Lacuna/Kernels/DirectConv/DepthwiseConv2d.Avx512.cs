using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.DirectConv;

// AVX-512 sweep: blocks of 4 × 16 wide outputs, one broadcast weight per tap feeding four FMAs.
internal static unsafe partial class DepthwiseConv2d
{
    public static void Avx512Sweep(DepthwiseArgs* a)
    {
        float* x = a->Planes, w = a->Weights, y = a->Output;
        int* offs = a->TapOffsets;
        int taps = a->Taps, count = a->Count;
        var bias = Vector512.Create(a->Bias);
        bool clamp = a->Activation != ActivationKind.None;
        var lo = Vector512.Create(a->Min);
        var hi = Vector512.Create(a->Max);
        for (int i = 0; i < count; i += 64)
        {
            Vector512<float> c0 = bias, c1 = bias, c2 = bias, c3 = bias;
            float* xi = x + i;
            for (int t = 0; t < taps; t++)
            {
                float* xp = xi + offs[t];
                var b = Vector512.Create(w[t]);
                c0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp), b, c0);
                c1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 16), b, c1);
                c2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 32), b, c2);
                c3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 48), b, c3);
            }
            if (clamp)
            {
                c0 = Avx512F.Min(Avx512F.Max(c0, lo), hi); c1 = Avx512F.Min(Avx512F.Max(c1, lo), hi);
                c2 = Avx512F.Min(Avx512F.Max(c2, lo), hi); c3 = Avx512F.Min(Avx512F.Max(c3, lo), hi);
            }
            float* yi = y + i;
            c0.Store(yi); c1.Store(yi + 16); c2.Store(yi + 32); c3.Store(yi + 48);
        }
    }
}
