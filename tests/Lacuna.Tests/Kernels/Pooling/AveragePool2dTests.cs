using Lacuna.Kernels;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Pooling;

public class AveragePool2dTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Matches_reference_over_the_attribute_grid(bool countIncludePad)
    {
        int checkedCases = 0;
        foreach (var p in PoolCases.Grid(countIncludePad))
        foreach (int h in PoolCases.Heights)
        foreach (int w in PoolCases.Widths)
        {
            int[] shape = { 1, 3, h, w };
            if (!PoolCases.Valid(p, shape)) continue;
            Check(p, shape, seed: (ulong)(h * 100 + w));
            checkedCases++;
        }
        Assert.True(checkedCases > 1000, $"only {checkedCases} valid cases");
    }

    [Fact]
    public void Large_planes_split_across_threads()
    {
        Check(Pool2dParams.Square(3, 2, 1), new[] { 1, 64, 56, 56 }, 3);
        Check(Pool2dParams.Square(2, 2), new[] { 2, 33, 40, 41 }, 4);
        Check(Pool2dParams.Square(7, 1, 0), new[] { 1, 16, 7, 7 }, 5);   // whole-plane window
        Check(new Pool2dParams(3, 3, 1, 1, 1, 1, 1, 1, CountIncludePad: true), new[] { 1, 17, 35, 2100 }, 6); // wide rows: heap scratch
        // Stride-1 "same" pools as whole-plane passes (Inception's 3x3/1 pad 1), also 5x5 and asymmetric pads.
        Check(Pool2dParams.Square(3, 1, 1), new[] { 2, 24, 28, 28 }, 7);
        Check(Pool2dParams.Square(5, 1, 2), new[] { 1, 9, 14, 13 }, 8);
        Check(new Pool2dParams(3, 3, 1, 1, 0, 2, 2, 0), new[] { 1, 5, 11, 17 }, 9);
        // Padded-plane passes (column stride 1 or 2): ShuffleNet's 3x3/2 pad 1, DenseNet's 2x2/2, and a plane past
        // the padded-plane limit, which pools row by row.
        Check(Pool2dParams.Square(3, 2, 1), new[] { 1, 24, 28, 28 }, 10);
        Check(Pool2dParams.Square(2, 2), new[] { 1, 16, 56, 56 }, 11);
        Check(Pool2dParams.Square(3, 1, 1), new[] { 1, 2, 1030, 1024 }, 12);
    }

    [Fact]
    public void Infinity_and_nan_follow_the_reference()
    {
        int[] shape = { 1, 2, 9, 9 };
        var x = LayerCases.WithSpecials(TestData.Random(162, 7), (10, float.NaN), (50, float.PositiveInfinity), (120, float.NegativeInfinity));
        var p = Pool2dParams.Square(3, 2, 1);
        int[] os = p.OutputShape(shape);
        var expected = TestData.Poisoned(LayerCases.Count(os));
        ReferencePool.AveragePool(x, shape, expected, p);
        var actual = TestData.Poisoned(expected.Length);
        AveragePool2d.Compute(x, shape, actual, p);
        KernelAssert.Close(expected, actual, 9);
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        var p = Pool2dParams.Square(3);
        Assert.Throws<ShapeMismatchException>(() => AveragePool2d.Compute(new float[27], [3, 3, 3], new float[1], p));
        Assert.Throws<ShapeMismatchException>(() => AveragePool2d.Compute(new float[4], [1, 1, 2, 2], new float[1], p));          // too small
        Assert.Throws<ShapeMismatchException>(() => AveragePool2d.Compute(new float[9], [1, 1, 3, 3], new float[1], new Pool2dParams(1, 1, 1, 1, 2, 0, 0, 0))); // padding-only window
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => AveragePool2d.Compute(new float[50], [2, 1, 5, 5], new float[17], p)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => AveragePool2d.Compute(new float[9], [1, 1, 3, 3], new float[9], new Pool2dParams(1, 1, 0, 1)));
    }

    private static void Check(Pool2dParams p, int[] shape, ulong seed)
    {
        var x = TestData.Random(LayerCases.Count(shape), seed, -2f, 2f);
        int[] os = p.OutputShape(shape);
        var expected = TestData.Poisoned(LayerCases.Count(os));
        ReferencePool.AveragePool(x, shape, expected, p);
        foreach (int threads in LayerCases.Threads)
        {
            var actual = TestData.Poisoned(expected.Length);
            AveragePool2d.Compute(x, shape, actual, p, threads);
            KernelAssert.Close(expected, actual, p.KernelH * p.KernelW, $"{p} [{string.Join(",", shape)}] threads {threads}");
        }
    }
}
