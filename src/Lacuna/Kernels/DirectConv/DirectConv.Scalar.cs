using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.DirectConv;

// Scalar tiles: the same loop nest with the tile held in a small stack array; the fallback when no
// vector hardware is enabled and the readable statement of what the vector tiles compute.
internal static unsafe partial class DirectConv
{
    public static void ScalarTile4x4(DirectConvArgs* a) => ScalarTile(a, 4, 4);

    public static void ScalarTile1x4(DirectConvArgs* a) => ScalarTile(a, 1, 4);

    [SkipLocalsInit]
    private static void ScalarTile(DirectConvArgs* a, int rows, int width)
    {
        float* acc = stackalloc float[rows * width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++) acc[r * width + j] = a->Bias[r];
        float* x = a->Input, w = a->Weights;
        for (int c = 0; c < a->Channels; c++, x += a->ChannelStride)
        {
            for (int t = 0; t < a->Taps; t++, w += rows)
            {
                float* xp = x + a->TapOffsets[t];
                for (int r = 0; r < rows; r++)
                {
                    float wv = w[r];
                    float* ar = acc + r * width;
                    for (int j = 0; j < width; j++) ar[j] += wv * xp[j];
                }
            }
        }
        var act = new Activation(a->Activation, a->Min, a->Max);
        for (int i = 0; i < rows * width; i++) acc[i] = act.Apply(acc[i]);
        StorePartial(acc, width, a);
    }
}
