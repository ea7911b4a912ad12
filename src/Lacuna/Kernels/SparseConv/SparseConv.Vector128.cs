using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.SparseConv;

internal static unsafe partial class SparseConv
{
    /// <summary>Vector128 tier: 4 vectors (16 grid points) per pass; the tail is a full tile stored partially.</summary>
    public static void Vector128Row16(SparseConvArgs* a)
    {
        float* planes = a->Planes, vals = a->Values, grid = a->Grid;
        int* offs = a->Offsets;
        int count = a->Count;
        var bias = Vector128.Create(a->Bias);
        var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector128.Create(a->Max);
        bool clamp = a->Activation != ActivationKind.None;
        float* tail = stackalloc float[16];
        for (int g = a->Start; g < a->End; g += 16)
        {
            Vector128<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
            for (int i = 0; i < count; i++)
            {
                var v = Vector128.Create(vals[i]);
                float* p = planes + offs[i] + g;
                s0 += v * Vector128.Load(p);
                s1 += v * Vector128.Load(p + 4);
                s2 += v * Vector128.Load(p + 8);
                s3 += v * Vector128.Load(p + 12);
            }
            if (clamp)
            {
                s0 = Vector128.Min(Vector128.Max(s0, lo), hi); s1 = Vector128.Min(Vector128.Max(s1, lo), hi);
                s2 = Vector128.Min(Vector128.Max(s2, lo), hi); s3 = Vector128.Min(Vector128.Max(s3, lo), hi);
            }
            int n = Math.Min(16, a->End - g);
            float* dst = n == 16 ? grid + g : tail;
            s0.Store(dst); s1.Store(dst + 4); s2.Store(dst + 8); s3.Store(dst + 12);
            if (n < 16) new ReadOnlySpan<float>(tail, n).CopyTo(new Span<float>(grid + g, n));
        }
    }
}
