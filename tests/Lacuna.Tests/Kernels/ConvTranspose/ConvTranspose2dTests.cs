using Lacuna.Kernels.ConvTranspose;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.ConvTranspose;

/// <summary>
/// <see cref="ConvTranspose2d"/> (GEMM + col2im) against <see cref="ReferenceConvTranspose2d"/> on random data: strides
/// 1-3 (the contiguous and the strided col2im), dilation, groups, asymmetric pads, output padding, 1-row (1-D) planes,
/// sizes around the GEMM's vector widths; outputs NaN-poisoned. The ONNX node tests run in ConformanceTests.
/// </summary>
public class ConvTranspose2dTests
{
    [Theory]
    // n, c, m, h, w, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight, dh, dw, oph, opw, groups
    [InlineData(1, 3, 2, 5, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1)]
    [InlineData(2, 8, 16, 7, 9, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1)]
    [InlineData(1, 16, 8, 4, 17, 3, 3, 3, 2, 1, 0, 2, 1, 1, 1, 2, 1, 1)]
    [InlineData(1, 6, 9, 6, 6, 3, 2, 2, 1, 0, 1, 0, 0, 2, 3, 1, 0, 3)]
    [InlineData(3, 4, 4, 1, 33, 1, 5, 1, 2, 0, 2, 0, 2, 1, 1, 0, 1, 2)]
    [InlineData(1, 32, 15, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 0, 1)]
    public void MatchesTheReference(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int oph, int opw, int groups)
    {
        var p = new ConvTranspose2dParams(kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oph, opw, groups);
        int[] xs = [n, c, h, w], ws = [c, m / groups, kh, kw];
        int[] os = p.OutputShape(xs, ws);
        float[] x = TestData.Random(n * c * h * w, (ulong)(c + h)), wt = TestData.Random(c * (m / groups) * kh * kw, 2), b = TestData.Random(m, 3);
        var expected = new float[os.Aggregate(1, (a, v) => a * v)];
        var actual = new float[expected.Length];
        foreach (bool bias in new[] { true, false })
        {
            ReferenceConvTranspose2d.Compute(x, xs, wt, ws, bias ? b : default, expected, p);
            Array.Fill(actual, float.NaN);
            ConvTranspose2d.Compute(x, xs, wt, ws, bias ? b : default, actual, p);
            ElementwiseCheck.Close(expected, actual, $"convtranspose {string.Join("x", os)} bias={bias}", rtol: 1e-5f, atol: 1e-5f);
        }
    }

    [Fact]
    public void OutputShapeLargerThanNatural_PadsAtTheEnd_AndTooSmallIsAnError()
    {
        // input 3, stride 3, kernel 3: natural output 9; asking for 10 adds one row of output padding.
        Assert.Equal((0, 0, 1), ConvTranspose2dParams.Resolve(3, 3, 3, 1, 0, 10, sameUpper: false));
        Assert.Equal((1, 2, 0), ConvTranspose2dParams.Resolve(3, 3, 3, 1, 0, 6, sameUpper: true));
        Assert.Equal((2, 1, 0), ConvTranspose2dParams.Resolve(3, 3, 3, 1, 0, 6, sameUpper: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose2dParams.Resolve(3, 3, 3, 1, 0, 0, sameUpper: false));
    }

    [Fact]
    public void WrongWeightChannels_IsAShapeError()
    {
        var p = new ConvTranspose2dParams(3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1);
        var e = Assert.Throws<ShapeMismatchException>(() => p.OutputShape([1, 4, 5, 5], [3, 2, 3, 3]));
        Assert.Contains("3 input channels but the input has 4", e.Message);
    }
}
