using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

public class LrnTests
{
    public static TheoryData<int[]> Shapes()
    {
        var data = new TheoryData<int[]>();
        foreach (int s in LayerCases.VectorEdges) data.Add(new[] { 2, 7, s });
        data.Add(new[] { 1, 1, 5, 5 });
        data.Add(new[] { 1, 13, 3, 3 });
        data.Add(new[] { 1, 3, 23, 23 });         // 529 pixels: crosses the 512-pixel chunk
        data.Add(new[] { 1, 16, 71, 71 });         // large enough for 2 threads
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_reference(int[] shape)
    {
        int count = LayerCases.Count(shape);
        var x = TestData.Random(count, 51, -2f, 2f);
        foreach (var (size, alpha, beta, bias) in new[] { (5, 1e-4f, 0.75f, 1f), (3, 2f, 0.75f, 1f), (2, 0.5f, 0.5f, 2f), (1, 1f, 1f, 1f), (4, 3f, 1.3f, 0.5f) })
        {
            var expected = TestData.Poisoned(count);
            ReferenceNormalization.Lrn(x, shape, expected, size, alpha, beta, bias);
            foreach (int threads in LayerCases.Threads)
            {
                var actual = TestData.Poisoned(count);
                Lrn.Compute(x, shape, actual, size, alpha, beta, bias, threads);
                KernelAssert.Close(expected, actual, size, $"[{string.Join(",", shape)}] size {size} alpha {alpha} beta {beta} bias {bias} threads {threads}", rtol: 2e-5f);
            }
        }
    }

    [Fact]
    public void Nan_spreads_over_its_channel_window()
    {
        int[] shape = { 1, 5, 9 };
        var x = LayerCases.WithSpecials(TestData.Random(45, 52), (2 * 9 + 4, float.NaN), (4 * 9 + 1, float.PositiveInfinity));
        var expected = TestData.Poisoned(45);
        ReferenceNormalization.Lrn(x, shape, expected, 3);
        var actual = TestData.Poisoned(45);
        Lrn.Compute(x, shape, actual, 3);
        KernelAssert.Close(expected, actual, 3);
        Assert.True(float.IsNaN(actual[1 * 9 + 4]) && float.IsNaN(actual[3 * 9 + 4]) && !float.IsNaN(actual[0 * 9 + 4]));
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Lrn.Compute(new float[6], [2, 3], new float[6], 3)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => Lrn.Compute(new float[6], [1, 2, 3], new float[6], 0)).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Lrn.Compute(new float[6], [1, 2, 3], new float[5], 3)).ParamName);
        var same = new float[6];
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Lrn.Compute(same, [1, 2, 3], same, 3)).ParamName);
    }
}
