using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>
/// ReferenceConv2d against an independent formulation: an im2col written here (not the engine's) and, per group,
/// ReferenceGemm of the weight matrix [M/g × C/g·KH·KW] with the column matrix [C/g·KH·KW × OH·OW].
/// </summary>
public class ReferenceConv2dTests
{
    [Fact]
    public void HandComputedAsymmetricPadsAndStride()
    {
        // 3x3 input 1..9, one 2x2 kernel of ones, stride 2, pads top 1 right 1: windows sum {1,2}, {3}, {4,5,7,8}, {6,9}.
        var p = new Conv2dParams(2, 2, 2, 2, PadTop: 1, PadLeft: 0, PadBottom: 0, PadRight: 1);
        var y = TestData.Poisoned(4);
        ReferenceConv2d.Compute(Enumerable.Range(1, 9).Select(i => (float)i).ToArray(), [1, 1, 3, 3], [1, 1, 1, 1], [1, 1, 2, 2], [0.5f], y, p);
        Assert.Equal(new float[] { 3.5f, 3.5f, 24.5f, 15.5f }, y);
    }

    public static TheoryData<string, int[], int[], Conv2dParams> Cases() => new()
    {
        { "3x3 pad 1", [2, 3, 7, 6], [4, 3, 3, 3], Conv2dParams.Square(3, pad: 1) },
        { "stride 2 asymmetric pads", [1, 2, 9, 8], [3, 2, 3, 3], new Conv2dParams(3, 3, 2, 2, PadTop: 0, PadLeft: 1, PadBottom: 2, PadRight: 0) },
        { "dilation 2, non-square kernel", [1, 3, 9, 10], [2, 3, 2, 3], new Conv2dParams(2, 3, 1, 1, 1, 2, 1, 0, DilationH: 2, DilationW: 2) },
        { "groups 2, stride 2x1, dilation 1x2", [2, 4, 8, 9], [6, 2, 3, 2], new Conv2dParams(3, 2, 2, 1, 1, 0, 0, 1, 1, 2, Groups: 2) },
        { "depthwise", [1, 5, 6, 6], [5, 1, 3, 3], Conv2dParams.Square(3, stride: 2, pad: 1, groups: 5) },
        { "1x1", [1, 7, 4, 5], [3, 7, 1, 1], Conv2dParams.Square(1) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesIm2ColPlusGemm(string name, int[] inputShape, int[] weightShape, Conv2dParams p)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        float[] x = TestData.Random(inputShape.Aggregate(1, (a, d) => a * d), 11);
        float[] w = TestData.Random(weightShape.Aggregate(1, (a, d) => a * d), 12);
        float[] bias = TestData.Random(weightShape[0], 13);
        var expected = Im2ColGemm(x, inputShape, w, weightShape, bias, p, os);
        foreach (var act in new[] { Activation.None, Activation.Relu })
        {
            var y = TestData.Poisoned(expected.Length);
            ReferenceConv2d.Compute(x, inputShape, w, weightShape, bias, y, p, act);
            var e = expected.Select(act.Apply).ToArray();
            KernelAssert.Close(e, y, weightShape[1] * p.KernelH * p.KernelW, $"{name} {act}");
        }
    }

    private static float[] Im2ColGemm(float[] x, int[] xs, float[] w, int[] ws, float[] bias, Conv2dParams p, int[] os)
    {
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
        int m = ws[0], g = p.Groups, cg = c / g, mg = m / g;
        int oh = os[2], ow = os[3], rows = cg * p.KernelH * p.KernelW, cols = oh * ow;
        var y = new float[n * m * cols];
        var col = new float[rows * cols];
        for (int b = 0; b < n; b++)
        for (int grp = 0; grp < g; grp++)
        {
            // col[(ic, kh, kw), (oy, ox)] = padded input at (oy·sh - pt + kh·dh, ox·sw - pl + kw·dw), 0 outside.
            for (int ic = 0; ic < cg; ic++)
            for (int kh = 0; kh < p.KernelH; kh++)
            for (int kw = 0; kw < p.KernelW; kw++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int iy = oy * p.StrideH - p.PadTop + kh * p.DilationH, ix = ox * p.StrideW - p.PadLeft + kw * p.DilationW;
                bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                col[((ic * p.KernelH + kh) * p.KernelW + kw) * cols + oy * ow + ox] =
                    inside ? x[((b * c + grp * cg + ic) * h + iy) * wd + ix] : 0f;
            }
            var wGroup = w.AsSpan(grp * mg * rows, mg * rows);
            var yGroup = y.AsSpan((b * m + grp * mg) * cols, mg * cols);
            ReferenceGemm.Compute(mg, cols, rows, wGroup, rows, false, col, cols, false, yGroup, cols,
                bias: bias.AsSpan(grp * mg, mg), biasAxis: BiasAxis.Row);
        }
        return y;
    }
}
