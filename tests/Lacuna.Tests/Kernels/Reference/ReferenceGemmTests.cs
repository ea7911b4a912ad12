using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>
/// ReferenceGemm on a hand-computed 2x3·3x2 product: A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]],
/// A·B = [[58, 64], [139, 154]].
/// </summary>
public class ReferenceGemmTests
{
    private static readonly float[] A = { 1, 2, 3, 4, 5, 6 }, B = { 7, 8, 9, 10, 11, 12 };
    private static readonly float[] AB = { 58, 64, 139, 154 };

    private static float[] Gemm(float[] a, int lda, bool transA, float[] b, int ldb, bool transB, float[]? c = null,
        float alpha = 1, float beta = 0, float[]? bias = null, BiasAxis axis = BiasAxis.None, Activation activation = default)
    {
        c ??= TestData.Poisoned(4);
        ReferenceGemm.Compute(2, 2, 3, a, lda, transA, b, ldb, transB, c, 2, alpha, beta, bias ?? default, axis, activation);
        return c;
    }

    [Fact]
    public void PlainProduct() => Assert.Equal(AB, Gemm(A, 3, false, B, 2, false));

    [Fact]
    public void TransposedOperandsGiveTheSameProduct()
    {
        float[] at = { 1, 4, 2, 5, 3, 6 };     // Aᵀ stored [3×2]
        float[] bt = { 7, 9, 11, 8, 10, 12 };  // Bᵀ stored [2×3]
        Assert.Equal(AB, Gemm(at, 2, true, B, 2, false));
        Assert.Equal(AB, Gemm(A, 3, false, bt, 3, true));
        Assert.Equal(AB, Gemm(at, 2, true, bt, 3, true));
    }

    [Fact]
    public void LeadingDimensionsSkipPadding()
    {
        // A with lda 4: the fourth column is NaN and must never be read.
        float[] a = { 1, 2, 3, float.NaN, 4, 5, 6, float.NaN };
        Assert.Equal(AB, Gemm(a, 4, false, B, 2, false));
    }

    [Fact]
    public void AlphaBetaScaleProductAndAccumulator()
    {
        // 0.5·AB + 2·1 = [31, 34, 71.5, 79].
        Assert.Equal(new float[] { 31, 34, 71.5f, 79 }, Gemm(A, 3, false, B, 2, false, c: [1, 1, 1, 1], alpha: 0.5f, beta: 2));
        // beta 0: C is not read, so NaN in it does not propagate.
        Assert.Equal(AB, Gemm(A, 3, false, B, 2, false, c: TestData.Poisoned(4), beta: 0));
    }

    [Fact]
    public void BiasRowAndColumn()
    {
        // Row bias [10, 20] adds per output row; column bias [1, 2] per output column.
        Assert.Equal(new float[] { 68, 74, 159, 174 }, Gemm(A, 3, false, B, 2, false, bias: [10, 20], axis: BiasAxis.Row));
        Assert.Equal(new float[] { 59, 66, 140, 156 }, Gemm(A, 3, false, B, 2, false, bias: [1, 2], axis: BiasAxis.Column));
    }

    [Fact]
    public void ActivationAppliesAfterBias()
    {
        // alpha -1 makes every product negative: ReLU zeroes all; a bias of +100 on row 0 keeps [42, 36].
        Assert.Equal(new float[] { 0, 0, 0, 0 }, Gemm(A, 3, false, B, 2, false, alpha: -1, activation: Activation.Relu));
        Assert.Equal(new float[] { 42, 36, 0, 0 }, Gemm(A, 3, false, B, 2, false, alpha: -1, bias: [100, 0], axis: BiasAxis.Row, activation: Activation.Relu));
        // Clip(60, 140): [58, 64, 139, 154] → [60, 64, 139, 140].
        Assert.Equal(new float[] { 60, 64, 139, 140 }, Gemm(A, 3, false, B, 2, false, activation: Activation.Clip(60, 140)));
    }
}
