using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.BlockConv;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.BlockConv;

public class BlockConv2dTests
{
    public record Case(int C, int M, int H, int W, int K, int Stride, int Pad)
    {
        public Conv2dParams Params => Conv2dParams.Square(K, Stride, Pad);
        public override string ToString() => $"C{C} M{M} {H}x{W} k{K} s{Stride} p{Pad}";
    }

    public static TheoryData<Case> Cases()
    {
        var d = new TheoryData<Case>();
        // 3x3 stride 1 pad 1 (OW = W) at output widths around the 8-, 16-, 24- and 48-point passes and rn50's 7/14/28/56.
        foreach (int w in new[] { 7, 14, 15, 16, 17, 28, 31, 32, 33, 47, 48, 49, 56 }) d.Add(new Case(5, 20, 3, w, 3, 1, 1));
        d.Add(new Case(6, 19, 15, 15, 3, 2, 1));    // 3x3 stride 2 (OW 8), channels not a multiple of any group
        d.Add(new Case(4, 16, 29, 29, 3, 2, 1));    // stride 2, OW 15
        d.Add(new Case(3, 12, 9, 14, 3, 1, 0));     // no pad
        d.Add(new Case(7, 24, 14, 14, 1, 1, 0));    // 1x1
        d.Add(new Case(8, 17, 14, 14, 1, 2, 0));    // strided 1x1
        d.Add(new Case(3, 9, 19, 17, 7, 2, 3));     // 7x7 stride 2 (stem-like)
        d.Add(new Case(96, 16, 45, 45, 3, 1, 1));   // planes larger than one L2 block: several row blocks
        d.Add(new Case(5, 40, 6, 12, 3, 1, 1));     // an empty 16-channel block row
        return d;
    }

    /// <summary>
    /// W [M, C, k, k] pruned in r×1 blocks along M (never all zero); with M ≥ 2e (e = max(r, 8)) channels [e, 2e) are
    /// emptied whole, so every kernel has a group without entries (bias, then activation) and the pattern still holds.
    /// </summary>
    private static float[] BlockPruned(Case c, int r, double sparsity, ulong seed)
    {
        int k = c.C * c.K * c.K;
        var w = TestData.Random(c.M * k, seed);
        new BlockPattern(r, 1).Prune(w, c.M, k, sparsity);
        int e = Math.Max(r, 8);
        if (c.M >= 2 * e) Array.Clear(w, e * k, e * k);
        Assert.Contains(w, v => v != 0f);
        return w;
    }

    private static float[] Expected(Case c, float[] w, float[] bias, float[] x, int batch, Activation act)
    {
        int[] ws = [c.M, c.C, c.K, c.K];
        int[] os = c.Params.OutputShape([batch, c.C, c.H, c.W], ws);
        var y = new float[os[0] * os[1] * os[2] * os[3]];
        ReferenceConv2d.Compute(x, [batch, c.C, c.H, c.W], w, ws, bias, y, c.Params, act);
        return y;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_kernel_matches_the_reference_on_block_pruned_weights(Case c)
    {
        int[] ws = [c.M, c.C, c.K, c.K];
        int checkedRuns = 0;
        foreach (int r in new[] { 16, 4 })
        foreach (int batch in new[] { 1, 2 })
        {
            bool withBias = batch == 1;
            var act = r == 16 ? Activation.Relu : batch == 1 ? Activation.None : Activation.Clip(-0.5f, 0.5f);
            var w = BlockPruned(c, r, r == 16 ? 0.9 : 0.7, (ulong)(11 + r + batch));
            var bias = withBias ? TestData.Random(c.M, 13) : [];
            var x = TestData.Random(batch * c.C * c.H * c.W, 14);
            var expected = Expected(c, w, bias, x, batch, act);
            foreach (var kernel in BlockConvKernels.Supported)
            {
                var plan = BlockConv2dPlan.Create(w, ws, bias, c.Params, c.H, c.W, act, kernel);
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = TestData.Poisoned(expected.Length);
                    plan.Run(x, y, batch, threads);
                    KernelAssert.Close(expected, y, c.C * c.K * c.K, $"{kernel} {c} block {r}x1 batch {batch} {act} threads {threads}");
                    checkedRuns++;
                }
            }
        }
        Assert.Equal(2 * 2 * BlockConvKernels.Supported.Count() * 2, checkedRuns);
    }

    /// <summary>Dilation 2 and asymmetric pads (stride 1 and 3): the phase planes' tap offsets, on every kernel.</summary>
    [Theory]
    [InlineData(1, 2, 2, 2, 2, 2)]
    [InlineData(1, 0, 2, 1, 0, 1)]
    [InlineData(3, 1, 0, 2, 1, 1)]
    public void Dilation_and_asymmetric_pads_match_the_reference(int stride, int top, int left, int bottom, int right, int dilation)
    {
        const int c = 5, m = 12, h = 13, wd = 22;
        var p = new Conv2dParams(3, 3, stride, stride, top, left, bottom, right, dilation, dilation);
        int[] ws = [m, c, 3, 3];
        var w = TestData.Random(m * c * 9, 61);
        new BlockPattern(4, 1).Prune(w, m, c * 9, 0.6);
        var bias = TestData.Random(m, 62);
        var x = TestData.Random(c * h * wd, 63);
        int[] os = p.OutputShape([1, c, h, wd], ws);
        var expected = new float[m * os[2] * os[3]];
        ReferenceConv2d.Compute(x, [1, c, h, wd], w, ws, bias, expected, p, Activation.Relu);
        foreach (var kernel in BlockConvKernels.Supported)
        {
            var plan = BlockConv2dPlan.Create(w, ws, bias, p, h, wd, Activation.Relu, kernel);
            var y = TestData.Poisoned(expected.Length);
            plan.Run(x, y, 1, 2);
            KernelAssert.Close(expected, y, c * 9, $"{kernel} s{stride} p{top},{left},{bottom},{right} d{dilation}");
        }
    }

    [Fact]
    public void Unstructured_weights_run_as_the_union_of_each_group_and_stay_exact_to_the_reference()
    {
        var c = new Case(6, 13, 10, 23, 3, 1, 1);
        int[] ws = [c.M, c.C, 3, 3];
        var w = TestData.Random(c.M * c.C * 9, 21);
        Pruner.Random(w, 0.8, 22);
        var bias = TestData.Random(c.M, 23);
        var x = TestData.Random(c.C * c.H * c.W, 24);
        var expected = Expected(c, w, bias, x, 1, Activation.Relu);
        foreach (var kernel in BlockConvKernels.Supported)
        {
            var plan = BlockConv2dPlan.Create(w, ws, bias, c.Params, c.H, c.W, Activation.Relu, kernel);
            var y = TestData.Poisoned(expected.Length);
            plan.Run(x, y, 1, 1);
            KernelAssert.Close(expected, y, c.C * 9, kernel.Name);
            Assert.InRange(plan.Sparsity, 0.79, 0.81);
        }
    }

    [Fact]
    public void Two_threads_match_one_thread_exactly_and_groups_follow_the_block_rows()
    {
        var c = new Case(16, 40, 14, 14, 3, 1, 1);
        int[] ws = [c.M, c.C, 3, 3];
        var w = BlockPruned(c, 8, 0.9, 31);
        var x = TestData.Random(2 * c.C * 196, 32);
        var plan = BlockConv2dPlan.Create(w, ws, TestData.Random(c.M, 33), c.Params, 14, 14, 8, Activation.Relu);
        Assert.Equal(BlockConvKernels.BestTier, plan.Kernel.Tier);
        Assert.Equal(0, 8 % plan.Kernel.Rows);
        var one = TestData.Poisoned(2 * c.M * 196);
        var two = TestData.Poisoned(2 * c.M * 196);
        plan.Run(x, one, 2, 1);
        plan.Run(x, two, 2, 2);
        KernelAssert.Exact(one, two);
        // Entries: 8x1 blocks kept at 0.9 of 40 rows × 144 columns (rows 8-15 cleared), each loaded once per group of Rows.
        int kept = 0;
        for (int br = 0; br < 5; br++)
            for (int col = 0; col < 144; col++) kept += w[br * 8 * 144 + col] != 0f ? 1 : 0;
        Assert.Equal(kept * (8 / plan.Kernel.Rows), plan.Entries);
    }

    [Fact]
    public void Registry_covers_every_tier_and_picks_a_group_that_divides_the_block()
    {
        foreach (var tier in new[] { IsaTier.Avx512, IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar })
            Assert.Contains(BlockConvKernels.All, k => k.Tier == tier);
        foreach (int r in new[] { 1, 2, 3, 4, 6, 8, 12, 16 })
        {
            var k = BlockConvKernels.For(r);
            Assert.Equal(BlockConvKernels.BestTier, k.Tier);
            Assert.Equal(0, r % k.Rows);
            Assert.DoesNotContain(BlockConvKernels.All, o => o.Tier == k.Tier && o.Rows > k.Rows && r % o.Rows == 0);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockConvKernels.For(0));
    }

    [Fact]
    public void Bad_arguments_get_one_line_errors()
    {
        var p = Conv2dParams.Square(3, 1, 1);
        var w = TestData.Random(4 * 2 * 9, 41);
        var e = Assert.Throws<NotSupportedException>(() => BlockConv2dPlan.Create(w, [4, 1, 3, 3], [], p with { Groups = 2 }, 5, 5, 4));
        Assert.Contains("groups", e.Message);
        Assert.Contains("Bias has 3", Assert.Throws<ShapeMismatchException>(() => BlockConv2dPlan.Create(w, [4, 2, 3, 3], new float[3], p, 5, 5, 4)).Message);
        w[5] = float.NaN;
        Assert.Contains("Weight element 5", Assert.Throws<ArgumentException>(() => BlockConv2dPlan.Create(w, [4, 2, 3, 3], [], p, 5, 5, 4)).Message);
        var ok = BlockConv2dPlan.Create(TestData.Random(4 * 18, 42), [4, 2, 3, 3], [], p, 5, 5, 4);
        Assert.ThrowsAny<ArgumentException>(() => ok.Run(new float[49], new float[100], 1));
    }

    /// <summary>The planner offers block-direct for a block-pruned 3x3 layer, and that candidate computes the reference conv.</summary>
    [Theory]
    [InlineData(16, 32, 3, 1, 9)]
    [InlineData(8, 24, 3, 2, 15)]
    [InlineData(4, 16, 1, 2, 14)]
    public void The_planner_offers_block_direct_for_a_block_pruned_layer(int r, int m, int k, int stride, int hw)
    {
        var c = new Case(8, m, hw, hw, k, stride, k / 2);
        int[] ws = [m, 8, k, k];
        var w = BlockPruned(c, r, 0.75, 51);
        var bias = TestData.Random(m, 52);
        var prepared = ConvPlanner.Prepare(w, ws, bias, c.Params, hw, hw, Activation.Relu, true,
            patterns: PatternPlanning.Only([new BlockPattern(r, 1)]));
        var names = prepared.Kernels.Select(x => x.Name).ToArray();
        Assert.Contains($"pattern-block:{r}x1-direct", names);
        Assert.Contains(names, n => n.StartsWith($"pattern-block:{r}x1-", StringComparison.Ordinal) && !n.EndsWith("-direct", StringComparison.Ordinal));
        var direct = prepared.Kernels.Single(x => x.Name.EndsWith("-direct", StringComparison.Ordinal) && x.Pattern is not null);
        Assert.Equal($"block:{r}x1", direct.Pattern);
        Assert.Contains("BlockDirect", direct.Describe());
        var x = TestData.Random(2 * 8 * hw * hw, 53);
        var expected = Expected(c, w, bias, x, 2, Activation.Relu);
        var y = TestData.Poisoned(expected.Length);
        direct.Run(x, y, 2);
        KernelAssert.Close(expected, y, 8 * k * k, direct.Name);
        // Not for 1x1 stride 1 (the block SpMM reads the image itself), nor for a layer without the pattern.
        var pointwise = new Case(8, m, hw, hw, 1, 1, 0);
        var pw = BlockPruned(pointwise, r, 0.5, 54);
        var onPointwise = ConvPlanner.Prepare(pw, [m, 8, 1, 1], bias, pointwise.Params, hw, hw, Activation.Relu, true,
            patterns: PatternPlanning.Only([new BlockPattern(r, 1)]));
        Assert.DoesNotContain(onPointwise.Kernels, x => x.Name.EndsWith("-direct", StringComparison.Ordinal) && x.Pattern is not null);
        var dense = TestData.Random(m * 8 * k * k, 55);
        var layer = new ConvLayer(dense, ws, bias, c.Params, hw, hw, Activation.Relu, true, SpmmPrecision.Float32, PatternPlanning.Only([new BlockPattern(r, 1)]));
        Assert.False(new BlockDirectCandidates().Applies(layer));
    }
}
