using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>Vector128: 16 columns (4 accumulators) per pass; multiply then add (this tier may lack FMA).</summary>
    public static void Vector128Pass16(SpmmArgs* a)
    {
        float* x = a->X, vals = a->Values;
        int* cols = a->Cols;
        long stride = a->Stride;
        int count = a->Count;
        var bias = Vector128.Create(a->Bias);
        Vector128<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
        for (int i = 0; i < count; i++)
        {
            var v = Vector128.Create(vals[i]);
            float* p = x + cols[i] * stride;
            s0 += v * Vector128.Load(p);
            s1 += v * Vector128.Load(p + 4);
            s2 += v * Vector128.Load(p + 8);
            s3 += v * Vector128.Load(p + 12);
        }
        if (a->Activation != ActivationKind.None)
        {
            var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
            var hi = Vector128.Create(a->Max);
            s0 = Vector128.Min(Vector128.Max(s0, lo), hi); s1 = Vector128.Min(Vector128.Max(s1, lo), hi);
            s2 = Vector128.Min(Vector128.Max(s2, lo), hi); s3 = Vector128.Min(Vector128.Max(s3, lo), hi);
        }
        if (a->Valid >= 16)
        {
            s0.Store(a->Y); s1.Store(a->Y + 4); s2.Store(a->Y + 8); s3.Store(a->Y + 12);
            return;
        }
        float* tmp = stackalloc float[16];
        s0.Store(tmp); s1.Store(tmp + 4); s2.Store(tmp + 8); s3.Store(tmp + 12);
        new ReadOnlySpan<float>(tmp, a->Valid).CopyTo(new Span<float>(a->Y, a->Valid));
    }
}
