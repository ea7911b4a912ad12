using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>MatMul with numpy semantics; expected values by hand.</summary>
public class ReferenceMatMulTests
{
    // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]: A·B = [[1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]].
    private static readonly float[] A = { 1, 2, 3, 4, 5, 6 }, B = { 7, 8, 9, 10, 11, 12 };

    private static float[] Run(float[] a, int[] aShape, float[] b, int[] bShape, int[] expectedShape)
    {
        Assert.Equal(expectedShape, ReferenceMatMul.OutputShape(aShape, bShape));
        var y = TestData.Poisoned(expectedShape.Aggregate(1, (p, d) => p * d));
        ReferenceMatMul.Compute(a, aShape, b, bShape, y);
        return y;
    }

    [Fact]
    public void TwoByThreeTimesThreeByTwo() =>
        Assert.Equal(new float[] { 58, 64, 139, 154 }, Run(A, [2, 3], B, [3, 2], [2, 2]));

    [Fact]
    public void OneDimensionalOperandsArePromotedAndTheAddedDimRemoved()
    {
        // [3]·[3] = 1·4 + 2·5 + 3·6 = 32, a rank-0 result.
        Assert.Equal(new float[] { 32 }, Run([1, 2, 3], [3], [4, 5, 6], [3], []));
        // [3] × [3,2] = row [1,2,3] times B → [58, 64], shape [2].
        Assert.Equal(new float[] { 58, 64 }, Run([1, 2, 3], [3], B, [3, 2], [2]));
        // [2,3] × [3] of ones = row sums [6, 15], shape [2].
        Assert.Equal(new float[] { 6, 15 }, Run(A, [2, 3], [1, 1, 1], [3], [2]));
        // [3] × [2,3,2]: the vector times each of two batch matrices → [2,2].
        Assert.Equal(new float[] { 58, 64, 58, 64 }, Run([1, 2, 3], [3], [.. B, .. B], [2, 3, 2], [2, 2]));
    }

    [Fact]
    public void BatchOperandBroadcastsAgainstPlainMatrix()
    {
        // A [2,1,2] = two rows [1,2] and [3,4]; B = diag(1, 2): rows become [1,4] and [3,8].
        Assert.Equal(new float[] { 1, 4, 3, 8 }, Run([1, 2, 3, 4], [2, 1, 2], [1, 0, 0, 2], [2, 2], [2, 1, 2]));
    }

    [Fact]
    public void BatchDimensionsBroadcastBothWays()
    {
        // A [2,1,1,2] (a0=[1,2], a1=[3,4]) × B [3,2,1] (b0=[1,1], b1=[1,-1], b2=[0,1]) → batch [2,3], out[i,j] = a_i·b_j.
        float[] y = Run([1, 2, 3, 4], [2, 1, 1, 2], [1, 1, 1, -1, 0, 1], [3, 2, 1], [2, 3, 1, 1]);
        Assert.Equal(new float[] { 3, -1, 2, 7, -1, 4 }, y);
    }

    [Fact]
    public void MismatchedShapesThrowNamingBoth()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ReferenceMatMul.OutputShape([2, 3], [2, 2]));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("[2, 3] and [2, 2]", e.Message);
        Assert.Contains("inner dimensions 3 and 2", e.Message);
        Assert.Throws<ShapeMismatchException>(() => ReferenceMatMul.OutputShape([2, 2, 3], [4, 3, 2]));
        Assert.Equal("a", Assert.Throws<ShapeMismatchException>(() => ReferenceMatMul.OutputShape([], [3])).ParamName);
        Assert.Equal("a", Assert.Throws<ShapeMismatchException>(() => ReferenceMatMul.Compute(new float[5], [2, 3], B, [3, 2], new float[4])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => ReferenceMatMul.Compute(A, [2, 3], B, [3, 2], new float[3])).ParamName);
    }
}
