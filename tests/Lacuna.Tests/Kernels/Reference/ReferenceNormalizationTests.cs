using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>BatchNormalization, LRN and Softmax; expected values by hand in the comments.</summary>
public class ReferenceNormalizationTests
{
    private static readonly float Ln3 = MathF.Log(3f);

    [Fact]
    public void BatchNormalizationPerChannel()
    {
        // x [1,2,1,2]: channel 0 = [1,3], channel 1 = [4,8]; scale [2, 0.5], B [1, -1], mean [2, 6], var [4, 16], eps 0.
        // ch0: 2·(1-2)/2+1 = 0, 2·(3-2)/2+1 = 2; ch1: 0.5·(4-6)/4-1 = -1.25, 0.5·(8-6)/4-1 = -0.75.
        float[] x = { 1, 3, 4, 8 };
        var y = TestData.Poisoned(4);
        ReferenceNormalization.BatchNormalization(x, [1, 2, 1, 2], [2, 0.5f], [1, -1], [2, 6], [4, 16], y, epsilon: 0);
        Assert.Equal(new float[] { 0, 2, -1.25f, -0.75f }, y);
        // The same numbers with var [3, 15] and epsilon 1.
        TestData.Poison(y);
        ReferenceNormalization.BatchNormalization(x, [1, 2, 1, 2], [2, 0.5f], [1, -1], [2, 6], [3, 15], y, epsilon: 1);
        Assert.Equal(new float[] { 0, 2, -1.25f, -0.75f }, y);
        // Two batch items, rank 2 ([N, C]): each row normalized with the same channel parameters.
        float[] rows = { 1, 4, 3, 8 };
        ReferenceNormalization.BatchNormalization(rows, [2, 2], [2, 0.5f], [1, -1], [2, 6], [4, 16], y, epsilon: 0);
        Assert.Equal(new float[] { 0, -1.25f, 2, -0.75f }, y);
    }

    [Fact]
    public void BatchNormalizationRejectsBadParameters()
    {
        float[] x = new float[4], c2 = { 1, 1 };
        var e = Assert.Throws<ShapeMismatchException>(() => ReferenceNormalization.BatchNormalization(x, [1, 2, 1, 2], [1, 1, 1], c2, c2, c2, new float[4]));
        Assert.Equal("scale", e.ParamName);
        Assert.Contains("[1, 2, 1, 2]", e.Message);
        Assert.Equal("variance", Assert.Throws<ShapeMismatchException>(() => ReferenceNormalization.BatchNormalization(x, [1, 2, 1, 2], c2, c2, c2, [1], new float[4])).ParamName);
        Assert.Equal("variance", Assert.ThrowsAny<ArgumentException>(() => ReferenceNormalization.BatchNormalization(x, [1, 2, 1, 2], c2, c2, c2, [0, -1], new float[4], 0)).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferenceNormalization.BatchNormalization(new float[2], [2], c2, c2, c2, c2, new float[2])).ParamName);
    }

    [Fact]
    public void LrnSumsSquaresOverNeighbouringChannels()
    {
        // x [1,3,1,1] = [1,2,3], size 3, alpha 3 (alpha/size = 1), beta 1, bias 1:
        // ch0 window {0,1}: 1+4 = 5 → 1/6; ch1 {0,1,2}: 14 → 2/15; ch2 {1,2}: 13 → 3/14.
        var y = TestData.Poisoned(3);
        ReferenceNormalization.Lrn([1, 2, 3], [1, 3, 1, 1], y, size: 3, alpha: 3, beta: 1, bias: 1);
        KernelAssert.Close([1f / 6, 2f / 15, 3f / 14], y, 1, "size 3");
        // Even size 2: floor(1/2) = 0 channels before, ceil(1/2) = 1 after. alpha 2 (alpha/size = 1):
        // ch0 {0,1}: 5 → 1/6; ch1 {1,2}: 13 → 2/14; ch2 {2}: 9 → 3/10.
        ReferenceNormalization.Lrn([1, 2, 3], [1, 3, 1, 1], y, size: 2, alpha: 2, beta: 1, bias: 1);
        KernelAssert.Close([1f / 6, 2f / 14, 3f / 10], y, 1, "size 2");
    }

    [Fact]
    public void LrnBetaIsAPower()
    {
        // size 1, alpha 1, bias 0, beta 0.5: y = x / sqrt(x²) = sign(x), per spatial position.
        var y = TestData.Poisoned(2);
        ReferenceNormalization.Lrn([2, -3], [1, 1, 1, 2], y, size: 1, alpha: 1, beta: 0.5f, bias: 0);
        Assert.Equal(new float[] { 1, -1 }, y);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceNormalization.Lrn(y, [1, 1, 1, 2], y, size: 0)).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferenceNormalization.Lrn(y, [1, 2], y, size: 1)).ParamName);
    }

    [Fact]
    public void SoftmaxAlongEachAxis()
    {
        // x = [[0, ln3], [ln3, ln3]]. exp: [[1, 3], [3, 3]].
        float[] x = { 0, Ln3, Ln3, Ln3 };
        var y = TestData.Poisoned(4);
        // Rows: [1,3]/4 and [3,3]/6.
        ReferenceNormalization.Softmax(x, [2, 2], y);
        KernelAssert.Close([0.25f, 0.75f, 0.5f, 0.5f], y, 1, "axis -1");
        // Columns: [1,3]/4 and [3,3]/6.
        ReferenceNormalization.Softmax(x, [2, 2], y, axis: 0);
        KernelAssert.Close([0.25f, 0.5f, 0.75f, 0.5f], y, 1, "axis 0");
        ReferenceNormalization.Softmax(x, [2, 2], y, axis: -2);
        KernelAssert.Close([0.25f, 0.5f, 0.75f, 0.5f], y, 1, "axis -2");
    }

    [Fact]
    public void SoftmaxMiddleAxisAndLargeValues()
    {
        // x [1,2,2] with the axis in the middle: columns [0, ln3] and [1000, 1000] → [1/4, 3/4] and [1/2, 1/2];
        // 1000 would overflow exp without subtracting the max.
        float[] x = { 0, 1000, Ln3, 1000 };
        var y = TestData.Poisoned(4);
        ReferenceNormalization.Softmax(x, [1, 2, 2], y, axis: 1);
        KernelAssert.Close([0.25f, 0.5f, 0.75f, 0.5f], y, 1);
        // Opset 13: only the named axis is normalized, not the flattened suffix (which would mix all four).
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceNormalization.Softmax(x, [2, 2], y, axis: 2));
        Assert.Equal("axis", e.ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferenceNormalization.Softmax([1f], [], y)).ParamName);
    }
}
