using Lacuna.Kernels;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Pooling;

public class MaxPool2dTests
{
    public static TheoryData<Pool2dParams, int, int> Cases() => new()
    {
        { Pool2dParams.Square(3, 2, 1), 112, 112 },                 // ResNet stem
        { Pool2dParams.Square(3, 1, 1), 28, 28 },                   // Inception: stride 1 "same", whole-plane passes
        { new Pool2dParams(3, 3, 1, 1, 0, 2, 2, 0), 11, 17 },        // the same with asymmetric pads
        { Pool2dParams.Square(2, 2), 9, 8 },                        // VGG, odd height
        { Pool2dParams.Square(3, 1, 1), 7, 5 },
        { new Pool2dParams(3, 2, 2, 1, 1, 0, 2, 1, 2, 1), 11, 9 },  // asymmetric pads, dilation 2 on H
        { Pool2dParams.Square(3, 2, 1, ceilMode: true), 8, 10 },
        { Pool2dParams.Square(1, 1), 1, 1 },
        // The AVX-512 3x3 stride-2 row kernel around its 16-output step and 34-column reach, with each pad and ceil mode.
        { Pool2dParams.Square(3, 2, 0, ceilMode: true), 56, 56 },   // Inception v2's stem pool: a clipped last window
        { Pool2dParams.Square(3, 2, 1), 5, 31 },
        { Pool2dParams.Square(3, 2, 1), 6, 33 },
        { Pool2dParams.Square(3, 2, 1), 4, 34 },
        { Pool2dParams.Square(3, 2, 0), 5, 35 },
        { Pool2dParams.Square(3, 2, 0), 3, 15 },
        { Pool2dParams.Square(3, 2, 0, ceilMode: true), 4, 16 },
        { new Pool2dParams(3, 3, 2, 2, 1, 2, 1, 2), 7, 17 },         // left pad 2
        { Pool2dParams.Square(3, 2, 1), 3, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference_and_propagates_nan(Pool2dParams p, int h, int w)
    {
        int[] shape = { 2, 3, h, w };
        var x = TestData.Random(2 * 3 * h * w, 5);
        x[7 % x.Length] = float.NaN;
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w);
        var expected = new float[2 * 3 * oh * ow];
        ReferencePool.MaxPool(x, shape, expected, p);
        foreach (int threads in new[] { 1, 2 })
        {
            // NaN is a legitimate output here, so the output is poisoned with a sentinel instead.
            var actual = new float[expected.Length];
            Array.Fill(actual, 12345f);
            MaxPool2d.Compute(x, shape, actual, p, threads);
            KernelAssert.Exact(expected, actual, $"{p} {h}x{w} threads {threads}");
        }
        Assert.Throws<ShapeMismatchException>(() => MaxPool2d.Compute(x, new[] { 3, h, w }, new float[expected.Length], p));
    }

    [Fact]
    public void Matches_reference_over_the_attribute_grid_with_nan_and_infinity()
    {
        int checkedCases = 0;
        foreach (var p in PoolCases.Grid(countIncludePad: false))
        foreach (int h in PoolCases.Heights)
        foreach (int w in PoolCases.Widths)
        {
            int[] shape = { 1, 3, h, w };
            if (!PoolCases.Valid(p, shape)) continue;
            int count = LayerCases.Count(shape);
            var x = LayerCases.WithSpecials(TestData.Random(count, (ulong)(h * 100 + w), -2f, 2f),
                (w + 1, float.NaN), (count / 2, float.PositiveInfinity), (count - 3, float.NegativeInfinity));
            Check(p, shape, x);
            checkedCases++;
        }
        Assert.True(checkedCases > 1000, $"only {checkedCases} valid cases");
    }

    [Fact]
    public void Large_planes_split_across_threads()
    {
        int[] shape = { 1, 64, 112, 112 };
        Check(Pool2dParams.Square(3, 2, 1), shape, TestData.Random(LayerCases.Count(shape), 9));
        int[] wide = { 1, 3, 9, 2100 }; // rows wider than the stack scratch
        Check(Pool2dParams.Square(3, 1, 1), wide, TestData.Random(LayerCases.Count(wide), 10));
    }

    [Fact]
    public void Rejects_windows_over_padding_only()
    {
        Assert.Throws<ShapeMismatchException>(() => MaxPool2d.Compute(new float[9], [1, 1, 3, 3], new float[16], new Pool2dParams(1, 1, 1, 1, 2, 0, 0, 0)));
        Assert.Throws<ShapeMismatchException>(() => MaxPool2d.Compute(new float[4], [1, 1, 2, 2], new float[1], Pool2dParams.Square(3)));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => MaxPool2d.Compute(new float[50], [2, 1, 5, 5], new float[17], Pool2dParams.Square(3))).ParamName);
    }

    private static void Check(Pool2dParams p, int[] shape, float[] x)
    {
        int[] os = p.OutputShape(shape);
        var expected = new float[LayerCases.Count(os)];
        ReferencePool.MaxPool(x, shape, expected, p);
        foreach (int threads in LayerCases.Threads)
        {
            // NaN is a legitimate output here, so the output is poisoned with a sentinel instead.
            var actual = new float[expected.Length];
            Array.Fill(actual, 12345f);
            MaxPool2d.Compute(x, shape, actual, p, threads);
            KernelAssert.Exact(expected, actual, $"{p} [{string.Join(",", shape)}] threads {threads}");
        }
    }
}
