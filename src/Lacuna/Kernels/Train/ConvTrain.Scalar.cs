namespace Lacuna.Kernels.Train;

// Scalar tier: the same loops one float at a time; the sparse kernels test each operand value against zero.
internal static unsafe partial class ConvTrain
{
    public static void ScalarRowsSparse(ConvTrainRowArgs* a) => ScalarRows(a, skipZeros: true);

    public static void ScalarRowsDense(ConvTrainRowArgs* a) => ScalarRows(a, skipZeros: false);

    private static void ScalarRows(ConvTrainRowArgs* a, bool skipZeros)
    {
        int seg = a->KW * 8;
        for (int ow = 0; ow < a->Width; ow++)
        {
            float* acc = a->Acc + ow * 64;
            for (int r = 0; r < a->KH; r++)
            {
                float* x = a->Input + r * a->RowStride + ow * 8;
                float* w = a->Weights + r * seg * 64;
                for (int j = 0; j < seg; j++)
                {
                    float v = x[j];
                    if (skipZeros && v == 0f) continue;
                    float* wj = w + j * 64;
                    for (int q = 0; q < 64; q++) acc[q] += v * wj[q];
                }
            }
        }
    }

    public static void ScalarWeightsSparse(ConvTrainWeightArgs* a) => ScalarWeights(a, skipZeros: true);

    public static void ScalarWeightsDense(ConvTrainWeightArgs* a) => ScalarWeights(a, skipZeros: false);

    private static void ScalarWeights(ConvTrainWeightArgs* a, bool skipZeros)
    {
        for (int row = 0; row < a->Rows; row++)
        {
            float* xr = a->X + row * a->XRowStride, dr = a->Dy + row * a->DyRowStride;
            for (int iw = 0; iw < a->Width; iw++)
            {
                float v = xr[iw];
                if (skipZeros && v == 0f) continue;
                float* d = dr + iw * 8;
                for (int s = 0; s < 9; s++)
                {
                    float* acc = a->Acc + s * 8, ds = d + a->Offsets[s / 3] + a->Offsets[3 + s % 3];
                    for (int q = 0; q < 8; q++) acc[q] += v * ds[q];
                }
            }
        }
    }
}
