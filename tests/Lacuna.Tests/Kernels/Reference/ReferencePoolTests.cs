using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>MaxPool, AveragePool and GlobalAveragePool on tiny inputs; expected values by hand in the comments.</summary>
public class ReferencePoolTests
{
    // 1x1x4x4 input:      1  2  3  4
    //                     5  6  7  8
    //                     9 10 11 12
    //                    13 14 15 16
    private static readonly float[] X16 = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
    private static readonly int[] Shape16 = { 1, 1, 4, 4 };

    // 1x1x3x3 input: 1 2 3 / 4 5 6 / 7 8 9
    private static readonly float[] X9 = Enumerable.Range(1, 9).Select(i => (float)i).ToArray();
    private static readonly int[] Shape9 = { 1, 1, 3, 3 };

    // Kernel 2x2, stride 2, pads top 1 left 0 bottom 0 right 1 on the 3x3 input: OH = OW = (3+1-2)/2+1 = 2.
    // Row windows {-1,0} {1,2}; column windows {0,1} {2,3}. Inside elements: (0,0) {1,2}, (0,1) {3},
    // (1,0) {4,5,7,8}, (1,1) {6,9}; every window has 4 positions inside the padded input.
    private static readonly Pool2dParams Asym = new(2, 2, 2, 2, PadTop: 1, PadLeft: 0, PadBottom: 0, PadRight: 1);

    private static float[] Max(float[] x, int[] shape, Pool2dParams p)
    {
        int[] os = p.OutputShape(shape);
        var y = TestData.Poisoned(os.Aggregate(1, (a, d) => a * d));
        ReferencePool.MaxPool(x, shape, y, p);
        return y;
    }

    private static float[] Avg(float[] x, int[] shape, Pool2dParams p)
    {
        int[] os = p.OutputShape(shape);
        var y = TestData.Poisoned(os.Aggregate(1, (a, d) => a * d));
        ReferencePool.AveragePool(x, shape, y, p);
        return y;
    }

    [Fact]
    public void MaxPoolTwoByTwoStrideTwo() =>
        Assert.Equal(new float[] { 6, 8, 14, 16 }, Max(X16, Shape16, Pool2dParams.Square(2, 2)));

    [Fact]
    public void MaxPoolEachChannelSeparately()
    {
        // Channel 1 holds the negatives -1..-16: the max of each 2x2 block is its top-left element.
        float[] x = [.. X16, .. X16.Select(v => -v)];
        Assert.Equal(new float[] { 6, 8, 14, 16, -1, -3, -9, -11 }, Max(x, [1, 2, 4, 4], Pool2dParams.Square(2, 2)));
    }

    [Fact]
    public void CeilModeAddsThePartialWindow()
    {
        // Kernel 3, stride 2 on 4: floor gives (4-3)/2+1 = 1, ceil gives ceil(1/2)+1 = 2 (rows {0,1,2} and {2,3}).
        Assert.Equal(new float[] { 11 }, Max(X16, Shape16, Pool2dParams.Square(3, 2)));
        Assert.Equal(new float[] { 11, 12, 15, 16 }, Max(X16, Shape16, Pool2dParams.Square(3, 2, ceilMode: true)));
        // Averages over the clipped windows: 54/9, (3+4+7+8+11+12)/6, (9+10+11+13+14+15)/6, (11+12+15+16)/4.
        Assert.Equal(new float[] { 6, 7.5f, 12, 13.5f }, Avg(X16, Shape16, Pool2dParams.Square(3, 2, ceilMode: true)));
        // The overflow past the input is not explicit padding: count_include_pad changes nothing here.
        Assert.Equal(new float[] { 6, 7.5f, 12, 13.5f }, Avg(X16, Shape16, Pool2dParams.Square(3, 2, ceilMode: true, countIncludePad: true)));
    }

    [Fact]
    public void CeilModeDropsAWindowThatWouldStartInTheEndPadding()
    {
        // W=4, kernel 2, stride 2, pad right 1: ceil((4+1-2)/2)+1 = 3, but window 2 would start at 4 = W + padLeft: dropped.
        Assert.Equal(2, new Pool2dParams(1, 2, 1, 2, PadRight: 1, CeilMode: true).OutputWidth(4));
        // Same with pad left 1 instead: window 2 starts at 3 < 4 + 1, kept; floor mode gives (4+1-2)/2+1 = 2.
        Assert.Equal(3, new Pool2dParams(1, 2, 1, 2, PadLeft: 1, CeilMode: true).OutputWidth(4));
        Assert.Equal(2, new Pool2dParams(1, 2, 1, 2, PadLeft: 1).OutputWidth(4));
    }

    [Fact]
    public void CountIncludePadCountsExplicitPaddingButNotCeilOverflow()
    {
        // Row [1,2,3,4], kernel 1x2, stride 2, pad left 1, ceil: windows {-1,0} {1,2} {3,4}.
        // Excluding pad: 1/1, (2+3)/2, 4/1. Including: 1/2 (position -1 is explicit padding), 5/2, 4/1 (position 4 is past the end padding).
        float[] x = { 1, 2, 3, 4 };
        int[] shape = { 1, 1, 1, 4 };
        Assert.Equal(new float[] { 1, 2.5f, 4 }, Avg(x, shape, new Pool2dParams(1, 2, 1, 2, PadLeft: 1, CeilMode: true)));
        Assert.Equal(new float[] { 0.5f, 2.5f, 4 }, Avg(x, shape, new Pool2dParams(1, 2, 1, 2, PadLeft: 1, CeilMode: true, CountIncludePad: true)));
    }

    [Fact]
    public void AsymmetricPadsMaxAndAverageBothWays()
    {
        Assert.Equal(new[] { 1, 1, 2, 2 }, Asym.OutputShape(Shape9));
        Assert.Equal(new float[] { 2, 3, 8, 9 }, Max(X9, Shape9, Asym));
        // Sums 3, 3, 24, 15 over inside counts 2, 1, 4, 2 ...
        Assert.Equal(new float[] { 1.5f, 3, 6, 7.5f }, Avg(X9, Shape9, Asym));
        // ... or over 4 padded positions each.
        Assert.Equal(new float[] { 0.75f, 0.75f, 6, 3.75f }, Avg(X9, Shape9, Asym with { CountIncludePad = true }));
    }

    [Fact]
    public void MaxPoolDilation()
    {
        // Kernel 2x2, dilation 2, stride 1 on 4x4: span 3, output 2x2; window (0,0) = {1,3,9,11}, (0,1) = {2,4,10,12}, ...
        var p = new Pool2dParams(2, 2, DilationH: 2, DilationW: 2);
        Assert.Equal(new float[] { 11, 12, 15, 16 }, Max(X16, Shape16, p));
    }

    [Fact]
    public void MaxPoolPropagatesNaNAndIgnoresPadding()
    {
        // All-negative input with padding 1: padding must not contribute a 0.
        float[] x = { -5, -6, -7, -8 };
        Assert.Equal(new float[] { -5, -5, -6, -5, -5, -6, -7, -7, -8 }, Max(x, [1, 1, 2, 2], Pool2dParams.Square(2, 1, 1)));
        float[] withNaN = { 1, float.NaN, 3, 4 };
        Assert.True(float.IsNaN(Max(withNaN, [1, 1, 2, 2], Pool2dParams.Square(2))[0]));
    }

    [Fact]
    public void InvalidGeometryThrowsNamingTheArgument()
    {
        Assert.Equal("kernel", Assert.Throws<ArgumentOutOfRangeException>(() => Pool2dParams.Square(0).OutputShape(Shape16)).ParamName);
        Assert.Equal("stride", Assert.Throws<ArgumentOutOfRangeException>(() => Pool2dParams.Square(2, 0).OutputShape(Shape16)).ParamName);
        Assert.Equal("pads", Assert.Throws<ArgumentOutOfRangeException>(() => Pool2dParams.Square(2, 1, -1).OutputShape(Shape16)).ParamName);
        // Kernel 1 with pad 1: the first window sees padding only.
        var e = Assert.Throws<ShapeMismatchException>(() => Pool2dParams.Square(1, 1, 1).OutputShape(Shape16));
        Assert.Equal("pads", e.ParamName);
        Assert.Contains("covers padding only", e.Message);
        // Kernel larger than the padded input.
        var small = Assert.Throws<ShapeMismatchException>(() => Pool2dParams.Square(5).OutputShape(Shape16, "MaxPool"));
        Assert.Equal("input", small.ParamName);
        Assert.Contains("[1, 1, 4, 4]", small.Message);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Pool2dParams.Square(2).OutputShape([1, 4, 4])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferencePool.MaxPool(new float[15], Shape16, new float[4], Pool2dParams.Square(2, 2))).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => ReferencePool.AveragePool(X16, Shape16, new float[3], Pool2dParams.Square(2, 2))).ParamName);
    }

    [Fact]
    public void GlobalAveragePoolAveragesEachPlane()
    {
        // Channel 0: (1+2+3+4)/4 = 2.5; channel 1: (10+20+30+40)/4 = 25.
        float[] x = { 1, 2, 3, 4, 10, 20, 30, 40 };
        Assert.Equal(new[] { 1, 2, 1, 1 }, ReferencePool.GlobalAveragePoolShape([1, 2, 2, 2]));
        var y = TestData.Poisoned(2);
        ReferencePool.GlobalAveragePool(x, [1, 2, 2, 2], y);
        Assert.Equal(new float[] { 2.5f, 25 }, y);
        // Rank 3 (1-D spatial) too: [2,1,4] → means 2.5 and 25.
        ReferencePool.GlobalAveragePool(x, [2, 1, 4], y);
        Assert.Equal(new float[] { 2.5f, 25 }, y);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => ReferencePool.GlobalAveragePoolShape([2, 3])).ParamName);
    }
}
