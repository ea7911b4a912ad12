using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>
/// <see cref="ReferenceConvNd"/>, the specification of 3-D Conv, held to the independent 2-D reference: at S = 2 on the
/// same data, and at S = 3 where one spatial axis is trivial (a 3-D conv with a depth-1 kernel is a 2-D conv per depth
/// slice; one on [D, 1, 1] volumes is a 1-D conv along depth), so every axis's stride, pad and dilation is checked.
/// </summary>
public class ReferenceConvNdTests
{
    [Theory]
    // n, c, m, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups
    [InlineData(1, 3, 4, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)]
    [InlineData(2, 4, 6, 8, 5, 2, 3, 2, 1, 0, 2, 1, 0, 1, 2, 2)]
    [InlineData(1, 6, 3, 5, 11, 3, 1, 1, 3, 2, 0, 0, 0, 2, 1, 3)]
    public void TwoDimensional_EqualsReferenceConv2d(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int groups)
    {
        var p2 = new Conv2dParams(kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups);
        var pn = new ConvNdParams([kh, kw], [sh, sw], [pt, pl], [pb, pr], [dh, dw], groups);
        int[] xs = [n, c, h, w], ws = [m, c / groups, kh, kw];
        float[] x = TestData.Random(n * c * h * w, 1), wt = TestData.Random(m * (c / groups) * kh * kw, 2), b = TestData.Random(m, 3);
        int[] os = p2.OutputShape(xs, ws);
        Assert.Equal(os, pn.OutputShape(xs, ws));
        var expected = new float[os.Aggregate(1, (a, v) => a * v)];
        var actual = TestData.Poisoned(expected.Length);
        ReferenceConv2d.Compute(x, xs, wt, ws, b, expected, p2, Activation.Relu);
        ReferenceConvNd.Compute(x, xs, wt, ws, b, actual, pn, Activation.Relu);
        KernelAssert.Exact(expected, actual, "N-D reference at S = 2");
    }

    [Fact]
    public void DepthOneKernel_IsATwoDimensionalConvPerDepthSlice()
    {
        int n = 2, c = 4, m = 6, d = 5, h = 6, w = 7, groups = 2;
        var p3 = new ConvNdParams([1, 3, 2], [1, 2, 1], [0, 1, 0], [0, 0, 1], [1, 1, 2], groups);
        var p2 = new Conv2dParams(3, 2, 2, 1, 1, 0, 0, 1, 1, 2, groups);
        float[] x = TestData.Random(n * c * d * h * w, 4), wt = TestData.Random(m * (c / groups) * 3 * 2, 5), b = TestData.Random(m, 6);
        int[] os3 = p3.OutputShape([n, c, d, h, w], [m, c / groups, 1, 3, 2]);
        int[] os2 = p2.OutputShape([n, c, h, w], [m, c / groups, 3, 2]);
        Assert.Equal(new[] { n, m, d, os2[2], os2[3] }, os3);
        var y3 = TestData.Poisoned(os3.Aggregate(1, (a, v) => a * v));
        ReferenceConvNd.Compute(x, [n, c, d, h, w], wt, [m, c / groups, 1, 3, 2], b, y3, p3);
        int plane = h * w, oplane = os2[2] * os2[3];
        for (int z = 0; z < d; z++)
        {
            // The depth slice z of every image and channel, as a 2-D input [N, C, H, W].
            var slice = new float[n * c * plane];
            for (int i = 0; i < n * c; i++) x.AsSpan((i * d + z) * plane, plane).CopyTo(slice.AsSpan(i * plane));
            var y2 = new float[n * m * oplane];
            ReferenceConv2d.Compute(slice, [n, c, h, w], wt, [m, c / groups, 3, 2], b, y2, p2);
            for (int i = 0; i < n * m; i++)
                KernelAssert.Exact(y2.AsSpan(i * oplane, oplane), y3.AsSpan((i * d + z) * oplane, oplane), $"slice {z}, plane {i}");
        }
    }

    [Fact]
    public void DepthOnlyVolumes_AreAOneDimensionalConvAlongDepth()
    {
        int c = 3, m = 2, d = 19;
        var p3 = new ConvNdParams([4, 1, 1], [2, 1, 1], [3, 0, 0], [1, 0, 0], [2, 1, 1], 1);
        var p2 = new Conv2dParams(1, 4, 1, 2, 0, 3, 0, 1, 1, 2, 1);
        float[] x = TestData.Random(c * d, 7), wt = TestData.Random(m * c * 4, 8);
        int[] os3 = p3.OutputShape([1, c, d, 1, 1], [m, c, 4, 1, 1]);
        var y3 = TestData.Poisoned(os3.Aggregate(1, (a, v) => a * v));
        ReferenceConvNd.Compute(x, [1, c, d, 1, 1], wt, [m, c, 4, 1, 1], default, y3, p3);
        var y2 = new float[y3.Length];
        ReferenceConv2d.Compute(x, [1, c, 1, d], wt, [m, c, 1, 4], default, y2, p2);
        KernelAssert.Exact(y2, y3, "depth-only volumes");
    }
}
