namespace Lacuna.Kernels.SparseConv;

internal static unsafe partial class SparseConv
{
    /// <summary>Scalar tier: 4 grid points per pass, then single points.</summary>
    public static void ScalarRow4(SparseConvArgs* a)
    {
        float* planes = a->Planes, vals = a->Values, grid = a->Grid;
        int* offs = a->Offsets;
        int g = a->Start, end = a->End, count = a->Count;
        var act = new Activation(a->Activation, a->Min, a->Max);
        for (; g + 4 <= end; g += 4)
        {
            float s0 = a->Bias, s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < count; i++)
            {
                float v = vals[i];
                float* p = planes + offs[i] + g;
                s0 += v * p[0]; s1 += v * p[1]; s2 += v * p[2]; s3 += v * p[3];
            }
            grid[g] = act.Apply(s0); grid[g + 1] = act.Apply(s1); grid[g + 2] = act.Apply(s2); grid[g + 3] = act.Apply(s3);
        }
        for (; g < end; g++)
        {
            float s = a->Bias;
            for (int i = 0; i < count; i++) s += vals[i] * planes[offs[i] + g];
            grid[g] = act.Apply(s);
        }
    }
}
