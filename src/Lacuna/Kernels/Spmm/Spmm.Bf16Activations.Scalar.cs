namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>
    /// <see cref="ScalarTile"/> over a bf16 panel of X (<see cref="SpmmBf16Panel"/> with 4 lanes: the 4 columns are
    /// the low halves of one pair, whose high halves are zero padding).
    /// </summary>
    public static void ScalarTileBf16X<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        uint* x = (uint*)a->X;
        void* cols = a->Cols, vals = a->Values;
        nint stride = a->Stride / 2, ldy = a->Ldy;
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
                uint* p = x + TIndex.Get(cols, i) * stride;
                s0 += v * Low(p[0]); s1 += v * Low(p[1]); s2 += v * Low(p[2]); s3 += v * Low(p[3]);
            }
            if (valid > 0) y[0] = act.Apply(s0);
            if (valid > 1) y[1] = act.Apply(s1);
            if (valid > 2) y[2] = act.Apply(s2);
            if (valid > 3) y[3] = act.Apply(s3);
        }

        static float Low(uint pair) => BitConverter.UInt32BitsToSingle(pair << 16);
    }
}
