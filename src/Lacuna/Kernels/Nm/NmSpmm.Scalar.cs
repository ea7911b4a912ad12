namespace Lacuna.Kernels.Nm;

internal static unsafe partial class NmSpmm
{
    /// <summary>Scalar tile of R rows × 4 columns (<c>TVectors.Vectors</c> must be 1: a "vector" is 4 scalars here).</summary>
    public static void ScalarTile<TRows, TVectors>(NmArgs* a) where TRows : struct, INmRows where TVectors : struct, INmVectors
    {
        int rows = TRows.Rows, slots = a->Slots;
        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;
        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;
        int* cols = a->Cols;
        int stride = a->SlotStride;
        var act = a->Activate ? new Activation(a->Activation, a->Min, a->Max) : Activation.None;
        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)
            for (int r = 0; r < rows; r++)
            {
                float* yr = y + r * ldy;
                float s0 = bias[r], s1 = s0, s2 = s0, s3 = s0;
                if (a->Accumulate) { s0 = yr[0]; s1 = yr[1]; s2 = yr[2]; s3 = yr[3]; }
                float* wp = w + r;
                for (int s = 0; s < slots; s++, wp += ws)
                {
                    float v = *wp;
                    float* p = x + cols[s] * ldx;
                    s0 += v * p[0]; s1 += v * p[1]; s2 += v * p[2]; s3 += v * p[3];
                }
                yr[0] = act.Apply(s0); yr[1] = act.Apply(s1); yr[2] = act.Apply(s2); yr[3] = act.Apply(s3);
            }
    }
}
