using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

public class InstanceNormTests
{
    public static TheoryData<int[]> Shapes()
    {
        var data = new TheoryData<int[]>();
        foreach (int s in LayerCases.VectorEdges) data.Add(new[] { 2, 3, s });
        data.Add(new[] { 1, 5, 7, 9 });
        data.Add(new[] { 2, 1, 2, 3, 5 });
        data.Add(new[] { 1, 7, 0 });             // empty spatial: nothing to write
        data.Add(new[] { 2, 5, 61, 67 });         // large enough for 2 threads
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_reference(int[] shape)
    {
        int c = shape[1], count = LayerCases.Count(shape);
        // An offset mean: the variance pass must not lose the spread to cancellation.
        var x = TestData.Random(count, 21, 2f, 5f);
        var scale = TestData.Random(c, 22);
        var bias = TestData.Random(c, 23);
        foreach (float eps in new[] { 1e-5f, 0.1f })
        {
            var expected = TestData.Poisoned(count);
            ReferenceNormalization.InstanceNormalization(x, shape, scale, bias, expected, eps);
            foreach (int threads in LayerCases.Threads)
            {
                var actual = TestData.Poisoned(count);
                InstanceNorm.Compute(x, shape, scale, bias, actual, eps, threads);
                KernelAssert.Close(expected, actual, 16, $"[{string.Join(",", shape)}] eps {eps} threads {threads}", rtol: 1e-4f);
            }
        }
    }

    [Fact]
    public void Nan_poisons_only_its_plane()
    {
        int[] shape = { 1, 2, 20 };
        var x = LayerCases.WithSpecials(TestData.Random(40, 5), (3, float.NaN));
        float[] one = { 1, 1 };
        var expected = TestData.Poisoned(40);
        ReferenceNormalization.InstanceNormalization(x, shape, one, one, expected);
        var actual = TestData.Poisoned(40);
        InstanceNorm.Compute(x, shape, one, one, actual);
        KernelAssert.Close(expected, actual, 16);
        Assert.True(float.IsNaN(actual[0]) && !float.IsNaN(actual[20]));
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        float[] c2 = { 1, 1 };
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => InstanceNorm.Compute(new float[4], [2, 2], c2, c2, new float[4])).ParamName);
        Assert.Equal("bias", Assert.Throws<ShapeMismatchException>(() => InstanceNorm.Compute(new float[4], [1, 2, 2], c2, [1], new float[4])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => InstanceNorm.Compute(new float[4], [1, 2, 2], c2, c2, new float[3])).ParamName);
        Assert.ThrowsAny<ArgumentException>(() => InstanceNorm.Compute(new float[4], [1, 2, 2], c2, c2, new float[4], -1f));
    }
}
