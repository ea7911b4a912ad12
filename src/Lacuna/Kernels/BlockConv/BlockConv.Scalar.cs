namespace Lacuna.Kernels.BlockConv;

internal static unsafe partial class BlockConv
{
    /// <summary>Scalar tier: one grid point at a time, TRows channels per point (each loaded input feeds TRows products).</summary>
    public static void Scalar<TRows>(BlockConvArgs* a) where TRows : struct, IBlockRows => ScalarPoints<TRows>(a, a->Start, a->End);

    /// <summary>Grid points [g0, g1) of every channel of the group; also the Vector128 tile's remainder.</summary>
    private static void ScalarPoints<TRows>(BlockConvArgs* a, int g0, int g1) where TRows : struct, IBlockRows
    {
        int rows = TRows.Rows, count = a->Count;
        int* offs = a->Offsets;
        var act = new Activation(a->Activation, a->Min, a->Max);
        float* s = stackalloc float[rows];
        for (int g = g0; g < g1; g++)
        {
            for (int r = 0; r < rows; r++) s[r] = a->Bias[r];
            float* w = a->Weights;
            for (int i = 0; i < count; i++, w += rows)
            {
                float x = a->Planes[offs[i] + g];
                for (int r = 0; r < rows; r++) s[r] += w[r] * x;
            }
            for (int r = 0; r < rows; r++) a->Grid[r * a->GridStride + g] = act.Apply(s[r]);
        }
    }
}
