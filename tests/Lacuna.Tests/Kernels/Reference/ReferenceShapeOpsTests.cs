using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>Concat, Flatten, Transpose, Pad and Reshape shape inference; expected values by hand.</summary>
public class ReferenceShapeOpsTests
{
    [Fact]
    public void ConcatAlongLastAndFirstAxis()
    {
        // [[1],[2]] ++ [[3,4],[5,6]] along axis 1 → [[1,3,4],[2,5,6]].
        float[][] cols = { [1, 2], [3, 4, 5, 6] };
        int[][] colShapes = { [2, 1], [2, 2] };
        var y = TestData.Poisoned(6);
        Assert.Equal(new[] { 2, 3 }, ReferenceShapeOps.ConcatShape(colShapes, 1));
        ReferenceShapeOps.Concat(cols, colShapes, 1, y);
        Assert.Equal(new float[] { 1, 3, 4, 2, 5, 6 }, y);
        TestData.Poison(y);
        ReferenceShapeOps.Concat(cols, colShapes, -1, y);
        Assert.Equal(new float[] { 1, 3, 4, 2, 5, 6 }, y);
        // [[1,2]] ++ [[3,4],[5,6]] along axis 0 (also -2) → [[1,2],[3,4],[5,6]].
        Assert.Equal(new[] { 3, 2 }, ReferenceShapeOps.ConcatShape([[1, 2], [2, 2]], -2));
        ReferenceShapeOps.Concat([[1, 2], [3, 4, 5, 6]], [[1, 2], [2, 2]], 0, y);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, y);
    }

    [Fact]
    public void ConcatRejectsMismatchedShapesAndAxes()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ReferenceShapeOps.ConcatShape([[2, 1], [3, 2]], 1));
        Assert.Equal("inputs[1]", e.ParamName);
        Assert.Contains("[2, 1] and [3, 2]", e.Message);
        Assert.Equal("inputs[1]", Assert.Throws<ShapeMismatchException>(() => ReferenceShapeOps.ConcatShape([[2, 1], [2, 1, 1]], 0)).ParamName);
        Assert.Equal("axis", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceShapeOps.ConcatShape([[2, 1]], 2)).ParamName);
        Assert.Equal("axis", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceShapeOps.ConcatShape([[2, 1]], -3)).ParamName);
        Assert.Equal("inputs[0]", Assert.Throws<ShapeMismatchException>(() => ReferenceShapeOps.ConcatShape([[]], 0)).ParamName);
    }

    [Fact]
    public void FlattenSplitsTheShapeAtTheAxis()
    {
        Assert.Equal(new[] { 1, 24 }, ReferenceShapeOps.FlattenShape([2, 3, 4], 0));
        Assert.Equal(new[] { 2, 12 }, ReferenceShapeOps.FlattenShape([2, 3, 4]));
        Assert.Equal(new[] { 6, 4 }, ReferenceShapeOps.FlattenShape([2, 3, 4], 2));
        Assert.Equal(new[] { 24, 1 }, ReferenceShapeOps.FlattenShape([2, 3, 4], 3));
        Assert.Equal(new[] { 6, 4 }, ReferenceShapeOps.FlattenShape([2, 3, 4], -1));
        Assert.Equal(new[] { 1, 24 }, ReferenceShapeOps.FlattenShape([2, 3, 4], -3));
        Assert.Equal("axis", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceShapeOps.FlattenShape([2, 3, 4], 4)).ParamName);
        Assert.Equal("axis", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceShapeOps.FlattenShape([2, 3, 4], -4)).ParamName);
        float[] x = TestData.Random(24, 7);
        var y = TestData.Poisoned(24);
        ReferenceShapeOps.Flatten(x, [2, 3, 4], 2, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public void TransposeDefaultReversesAndPermMoves()
    {
        // [[1,2,3],[4,5,6]]ᵀ = [[1,4],[2,5],[3,6]].
        var y = TestData.Poisoned(6);
        Assert.Equal(new[] { 3, 2 }, ReferenceShapeOps.TransposeShape([2, 3], []));
        ReferenceShapeOps.Transpose([1, 2, 3, 4, 5, 6], [2, 3], [], y);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, y);
        // x[i,j,k] = 4i + 2j + k, perm [1,0,2]: y[a,b,c] = x[b,a,c] → [x000 x001 x100 x101 x010 x011 x110 x111].
        var z = TestData.Poisoned(8);
        ReferenceShapeOps.Transpose([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2], [1, 0, 2], z);
        Assert.Equal(new float[] { 0, 1, 4, 5, 2, 3, 6, 7 }, z);
        // perm [2,0,1] on [2,3,4] gives [4,2,3].
        Assert.Equal(new[] { 4, 2, 3 }, ReferenceShapeOps.TransposeShape([2, 3, 4], [2, 0, 1]));
    }

    [Fact]
    public void TransposeRejectsNonPermutations()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.TransposeShape([2, 2, 2], [0, 0, 1]));
        Assert.Equal("perm", e.ParamName);
        Assert.Contains("[0, 0, 1]", e.Message);
        Assert.Equal("perm", Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.TransposeShape([2, 2], [0, 1, 2])).ParamName);
        Assert.Equal("perm", Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.TransposeShape([2, 2], [0, 2])).ParamName);
    }

    private static float[] Pad(float[] x, int[] shape, int[] pads, PadMode mode, float value = 0)
    {
        int[] os = ReferenceShapeOps.PadShape(shape, pads);
        var y = TestData.Poisoned(os.Aggregate(1, (a, d) => a * d));
        ReferenceShapeOps.Pad(x, shape, pads, y, mode, value);
        return y;
    }

    [Fact]
    public void PadConstantAsymmetric()
    {
        // [[1,2],[3,4]], one row before, one column after, value 9 → [[9,9,9],[1,2,9],[3,4,9]].
        Assert.Equal(new[] { 3, 3 }, ReferenceShapeOps.PadShape([2, 2], [1, 0, 0, 1]));
        Assert.Equal(new float[] { 9, 9, 9, 1, 2, 9, 3, 4, 9 }, Pad([1, 2, 3, 4], [2, 2], [1, 0, 0, 1], PadMode.Constant, 9));
    }

    [Fact]
    public void PadReflectAndEdge()
    {
        // [1,2,3] with 2 on each side.
        Assert.Equal(new float[] { 3, 2, 1, 2, 3, 2, 1 }, Pad([1, 2, 3], [1, 3], [0, 2, 0, 2], PadMode.Reflect));
        Assert.Equal(new float[] { 1, 1, 1, 2, 3, 3, 3 }, Pad([1, 2, 3], [1, 3], [0, 2, 0, 2], PadMode.Edge));
        // Reflect wider than the input repeats with period 2·(3-1) = 4, as numpy.pad does.
        Assert.Equal(new float[] { 1, 2, 3, 2, 1, 2, 3 }, Pad([1, 2, 3], [1, 3], [0, 4, 0, 0], PadMode.Reflect));
        // 2-D reflect by 1 on all sides of [[1,2],[3,4]]: rows map -1→1, 2→0 and columns likewise.
        Assert.Equal(new float[] { 4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1 }, Pad([1, 2, 3, 4], [2, 2], [1, 1, 1, 1], PadMode.Reflect));
    }

    [Fact]
    public void NegativePadsCrop()
    {
        // [1,2,3,4]: drop one at the start, add one at the end.
        Assert.Equal(new float[] { 2, 3, 4, 0 }, Pad([1, 2, 3, 4], [1, 4], [0, -1, 0, 1], PadMode.Constant));
        Assert.Equal(new float[] { 2, 3, 4, 4 }, Pad([1, 2, 3, 4], [1, 4], [0, -1, 0, 1], PadMode.Edge));
        Assert.Equal(new float[] { 2, 3, 4, 3 }, Pad([1, 2, 3, 4], [1, 4], [0, -1, 0, 1], PadMode.Reflect));
        // Crop both rows of [[1,2],[3,4]] down to the second: [3, 4].
        Assert.Equal(new float[] { 3, 4 }, Pad([1, 2, 3, 4], [2, 2], [-1, 0, 0, 0], PadMode.Constant));
    }

    [Fact]
    public void PadRejectsBadPads()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.PadShape([2, 2], [1, 1]));
        Assert.Equal("pads", e.ParamName);
        Assert.Contains("[2, 2]", e.Message);
        Assert.Equal("pads", Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.PadShape([2, 2], [-2, 0, -1, 0])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferenceShapeOps.Pad([], [0], [1, 0], new float[1], PadMode.Edge)).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferenceShapeOps.Pad(new float[3], [2, 2], [0, 0, 0, 0], new float[4])).ParamName);
    }

    [Fact]
    public void ReshapeCopiesZerosAndInfersMinusOne()
    {
        Assert.Equal(new[] { 2, 12 }, ReferenceShapeOps.ReshapeShape([2, 3, 4], [0, -1]));
        Assert.Equal(new[] { 24 }, ReferenceShapeOps.ReshapeShape([2, 3, 4], [-1]));
        Assert.Equal(new[] { 4, 3, 2 }, ReferenceShapeOps.ReshapeShape([2, 3, 4], [4, 0, 2]));
        Assert.Equal(new[] { 2, 3, 4, 1 }, ReferenceShapeOps.ReshapeShape([2, 3, 4], [0, 0, 0, 1]));
        Assert.Equal(new[] { 3, 4, 2 }, ReferenceShapeOps.ReshapeShape([2, 3, 4], [3, -1, 2]));
        // allowzero: 0 is a literal zero-size dimension.
        Assert.Equal(new[] { 3, 0 }, ReferenceShapeOps.ReshapeShape([0, 3], [3, 0], allowZero: true));
    }

    [Fact]
    public void ReshapeRejectsImpossibleShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([2, 3, 4], [2, -1, -1]));
        Assert.Equal("shape", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([2, 3, 4], [5, -1]));
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([2, 3, 4], [5, 5]));
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([2, 3, 4], [2, -2, 12]));
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([24], [0, 0]));
        // Without allowzero, 0 copies 3 → [3,3] (9 elements) ≠ 0 elements.
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([0, 3], [3, 0]));
        Assert.ThrowsAny<ArgumentException>(() => ReferenceShapeOps.ReshapeShape([0, 3], [0, -1], allowZero: true));
    }
}
