namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>Scalar: 4 columns per pass.</summary>
    public static void ScalarPass4(SpmmArgs* a)
    {
        float* x = a->X, vals = a->Values;
        int* cols = a->Cols;
        long stride = a->Stride;
        float s0 = a->Bias, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < a->Count; i++)
        {
            float v = vals[i];
            float* p = x + cols[i] * stride;
            s0 += v * p[0]; s1 += v * p[1]; s2 += v * p[2]; s3 += v * p[3];
        }
        var act = new Activation(a->Activation, a->Min, a->Max);
        float* y = a->Y;
        int valid = a->Valid;
        if (valid > 0) y[0] = act.Apply(s0);
        if (valid > 1) y[1] = act.Apply(s1);
        if (valid > 2) y[2] = act.Apply(s2);
        if (valid > 3) y[3] = act.Apply(s3);
    }
}
