using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Train;

/// <summary>
/// The backward reference is checked against central finite differences of <see cref="ReferenceConv2d"/>:
/// for L(x, w) = Σ y · g, ∂L/∂x = BackwardInput(g) and ∂L/∂w = BackwardWeights(x, g). The conv is linear, so the
/// difference quotient is exact up to float rounding of y.
/// </summary>
public class ReferenceConv2dBackwardTests
{
    private static double Loss(float[] x, int[] xs, float[] w, int[] ws, float[] g, Conv2dParams p)
    {
        var y = new float[g.Length];
        ReferenceConv2d.Compute(x, xs, w, ws, default, y, p);
        double l = 0;
        for (int i = 0; i < y.Length; i++) l += (double)y[i] * g[i];
        return l;
    }

    public static TheoryData<int, int, int, int, int, int, int, int> Cases => new()
    {
        // n, c, m, h, w, kernel, stride, pad
        { 2, 3, 4, 5, 6, 3, 1, 1 },
        { 1, 4, 2, 7, 5, 3, 2, 1 },
        { 2, 2, 3, 4, 4, 1, 1, 0 },
        { 1, 3, 2, 6, 7, 2, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_MatchFiniteDifferences(int n, int c, int m, int h, int w, int k, int stride, int pad)
    {
        var p = Conv2dParams.Square(k, stride, pad);
        int[] xs = { n, c, h, w }, ws = { m, c, k, k };
        int[] ys = p.OutputShape(xs, ws);
        var x = TestData.Random(n * c * h * w, 11);
        var wt = TestData.Random(m * c * k * k, 12);
        var g = TestData.Random(ys[0] * ys[1] * ys[2] * ys[3], 13);
        var dx = TestData.Poisoned(x.Length);
        var dw = TestData.Poisoned(wt.Length);
        ReferenceConv2dBackward.BackwardInput(g, wt, ws, dx, xs, p);
        ReferenceConv2dBackward.BackwardWeights(x, xs, g, dw, ws, p);
        const float eps = 0.01f;
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + eps; double up = Loss(x, xs, wt, ws, g, p);
            x[i] = keep - eps; double down = Loss(x, xs, wt, ws, g, p);
            x[i] = keep;
            Assert.True(Math.Abs((up - down) / (2 * eps) - dx[i]) < 2e-3, $"dx[{i}] = {dx[i]}, finite difference {(up - down) / (2 * eps)}");
        }
        for (int i = 0; i < wt.Length; i++)
        {
            float keep = wt[i];
            wt[i] = keep + eps; double up = Loss(x, xs, wt, ws, g, p);
            wt[i] = keep - eps; double down = Loss(x, xs, wt, ws, g, p);
            wt[i] = keep;
            Assert.True(Math.Abs((up - down) / (2 * eps) - dw[i]) < 2e-3, $"dw[{i}] = {dw[i]}, finite difference {(up - down) / (2 * eps)}");
        }
    }

    [Fact]
    public void RejectsShortBuffers_NamingThem()
    {
        var p = Conv2dParams.Square(3, 1, 1);
        int[] xs = { 1, 2, 4, 4 }, ws = { 3, 2, 3, 3 };
        Assert.Equal("inputGradient", Assert.ThrowsAny<ArgumentException>(() =>
            ReferenceConv2dBackward.BackwardInput(new float[48], new float[54], ws, new float[31], xs, p)).ParamName);
        Assert.Equal("outputGradient", Assert.ThrowsAny<ArgumentException>(() =>
            ReferenceConv2dBackward.BackwardWeights(new float[32], xs, new float[47], new float[54], ws, p)).ParamName);
        Assert.Equal("weight", Assert.ThrowsAny<ArgumentException>(() =>
            ReferenceConv2dBackward.BackwardInput(new float[48], new float[54], new[] { 3, 1, 3, 3 }, new float[32], xs, p)).ParamName);
    }
}
