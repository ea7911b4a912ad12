using Lacuna.Kernels.ConvTranspose;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.ConvTranspose;

/// <summary>
/// <see cref="ConvTranspose3d"/> (GEMM + col2vol) against <see cref="ReferenceConvTransposeNd"/> on random data: strides
/// 1-3 (the contiguous and the strided row add), dilations, asymmetric pads, output padding, groups, widths around the
/// vector widths, 1 and 2 threads, and a column budget of 1 (one input row per block); outputs NaN-poisoned. The N-D
/// reference is held to the 2-D one at S = 2. The ONNX node test (test_convtranspose_3d) runs in ConformanceTests.
/// </summary>
public class ConvTranspose3dTests
{
    public static TheoryData<int[], int[], int[], int[], int[], int[], int, int> Cases => new()
    {
        // input [N,C,D,H,W], kernel, strides, pads (begin | end), dilations, output_padding, M, groups
        { [1, 1, 3, 4, 5], [3, 3, 3], [1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1], [0, 0, 0], 2, 1 },
        { [2, 4, 3, 5, 7], [2, 3, 2], [2, 1, 2], [1, 0, 1, 0, 1, 0], [1, 2, 1], [1, 0, 1], 6, 2 },
        { [1, 6, 2, 3, 17], [3, 2, 3], [3, 2, 3], [0, 1, 2, 1, 0, 1], [1, 1, 2], [2, 1, 0], 9, 3 },
        { [1, 16, 2, 2, 15], [1, 1, 1], [1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1], [0, 0, 0], 8, 1 },
        { [3, 2, 4, 1, 9], [2, 1, 4], [1, 1, 2], [0, 0, 1, 1, 0, 2], [2, 1, 1], [0, 0, 1], 4, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(int[] xs, int[] k, int[] s, int[] pads, int[] d, int[] op, int m, int groups)
    {
        var p = new ConvTransposeNdParams(k, s, pads[..3], pads[3..], d, op, groups);
        int[] ws = [xs[1], m / groups, .. k];
        int[] os = p.OutputShape(xs, ws);
        float[] x = TestData.Random(Volume(xs), (ulong)(xs[1] + xs[4])), w = TestData.Random(Volume(ws), 2), b = TestData.Random(m, 3);
        var expected = new float[Volume(os)];
        var actual = new float[expected.Length];
        foreach (bool bias in new[] { true, false })
            foreach (int threads in new[] { 1, 2 })
                foreach (int budget in new[] { ConvTranspose3d.ColumnBudget, 1 })
                {
                    ReferenceConvTransposeNd.Compute(x, xs, w, ws, bias ? b : default, expected, p);
                    Array.Fill(actual, float.NaN);
                    ConvTranspose3d.Compute(x, xs, w, ws, bias ? b : default, actual, p, threads, budget);
                    KernelAssert.Close(expected, actual, xs[1] / groups * p.KernelVolume, $"convtranspose3d {string.Join("x", os)} {p} bias={bias} threads={threads} budget={budget}");
                }
    }

    [Theory]
    // n, c, m, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oph, opw, groups
    [InlineData(2, 4, 6, 5, 7, 3, 2, 2, 1, 1, 0, 0, 1, 1, 2, 1, 0, 2)]
    [InlineData(1, 3, 3, 4, 9, 2, 3, 3, 2, 0, 1, 1, 0, 2, 1, 0, 1, 1)]
    public void NdReference_AtTwoDimensions_EqualsReferenceConvTranspose2d(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int oph, int opw, int groups)
    {
        var p2 = new ConvTranspose2dParams(kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oph, opw, groups);
        var pn = new ConvTransposeNdParams([kh, kw], [sh, sw], [pt, pl], [pb, pr], [dh, dw], [oph, opw], groups);
        int[] xs = [n, c, h, w], ws = [c, m / groups, kh, kw];
        float[] x = TestData.Random(Volume(xs), 4), wt = TestData.Random(Volume(ws), 5), b = TestData.Random(m, 6);
        int[] os = p2.OutputShape(xs, ws);
        Assert.Equal(os, pn.OutputShape(xs, ws));
        var expected = new float[Volume(os)];
        var actual = TestData.Poisoned(expected.Length);
        ReferenceConvTranspose2d.Compute(x, xs, wt, ws, b, expected, p2);
        ReferenceConvTransposeNd.Compute(x, xs, wt, ws, b, actual, pn);
        KernelAssert.Exact(expected, actual, "N-D ConvTranspose reference at S = 2");
    }

    [Fact]
    public void BadGeometry_IsAClearError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvTransposeNdParams([3, 3, 3], [0, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0], 1));
        var p = new ConvTransposeNdParams([3, 3, 3], [1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0], 1);
        var e = Assert.Throws<ShapeMismatchException>(() => p.OutputShape([1, 4, 3, 3, 3], [3, 2, 3, 3, 3]));
        Assert.Contains("3 input channels but the input has 4", e.Message);
    }

    private static int Volume(int[] dims) => dims.Aggregate(1, (a, v) => a * v);
}
