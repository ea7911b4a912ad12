using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Pooling;

public class GlobalPoolTests
{
    public static TheoryData<int[]> Shapes()
    {
        var data = new TheoryData<int[]>();
        foreach (int s in LayerCases.VectorEdges) data.Add(new[] { 2, 3, s });
        data.Add(new[] { 1, 5, 7, 7 });
        data.Add(new[] { 1, 3, 2, 3, 5 });
        data.Add(new[] { 0, 3, 4 });
        data.Add(new[] { 1, 2048, 7, 7 });          // ResNet head: 2 threads
        data.Add(new[] { 1, 9, 97, 101 });
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_reference(int[] shape)
    {
        int count = LayerCases.Count(shape);
        var x = LayerCases.WithSpecials(TestData.Random(count, 61, -3f, 3f), (1, float.NaN), (count - 2, float.PositiveInfinity), (count / 2, float.NegativeInfinity));
        int[] os = ReferencePool.GlobalMaxPoolShape(shape);
        int outCount = LayerCases.Count(os);
        var expectedMax = TestData.Poisoned(outCount);
        var expectedAvg = TestData.Poisoned(outCount);
        ReferencePool.GlobalMaxPool(x, shape, expectedMax);
        ReferencePool.GlobalAveragePool(x, shape, expectedAvg);
        int spatial = count / Math.Max(1, shape[0] * shape[1]);
        foreach (int threads in LayerCases.Threads)
        {
            var max = TestData.Poisoned(outCount);
            var avg = TestData.Poisoned(outCount);
            GlobalPool.Max(x, shape, max, threads);
            GlobalPool.Average(x, shape, avg, threads);
            KernelAssert.Close(expectedMax, max, 1, $"max [{string.Join(",", shape)}] threads {threads}");
            KernelAssert.Close(expectedAvg, avg, spatial, $"average [{string.Join(",", shape)}] threads {threads}");
        }
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => GlobalPool.Max(new float[6], [2, 3], new float[6])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => GlobalPool.Average(new float[0], [1, 2, 0], new float[2])).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => GlobalPool.Average(new float[12], [1, 3, 4], new float[2])).ParamName);
    }
}
