namespace Lacuna.Kernels.Tasd;

internal static unsafe partial class TasdActivationSpmm
{
    /// <summary>Scalar tile of 4 output rows (see <see cref="TasdActArgs"/>).</summary>
    public static void ScalarTile(TasdActArgs* a)
    {
        nint ldw = a->Ldw, ldy = a->Ldy;
        float* w = a->Wt, bias = a->Bias, y = a->Y, vals = a->Values;
        int* rows = a->Rows, begin = a->Begin, end = a->End;
        int cap = a->Capacity;
        var act = a->Activate ? new Activation(a->Activation, a->Min, a->Max) : Activation.None;
        for (int c = 0; c < a->Columns; c++, rows += cap, vals += cap, y += ldy)
        {
            float* init = a->Accumulate ? y : bias;
            float s0 = init[0], s1 = init[1], s2 = init[2], s3 = init[3];
            for (int e = begin[c]; e < end[c]; e++)
            {
                float v = vals[e];
                float* p = w + rows[e] * ldw;
                s0 += v * p[0]; s1 += v * p[1]; s2 += v * p[2]; s3 += v * p[3];
            }
            y[0] = act.Apply(s0); y[1] = act.Apply(s1); y[2] = act.Apply(s2); y[3] = act.Apply(s3);
        }
    }
}
