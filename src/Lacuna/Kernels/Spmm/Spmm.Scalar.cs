namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>Scalar rows over 4 columns (<c>TTile.Vectors</c> must be 1: a "vector" is 4 scalars here).</summary>
    public static void ScalarTile<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        float* x = a->X;
        void* cols = a->Cols, vals = a->Values;
        nint stride = a->Stride, ldy = a->Ldy;
        int valid = a->Valid;
        var act = a->Activate ? new Activation(a->Activation, a->Min, a->Max) : Activation.None;
        float* y = a->Y + a->M0 * ldy;
        for (int m = a->M0; m < a->M1; m++, y += ldy)
        {
            float s0 = a->Bias[m], s1 = s0, s2 = s0, s3 = s0;
            if (a->Accumulate)
            {
                s0 = valid > 0 ? y[0] : 0f; s1 = valid > 1 ? y[1] : 0f; s2 = valid > 2 ? y[2] : 0f; s3 = valid > 3 ? y[3] : 0f;
            }
            for (int i = a->Starts[m], end = a->Ends[m]; i < end; i++)
            {
                float v = TWeight.Get(vals, i);
                float* p = x + TIndex.Get(cols, i) * stride;
                s0 += v * p[0]; s1 += v * p[1]; s2 += v * p[2]; s3 += v * p[3];
            }
            if (valid > 0) y[0] = act.Apply(s0);
            if (valid > 1) y[1] = act.Apply(s1);
            if (valid > 2) y[2] = act.Apply(s2);
            if (valid > 3) y[3] = act.Apply(s3);
        }
    }
}
