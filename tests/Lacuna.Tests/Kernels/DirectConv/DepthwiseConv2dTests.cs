using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.DirectConv;

/// <summary>The depthwise sweep of every supported tier, the plan and the one-off form vs the reference.</summary>
public class DepthwiseConv2dTests
{
    private static readonly Activation[] s_acts = { Activation.None, Activation.Relu, Activation.Clip(0f, 6f), Activation.Clip(-0.25f, 0.5f) };

    /// <summary>
    /// Output widths just below, at and above 4, 8, 16 and 32 columns, for kernels 3 and 5, strides 1 and 2, pads
    /// 0 to 2, channels 1, 3 and 17, batch 1 and 2; activation, bias and output height vary with the case number.
    /// </summary>
    private static IEnumerable<ConvCase> Cases()
    {
        int i = 0;
        foreach (int ow in new[] { 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33 })
            foreach (int k in new[] { 3, 5 })
                foreach (int s in new[] { 1, 2 })
                    foreach (int pad in new[] { 0, 1, 2 })
                        foreach (int c in new[] { 1, 3, 17 })
                            foreach (int n in new[] { 1, 2 })
                            {
                                int oh = 1 + i % 5;
                                int w = (ow - 1) * s + k - 2 * pad, h = (oh - 1) * s + k - 2 * pad;
                                if (w < 1 || h < 1) continue;
                                yield return Make(ref i, n, c, h, w, Conv2dParams.Square(k, stride: s, pad: pad, groups: c));
                            }
        // Asymmetric pads, rectangular kernels and strides, stride 3, dilation 2, 1x1 and 7x7.
        yield return Make(ref i, 1, 3, 9, 13, new Conv2dParams(3, 3, 1, 1, PadTop: 0, PadLeft: 1, PadBottom: 2, PadRight: 0, Groups: 3));
        yield return Make(ref i, 2, 4, 10, 19, new Conv2dParams(2, 3, 2, 1, PadTop: 1, PadLeft: 0, PadBottom: 0, PadRight: 2, Groups: 4));
        yield return Make(ref i, 1, 5, 8, 20, new Conv2dParams(3, 5, 1, 3, PadTop: 2, PadLeft: 3, PadBottom: 1, PadRight: 0, Groups: 5));
        yield return Make(ref i, 1, 3, 9, 37, Conv2dParams.Square(3, pad: 2, dilation: 2, groups: 3));
        yield return Make(ref i, 2, 3, 12, 35, Conv2dParams.Square(3, stride: 2, pad: 1, dilation: 2, groups: 3));
        yield return Make(ref i, 1, 6, 11, 40, Conv2dParams.Square(3, stride: 3, pad: 1, groups: 6));
        yield return Make(ref i, 1, 3, 5, 17, Conv2dParams.Square(1, groups: 3));
        yield return Make(ref i, 1, 3, 14, 14, Conv2dParams.Square(7, stride: 2, pad: 3, groups: 3));
        // Stride-1 planes with rows of 12+ floats fill row by row, too (the cases above with OW >= 10 and pad 1).
        // Planes above DepthwiseLayout.GatherLimit, filled row by row (the AVX-512 stride-2 rows too).
        yield return Make(ref i, 2, 3, 70, 66, Conv2dParams.Square(3, pad: 1, groups: 3));
        yield return Make(ref i, 1, 2, 75, 81, Conv2dParams.Square(5, stride: 2, pad: 2, groups: 2));
        yield return Make(ref i, 1, 2, 96, 97, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 2));
        // Output rows of DepthwiseConv2d.DirectRowsFrom columns and more, swept straight into the output.
        yield return Make(ref i, 2, 3, 5, 96, Conv2dParams.Square(3, pad: 1, groups: 3));
        yield return Make(ref i, 1, 2, 7, 130, Conv2dParams.Square(5, pad: 2, groups: 2));
        yield return Make(ref i, 2, 2, 6, 225, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 2));
        // MobileNetV2's stride-2 576-channel layer shape, fewer channels: 14x14 → 7x7.
        yield return Make(ref i, 1, 17, 14, 14, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 17));
    }

    private static ConvCase Make(ref int i, int n, int c, int h, int w, Conv2dParams p)
    {
        var act = s_acts[i % s_acts.Length];
        bool bias = i % 3 != 1;
        var cc = new ConvCase($"#{i} n{n} c{c} {h}x{w} k{p.KernelH}x{p.KernelW} s{p.StrideH}x{p.StrideW} p{p.PadTop},{p.PadLeft},{p.PadBottom},{p.PadRight} d{p.DilationH} {act}{(bias ? " bias" : "")}",
            n, c, h, w, c, p, act, bias);
        i++;
        return cc;
    }

    private static unsafe float[] RunKernel(ConvCase cc, DepthwiseConvKernel k, float[] x, float[] w, float[] b, int threads)
    {
        var g = new ConvGeometry(cc.C, cc.H, cc.W, cc.M, cc.P);
        var y = TestData.Poisoned(cc.OutputLength);
        fixed (float* px = x, pw = w, pb = b, py = y)
            DepthwiseConv2d.Run(g, new DepthwiseLayout(g), k, pw, b.Length == 0 ? null : pb, cc.Act, px, py, cc.N, threads);
        return y;
    }

    [Fact]
    public void Sweeps_MatchReference_OnEverySupportedTier_OneAndTwoThreads()
    {
        int runs = 0;
        var cases = Cases().ToList();
        Assert.True(cases.Count > 700, $"{cases.Count} cases");
        foreach (var cc in cases)
        {
            var (x, w, b) = cc.Data();
            var expected = cc.Expected(x, w, b);
            foreach (var k in DepthwiseConvKernels.Supported)
                foreach (int threads in new[] { 1, 2 })
                {
                    KernelAssert.Close(expected, RunKernel(cc, k, x, w, b, threads), cc.Reduction, $"{k} t{threads} {cc}");
                    runs++;
                }
        }
        Assert.Contains(DepthwiseConvKernels.Supported, k => k.Tier == IsaTier.Scalar);
        Assert.Equal(IsaTiers.Best, DepthwiseConvKernels.Best.Tier);
        Assert.Equal(cases.Count * 2 * DepthwiseConvKernels.Supported.Count(), runs);
    }

    [Fact]
    public void Plan_ChoosesDepthwise_AndPlanAndOneOffMatchReference()
    {
        foreach (var cc in Cases().Where((_, i) => i % 7 == 0))
        {
            var (x, w, b) = cc.Data();
            var expected = cc.Expected(x, w, b);
            var plan = DenseConv2dPlan.Create(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act);
            Assert.Equal(ConvAlgorithm.Depthwise, plan.Algorithm);
            Assert.StartsWith("Depthwise ", plan.Describe());
            foreach (int threads in new[] { 1, 2 })
            {
                var y = TestData.Poisoned(cc.OutputLength);
                plan.Run(x, y, cc.N, threads);
                KernelAssert.Close(expected, y, cc.Reduction, $"plan t{threads} {cc}");
                // A second run on the same thread's scratch, grown by other shapes before it, gives the same answer.
                var again = TestData.Poisoned(cc.OutputLength);
                plan.Run(x, again, cc.N, threads);
                KernelAssert.Exact(y, again, $"plan rerun t{threads} {cc}");
            }
            var once = TestData.Poisoned(cc.OutputLength);
            DenseConv2d.Compute(x, cc.InputShape, w, cc.WeightShape, b, once, cc.P, cc.Act, 2);
            KernelAssert.Close(expected, once, cc.Reduction, $"one-off {cc}");
        }
    }

    [Fact]
    public void DepthwiseMultiplierTwo_AndGroupedConvs_StayOnTheOtherLowerings()
    {
        var multiplier = new ConvCase("dw x2", 1, 3, 6, 8, 6, Conv2dParams.Square(3, pad: 1, groups: 3), Activation.Relu, true);
        var grouped = new ConvCase("g2", 1, 4, 6, 11, 2, Conv2dParams.Square(3, pad: 1, groups: 2), Activation.None, true);
        foreach (var cc in new[] { multiplier, grouped })
        {
            var (x, w, b) = cc.Data();
            var plan = DenseConv2dPlan.Create(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act);
            Assert.NotEqual(ConvAlgorithm.Depthwise, plan.Algorithm);
            var y = TestData.Poisoned(cc.OutputLength);
            plan.Run(x, y, cc.N, 1);
            KernelAssert.Close(cc.Expected(x, w, b), y, cc.Reduction, cc.Name);
            Assert.Equal("algorithm", Assert.ThrowsAny<ArgumentException>(
                () => DenseConv2dPlan.Create(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act, ConvAlgorithm.Depthwise)).ParamName);
        }
    }

    [Fact]
    public void Planner_TimesTheDirectTilesAgainstTheDepthwiseSweep()
    {
        var cc = new ConvCase("mnv2 s2", 1, 24, 14, 14, 24, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 24), Activation.Clip(0f, 6f), true);
        var (x, w, b) = cc.Data();
        var prepared = ConvPlanner.Prepare(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act, allowSparse: true);
        Assert.Equal(new[] { "dense", "dense-direct" }, prepared.Kernels.Select(k => k.Name).ToArray());
        Assert.StartsWith("DenseConv2d Depthwise", prepared.Kernels[0].Describe());
        var expected = cc.Expected(x, w, b);
        foreach (var k in prepared.Kernels)
        {
            var y = TestData.Poisoned(cc.OutputLength);
            k.Run(x, y, 1);
            KernelAssert.Close(expected, y, cc.Reduction, k.Name);
        }
    }
}
