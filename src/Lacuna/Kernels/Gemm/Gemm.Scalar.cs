using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lacuna.Kernels;

// Scalar tile 4x4 (16 accumulators in a stack tile) and the edge tail every tier shares: the readable
// statement of what the vector tiles compute.
public static unsafe partial class Gemm
{
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ScalarTile4x4(GemmTileArgs* t)
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        float* a = t->A, b = t->B;
        for (int k = t->Kc; k > 0; k--, a += 4, b += 4)
        {
            for (int i = 0; i < 4; i++)
            {
                float av = a[i];
                float* row = acc + 4 * i;
                row[0] += av * b[0]; row[1] += av * b[1]; row[2] += av * b[2]; row[3] += av * b[3];
            }
        }
        StoreEdgeTile(acc, 4, t);
    }

    /// <summary>
    /// The epilogue for a tile held in memory (tile[i·nr + j], raw accumulators): applied to the valid
    /// ValidRows × ValidCols part. Used by edge tiles and the scalar tier.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreEdgeTile(float* tile, int nr, GemmTileArgs* t)
    {
        Debug.Assert(t->ValidCols <= nr);
        float alpha = t->Alpha, beta = t->Beta;
        var act = new Activation(t->Activation, t->Min, t->Max);
        nint rs = t->RowStride;
        for (int i = 0; i < t->ValidRows; i++)
        {
            float* c = t->C + i * rs;
            float rowBias = t->BiasAxis == BiasAxis.Row ? t->Bias[i] : 0f;
            for (int j = 0; j < t->ValidCols; j++)
            {
                float v = alpha * tile[i * nr + j];
                if (beta != 0f) v += beta * c[j];
                if (t->BiasAxis == BiasAxis.Column) v += t->Bias[j];
                else v += rowBias;
                c[j] = act.Apply(v);
            }
        }
    }
}
