using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>Relu, Clip, Add, Mul, Sum and the broadcasting rules; every expected value is worked out by hand in the comments.</summary>
public class ReferenceElementwiseTests
{
    private static float[] Run(Action<float[]> op, int length)
    {
        var y = TestData.Poisoned(length);
        op(y);
        return y;
    }

    [Fact]
    public void ReluZeroesNegativesAndPropagatesNaN()
    {
        float[] x = { -2f, -0.5f, 0f, 1.5f, 3f, float.NaN };
        var y = Run(o => ReferenceElementwise.Relu(x, o), x.Length);
        Assert.Equal(new[] { 0f, 0f, 0f, 1.5f, 3f }, y[..5]);
        Assert.True(float.IsNaN(y[5]));
    }

    [Fact]
    public void ClipBoundsBothSidesAndMinAboveMaxGivesMax()
    {
        float[] x = { -3f, -1f, 0.5f, 2f, 5f };
        Assert.Equal(new[] { -1f, -1f, 0.5f, 2f, 2f }, Run(o => ReferenceElementwise.Clip(x, o, -1f, 2f), 5));
        // ONNX: when min > max every value becomes max.
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 1f }, Run(o => ReferenceElementwise.Clip(x, o, 3f, 1f), 5));
        // Absent bounds are infinite: only the lower one applies.
        Assert.Equal(new[] { 0f, 0f, 0.5f, 2f, 5f }, Run(o => ReferenceElementwise.Clip(x, o, min: 0f), 5));
        Assert.Equal("min", Assert.ThrowsAny<ArgumentException>(() => ReferenceElementwise.Clip(x, new float[5], float.NaN, 1f)).ParamName);
    }

    [Fact]
    public void AddBroadcastsTrailingVectorOverRows()
    {
        // [2,3] + [3]: each row gets [10, 20, 30].
        float[] a = { 1, 2, 3, 4, 5, 6 }, b = { 10, 20, 30 };
        Assert.Equal(new[] { 2, 3 }, ReferenceElementwise.BinaryShape([2, 3], [3]));
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, Run(o => ReferenceElementwise.Add(a, [2, 3], b, [3], o), 6));
    }

    [Fact]
    public void AddBroadcastsColumnAgainstRowBothWays()
    {
        // [2,1] + [1,3] → [2,3]: out[i,j] = a[i] + b[j].
        float[] a = { 1, 2 }, b = { 10, 20, 30 };
        Assert.Equal(new float[] { 11, 21, 31, 12, 22, 32 }, Run(o => ReferenceElementwise.Add(a, [2, 1], b, [1, 3], o), 6));
        Assert.Equal(new float[] { 11, 12, 21, 22, 31, 32 }, Run(o => ReferenceElementwise.Add(b, [3, 1], a, [1, 2], o), 6));
    }

    [Fact]
    public void RankZeroScalarBroadcastsToAnyShape()
    {
        Assert.Equal(new[] { 2, 2 }, ReferenceElementwise.BinaryShape([], [2, 2]));
        Assert.Equal(new float[] { 6, 7, 8, 9 }, Run(o => ReferenceElementwise.Add([5f], [], [1, 2, 3, 4], [2, 2], o), 4));
        Assert.Equal(new float[] { 2, 4, 6, 8 }, Run(o => ReferenceElementwise.Mul([1, 2, 3, 4], [2, 2], [2f], [], o), 4));
        // Scalar with scalar stays rank 0 with one element.
        Assert.Empty(ReferenceElementwise.BinaryShape([], []));
        Assert.Equal(new float[] { 12 }, Run(o => ReferenceElementwise.Mul([3f], [], [4f], [], o), 1));
    }

    [Fact]
    public void MulBroadcastsSizeOneDimsOnBothOperandsAndAddsLeadingDims()
    {
        // [2,1,2] * [3,1] → [2,3,2]: out[i,j,k] = a[i,0,k] · b[j,0].
        float[] a = { 1, 2, 3, 4 }, b = { 1, 10, 100 };
        Assert.Equal(new[] { 2, 3, 2 }, ReferenceElementwise.BinaryShape([2, 1, 2], [3, 1], "Mul"));
        Assert.Equal(new float[] { 1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400 },
            Run(o => ReferenceElementwise.Mul(a, [2, 1, 2], b, [3, 1], o), 12));
    }

    [Fact]
    public void SizeZeroDimsBroadcastAgainstOne()
    {
        Assert.Equal(new[] { 0, 3 }, ReferenceElementwise.BinaryShape([0, 3], [1, 3]));
        Assert.Equal(new[] { 0 }, ReferenceElementwise.BinaryShape([1], [0]));
        ReferenceElementwise.Add([], [0, 3], [1, 2, 3], [1, 3], Span<float>.Empty); // nothing to write, nothing thrown
        Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.BinaryShape([0], [2]));
    }

    [Fact]
    public void IncompatibleShapesThrowNamingBothShapes()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Add(new float[6], [2, 3], new float[4], [4], new float[6]));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("Add: shapes [2, 3] and [4] are not broadcastable", e.Message);
        var m = Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Mul(new float[6], [3, 2], new float[6], [2, 3], new float[6]));
        Assert.Contains("Mul: shapes [3, 2] and [2, 3]", m.Message);
        Assert.Throws<ShapeMismatchException>(() => Broadcast.Shape([2, 1, 3], [4, 3, 3], "X"));
    }

    [Fact]
    public void BadBuffersThrowNamingTheArgument()
    {
        Assert.Equal("a", Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Add(new float[5], [2, 3], new float[3], [3], new float[6])).ParamName);
        Assert.Equal("b", Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Add(new float[6], [2, 3], new float[2], [3], new float[6])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Add(new float[6], [2, 3], new float[3], [3], new float[5])).ParamName);
        Assert.Equal("a", Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Add(new float[6], [-2, -3], new float[3], [3], new float[6])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.Relu(new float[3], new float[2])).ParamName);
    }

    [Fact]
    public void SumBroadcastsEveryInput()
    {
        // [3] + [1] + [2,1] → [2,3]: out[i,j] = x[j] + 10 + z[i].
        float[][] inputs = { [1, 2, 3], [10], [100, 200] };
        int[][] shapes = { [3], [1], [2, 1] };
        Assert.Equal(new[] { 2, 3 }, ReferenceElementwise.SumShape(shapes));
        Assert.Equal(new float[] { 111, 112, 113, 211, 212, 213 }, Run(o => ReferenceElementwise.Sum(inputs, shapes, o), 6));
        // One input: a copy.
        Assert.Equal(new float[] { 1, 2, 3 }, Run(o => ReferenceElementwise.Sum([inputs[0]], [shapes[0]], o), 3));
    }

    [Fact]
    public void SumAccumulatesInDouble()
    {
        // In float, 1e8 + 1 rounds back to 1e8 and the result would be 0; in double it is exactly 1.
        float[][] inputs = { [1e8f], [1f], [-1e8f] };
        Assert.Equal(new float[] { 1 }, Run(o => ReferenceElementwise.Sum(inputs, [[1], [1], [1]], o), 1));
    }

    [Fact]
    public void SumRejectsBadInputs()
    {
        Assert.ThrowsAny<ArgumentException>(() => ReferenceElementwise.SumShape([]));
        var e = Assert.Throws<ShapeMismatchException>(() => ReferenceElementwise.SumShape([[2, 3], [3], [2]]));
        Assert.Equal("inputs[2]", e.ParamName);
        Assert.Contains("[2, 3] and [2]", e.Message);
        Assert.Equal("inputs[1]", Assert.Throws<ShapeMismatchException>(() =>
            ReferenceElementwise.Sum([new float[3], new float[2]], [[3], [3]], new float[3])).ParamName);
    }

    [Fact]
    public void BroadcastStridesAndSourceIndexMapEveryOutputElement()
    {
        // [3,1] read as [2,3,4]: stride 1 on axis 1, 0 on the broadcast axes 0 and 2.
        Assert.Equal(new[] { 0, 1, 0 }, Broadcast.Strides([3, 1], [2, 3, 4]));
        // Output element [1,2,3] (flat 1·12 + 2·4 + 3 = 23) reads input [2,0] = flat 2.
        Assert.Equal(2, Broadcast.SourceIndex(23, [2, 3, 4], Broadcast.Strides([3, 1], [2, 3, 4])));
        // A full-shape input maps identity.
        int[] s = Broadcast.Strides([2, 3, 4], [2, 3, 4]);
        for (int i = 0; i < 24; i++) Assert.Equal(i, Broadcast.SourceIndex(i, [2, 3, 4], s));
    }
}
