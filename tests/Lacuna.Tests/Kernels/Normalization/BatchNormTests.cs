using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

public class BatchNormTests
{
    public static TheoryData<int[]> Shapes()
    {
        var data = new TheoryData<int[]>();
        foreach (int s in LayerCases.VectorEdges) data.Add(new[] { 2, 3, s });          // rank 3, odd channels
        foreach (int w in new[] { 1, 7, 8, 9, 16, 17 }) data.Add(new[] { 1, 5, 3, w }); // rank 4
        data.Add(new[] { 3, 7 });                 // rank 2: [N, C]
        data.Add(new[] { 2, 33 });
        data.Add(new[] { 1, 3, 2, 3, 5 });        // rank 5
        data.Add(new[] { 2, 5, 3, 0 });           // empty spatial
        data.Add(new[] { 1, 13, 97, 61 });        // large enough for 2 threads
        data.Add(new[] { 1100, 63 });             // rank 2, large
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_reference(int[] shape)
    {
        int c = shape[1], count = LayerCases.Count(shape);
        var x = TestData.Random(count, 11, -3, 3);
        var scale = TestData.Random(c, 12);
        var bias = TestData.Random(c, 13);
        var mean = TestData.Random(c, 14);
        var variance = TestData.Random(c, 15, 0.1f, 2f);
        foreach (float eps in new[] { 1e-5f, 1e-3f })
        {
            var expected = TestData.Poisoned(count);
            ReferenceNormalization.BatchNormalization(x, shape, scale, bias, mean, variance, expected, eps);
            var expectedRelu = expected.Select(v => MathF.Max(v, 0f)).ToArray();
            foreach (bool relu in new[] { false, true })
            foreach (int threads in LayerCases.Threads)
            {
                var actual = TestData.Poisoned(count);
                BatchNorm.Compute(x, shape, scale, bias, mean, variance, actual, eps, relu, threads);
                KernelAssert.Close(relu ? expectedRelu : expected, actual, 4, $"[{string.Join(",", shape)}] eps {eps} relu {relu} threads {threads}");
            }
        }
    }

    [Fact]
    public void Propagates_nan_and_infinity()
    {
        int[] shape = { 1, 3, 17 };
        var x = LayerCases.WithSpecials(TestData.Random(51, 3), (2, float.NaN), (20, float.PositiveInfinity), (40, float.NegativeInfinity));
        float[] p = { 0.5f, -1f, 2f }, v = { 1f, 0.5f, 2f };
        var expected = TestData.Poisoned(51);
        ReferenceNormalization.BatchNormalization(x, shape, p, p, p, v, expected);
        var actual = TestData.Poisoned(51);
        BatchNorm.Compute(x, shape, p, p, p, v, actual);
        KernelAssert.Close(expected, actual, 4);
        Assert.True(float.IsNaN(actual[2]) && float.IsInfinity(actual[20]) && float.IsInfinity(actual[40]));
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        float[] c2 = { 1, 1 };
        Assert.Equal("scale", Assert.Throws<ShapeMismatchException>(() => BatchNorm.Compute(new float[4], [1, 2, 2], [1, 1, 1], c2, c2, c2, new float[4])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => BatchNorm.Compute(new float[2], [2], c2, c2, c2, c2, new float[2])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => BatchNorm.Compute(new float[5], [1, 2, 2], c2, c2, c2, c2, new float[5])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => BatchNorm.Compute(new float[4], [1, 2, 2], c2, c2, c2, c2, new float[3])).ParamName);
        Assert.Equal("variance", Assert.ThrowsAny<ArgumentException>(() => BatchNorm.Compute(new float[4], [1, 2, 2], c2, c2, c2, [0, -1], new float[4], 0)).ParamName);
    }
}
