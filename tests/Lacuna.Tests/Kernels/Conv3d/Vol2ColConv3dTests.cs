using Lacuna.Kernels;
using Lacuna.Kernels.Conv3d;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Conv3d;

/// <summary>
/// <see cref="Vol2ColConv3d"/> (im2col + GEMM) against <see cref="ReferenceConvNd"/> on random data: strides 1-3 (the
/// contiguous and the strided row copy), dilations, asymmetric pads, groups, the 1×1×1 direct case, widths and tap
/// counts just below, at and above the vector widths (8, 16) and GEMM tiles, with and without bias, Relu and Clip
/// epilogues, 1 and 2 threads, and a small column budget that splits the output into many row blocks; outputs
/// NaN-poisoned. Runs on every ISA tier through the CI's DOTNET_Enable* re-runs.
/// </summary>
public class Vol2ColConv3dTests
{
    public static TheoryData<int[], int[], int[], int[], int[], int, int> Cases => new()
    {
        // input [N,C,D,H,W], kernel, strides, pads (d,h,w begin | d,h,w end), dilations, output channels M, groups
        { [1, 3, 5, 6, 7], [3, 3, 3], [1, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1], 4, 1 },
        { [2, 4, 7, 5, 17], [2, 3, 3], [2, 1, 2], [0, 1, 1, 1, 0, 2], [1, 2, 1], 6, 2 },
        { [1, 2, 4, 9, 15], [1, 1, 1], [1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1], 17, 1 },
        { [1, 5, 3, 8, 16], [1, 1, 1], [1, 2, 3], [0, 1, 0, 0, 0, 1], [1, 1, 1], 7, 1 },
        { [1, 6, 6, 6, 33], [3, 1, 5], [1, 3, 1], [2, 0, 2, 1, 0, 2], [2, 1, 3], 9, 3 },
        { [3, 1, 9, 4, 8], [3, 2, 2], [3, 1, 2], [1, 0, 1, 1, 1, 0], [1, 1, 1], 16, 1 },
        { [1, 8, 2, 3, 31], [2, 2, 7], [1, 1, 1], [0, 0, 3, 1, 1, 3], [1, 2, 1], 8, 8 },
        { [1, 16, 3, 7, 9], [3, 3, 3], [2, 2, 2], [1, 1, 1, 1, 1, 1], [1, 1, 1], 15, 1 },
        { [2, 3, 1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1], 5, 1 },
        { [1, 2, 2, 2, 2], [3, 3, 3], [1, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1], 3, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(int[] xs, int[] k, int[] s, int[] pads, int[] d, int m, int groups)
    {
        var p = new ConvNdParams(k, s, pads[..3], pads[3..], d, groups);
        int[] ws = [m, xs[1] / groups, .. k];
        int[] os = p.OutputShape(xs, ws);
        int taps = ws[1] * p.KernelVolume;
        float[] x = TestData.Random(Volume(xs), (ulong)(xs[1] * 31 + xs[4])), w = TestData.Random(Volume(ws), 2), b = TestData.Random(m, 3);
        var expected = new float[Volume(os)];
        var actual = new float[expected.Length];
        foreach (var act in new[] { Activation.None, Activation.Relu, Activation.Clip(-0.25f, 0.5f) })
            foreach (bool bias in new[] { true, false })
                foreach (int threads in new[] { 1, 2 })
                    foreach (int budget in new[] { Vol2ColConv3d.ColumnBudget, 1 })
                    {
                        ReferenceConvNd.Compute(x, xs, w, ws, bias ? b : default, expected, p, act);
                        Array.Fill(actual, float.NaN);
                        Vol2ColConv3d.Compute(x, xs, w, ws, bias ? b : default, actual, p, act, threads, budget);
                        KernelAssert.Close(expected, actual, taps, $"conv3d {string.Join("x", os)} {p} act {act.Kind} bias={bias} threads={threads} budget={budget}");
                    }
    }

    [Fact]
    public void NonFiniteInputs_PropagateAsTheReferenceDoes()
    {
        int[] xs = [1, 2, 3, 4, 9], ws = [3, 2, 2, 2, 2];
        var p = new ConvNdParams([2, 2, 2], [1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 1], 1);
        float[] x = TestData.Random(Volume(xs), 5), w = TestData.Random(Volume(ws), 6);
        x[7] = float.NaN;
        x[40] = float.PositiveInfinity;
        x[41] = float.NegativeInfinity;
        int[] os = p.OutputShape(xs, ws);
        var expected = new float[Volume(os)];
        var actual = TestData.Poisoned(expected.Length);
        ReferenceConvNd.Compute(x, xs, w, ws, default, expected, p);
        Vol2ColConv3d.Compute(x, xs, w, ws, default, actual, p);
        Assert.Contains(expected, float.IsNaN);
        Assert.Contains(expected, float.IsInfinity);
        KernelAssert.Close(expected, actual, 16, "NaN and ±Inf inputs");
    }

    [Fact]
    public void WeightNotMatchingTheInput_IsAShapeError()
    {
        var p = ConvNdParams.Plain(3, 3, 3);
        var e = Assert.Throws<ShapeMismatchException>(() => Vol2ColConv3d.Compute(new float[2 * 125], [1, 2, 5, 5, 5], new float[4 * 27], [4, 1, 3, 3, 3], default, new float[4 * 27], p));
        Assert.Contains("1 input channels per group", e.Message);
        var big = ConvNdParams.Plain(7, 1, 1);
        Assert.Throws<ShapeMismatchException>(() => big.OutputShape([1, 1, 5, 5, 5], [1, 1, 7, 1, 1]));
    }

    private static int Volume(int[] dims) => dims.Aggregate(1, (a, v) => a * v);
}
