using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.DirectConv;

/// <summary>Every lowering, every direct register tile of every supported tier, the plan and the one-off form vs the reference.</summary>
public class DenseConv2dTests
{

    private static float[] RunPlan(ConvCase cc, float[] x, float[] w, float[] b, ConvAlgorithm? alg, DirectConvKernel? kernel, int threads)
    {
        var plan = DenseConv2dPlan.Create(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act, alg, kernel);
        var y = TestData.Poisoned(cc.OutputLength);
        plan.Run(x, y, cc.N, threads);
        return y;
    }

    [Fact]
    public void DirectTiles_MatchReference_OnEveryTier()
    {
        int tiles = 0;
        foreach (var k in DirectConvKernels.Supported)
        {
            tiles++;
            foreach (var cc in ConvCase.All())
            {
                var (x, w, b) = cc.Data();
                var y = RunPlan(cc, x, w, b, ConvAlgorithm.Direct, k, 1);
                KernelAssert.Close(cc.Expected(x, w, b), y, cc.Reduction, $"{k} {cc}");
            }
        }
        Assert.True(tiles >= 2, "every tier has a multi-channel and a one-channel tile");
        Assert.Contains(DirectConvKernels.Supported, k => k.Tier == DirectConvKernels.BestTier);
    }

    private static ConvGeometry Geometry(int c, int hw, int m, int k, int stride = 1, int groups = 1) =>
        new(c, hw, hw, m, Conv2dParams.Square(k, stride: stride, pad: k / 2, groups: groups));

    [Fact]
    public void Registry_HasMultiAndOneChannelTilesOnEveryTier_AndCandidatesAreTheBestTiers()
    {
        foreach (var tier in new[] { IsaTier.Avx512, IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar })
        {
            Assert.Contains(DirectConvKernels.All, k => k.Tier == tier && k.Rows > 1);
            Assert.Contains(DirectConvKernels.All, k => k.Tier == tier && k.Rows == 1);
        }
        var best = DirectConvKernels.BestTier;
        Assert.All(DirectConvKernels.All.Where(k => k.Tier == best), k => Assert.Contains(k, DirectConvKernels.Candidates));
        Assert.All(DirectConvKernels.Candidates, k => Assert.True(k.Tier == best || (best == IsaTier.Avx512 && k.Tier == IsaTier.Avx2Fma), k.Name));
        Assert.Equal(DenseConv2dPlan.DirectTiles.Count, DenseConv2dPlan.DirectTiles.Distinct().Count());
    }

    [Fact]
    public void Choose_PicksACandidateThatFits_AndTheMeasuredTilesPerTier()
    {
        var shapes = new[]
        {
            Geometry(3, 224, 64, 7, 2), Geometry(64, 56, 64, 3), Geometry(128, 28, 128, 3), Geometry(256, 14, 256, 3),
            Geometry(512, 7, 512, 3), Geometry(256, 56, 64, 1), Geometry(2048, 7, 512, 1), Geometry(4, 9, 6, 3),
            Geometry(32, 20, 32, 3, groups: 32), Geometry(8, 12, 16, 3, groups: 8),
        };
        foreach (var g in shapes)
        {
            var k = DirectConvKernels.Choose(g);
            Assert.Contains(k, DirectConvKernels.Candidates);
            Assert.True(k.Rows <= g.Mg || (k.Rows == 1 && g.Mg >= 1), $"{k} for {g}");
            if (g.Mg < 4) Assert.True(k.Rows == 1 && k.Tier == DirectConvKernels.BestTier, $"{k} for depthwise {g}");
        }
        string Pick(ConvGeometry g) => $"{DirectConvKernels.Choose(g).Rows}x{DirectConvKernels.Choose(g).Width}";
        switch (DirectConvKernels.BestTier)
        {
            case IsaTier.Avx512:
                Assert.Equal("32x14", Pick(shapes[0]));   // conv1 (OW 112): channel lanes, 112 = 8 · 14, two weight vectors
                Assert.Equal("32x14", Pick(shapes[1]));   // 3x3 OW 56: channel lanes, no wasted column
                Assert.Equal("32x7", Pick(shapes[4]));    // OW 7
                Assert.Equal("32x14", Pick(shapes[5]));   // 1x1 OW 56
                Assert.Equal("32x7", Pick(shapes[6]));    // 1x1 OW 7
                Assert.Equal(IsaTier.Avx2Fma, DirectConvKernels.Choose(shapes[7]).Tier); // 6 channels: the AVX-512 tiles need 8+
                break;
            case IsaTier.Avx2Fma:
                Assert.Equal("6x16", Pick(shapes[2]));
                Assert.Equal("8x8", Pick(shapes[4]));
                Assert.Equal("8x8", Pick(shapes[5]));
                break;
        }
    }

    [Fact]
    public void Ranked_StartsWithChoose_ListsEachFittingTileOnce()
    {
        foreach (var g in new[] { Geometry(64, 56, 64, 3), Geometry(512, 7, 512, 3), Geometry(4, 9, 6, 3), Geometry(24, 10, 40, 1) })
        {
            var ranked = DirectConvKernels.Ranked(g);
            Assert.Same(DirectConvKernels.Choose(g), ranked[0]);
            Assert.Equal(ranked.Length, ranked.Distinct().Count());
            Assert.All(ranked, k => Assert.True(k.Rows <= g.Mg && DirectConvKernels.Candidates.Contains(k), $"{k} for {g}"));
        }
    }

    [Fact]
    public void Im2ColGemm_MatchesReference()
    {
        foreach (var cc in ConvCase.All())
        {
            var (x, w, b) = cc.Data();
            var y = RunPlan(cc, x, w, b, ConvAlgorithm.Im2ColGemm, null, 1);
            KernelAssert.Close(cc.Expected(x, w, b), y, cc.Reduction, $"im2col {cc}");
        }
    }

    [Fact]
    public void Pointwise_MatchesReference()
    {
        int n = 0;
        foreach (var cc in ConvCase.All().Where(c => c.P.KernelH == 1 && c.P.KernelW == 1 && c.P.StrideH == 1 && c.P.StrideW == 1 && c.P.PadTop + c.P.PadLeft + c.P.PadBottom + c.P.PadRight == 0))
        {
            var (x, w, b) = cc.Data();
            var y = RunPlan(cc, x, w, b, ConvAlgorithm.Pointwise, null, 1);
            KernelAssert.Close(cc.Expected(x, w, b), y, cc.Reduction, $"pointwise {cc}");
            n++;
        }
        Assert.True(n >= 2);
    }

    [Fact]
    public void PlanChoice_AndOneOffCompute_MatchReference()
    {
        foreach (var cc in ConvCase.All())
        {
            var (x, w, b) = cc.Data();
            var expected = cc.Expected(x, w, b);
            KernelAssert.Close(expected, RunPlan(cc, x, w, b, null, null, 0), cc.Reduction, $"plan {cc}");
            var y = TestData.Poisoned(cc.OutputLength);
            DenseConv2d.Compute(x, cc.InputShape, w, cc.WeightShape, b, y, cc.P, cc.Act);
            KernelAssert.Close(expected, y, cc.Reduction, $"compute {cc}");
        }
    }

    [Fact]
    public void OneAndTwoThreads_GiveIdenticalResults()
    {
        foreach (var cc in ConvCase.All().Where((_, i) => i % 3 == 0))
        {
            var (x, w, b) = cc.Data();
            foreach (var alg in new ConvAlgorithm?[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2ColGemm, null })
            {
                var one = RunPlan(cc, x, w, b, alg, null, 1);
                var two = RunPlan(cc, x, w, b, alg, null, 2);
                KernelAssert.Exact(one, two, $"{alg} {cc}");
            }
        }
    }

    [Fact]
    public void PlanIsReusable_AcrossBatchSizesAndCalls()
    {
        var cc = new ConvCase("reuse", 3, 4, 9, 13, 8, Conv2dParams.Square(3, stride: 2, pad: 1), Activation.Relu, true);
        var (x, w, b) = cc.Data();
        var expected = cc.Expected(x, w, b);
        var plan = DenseConv2dPlan.Create(w, cc.WeightShape, b, cc.P, cc.H, cc.W, cc.Act);
        Assert.Equal(new[] { 3, 8, 5, 7 }, plan.OutputShape(3));
        int per = expected.Length / 3;
        var y1 = TestData.Poisoned(per);
        plan.Run(x.AsSpan(0, 4 * 9 * 13), y1, 1);
        KernelAssert.Close(expected.AsSpan(0, per), y1, cc.Reduction, "batch 1");
        var y3 = TestData.Poisoned(expected.Length);
        plan.Run(x, y3, 3);
        plan.Run(x, y3, 3);
        KernelAssert.Close(expected, y3, cc.Reduction, "batch 3 twice");
    }
}
