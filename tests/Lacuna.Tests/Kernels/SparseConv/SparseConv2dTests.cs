using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.SparseConv;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.SparseConv;

public class SparseConv2dTests
{
    public record Case(int C, int M, int H, int W, int K, int Stride, int PadTop, int PadLeft, int PadBottom, int PadRight, int Dilation = 1)
    {
        public Conv2dParams Params => new(K, K, Stride, Stride, PadTop, PadLeft, PadBottom, PadRight, Dilation, Dilation);
        public override string ToString() => $"C{C} M{M} {H}x{W} k{K} s{Stride} p{PadTop},{PadLeft},{PadBottom},{PadRight} d{Dilation}";
    }

    public static TheoryData<Case> Cases()
    {
        var d = new TheoryData<Case>();
        // Output widths around the vector widths and the 32-point tile (stride 1, pad 1 keeps OW = W).
        foreach (int w in new[] { 1, 7, 8, 9, 15, 16, 17, 31, 33 }) d.Add(new Case(3, 5, 4, w, 3, 1, 1, 1, 1, 1));
        d.Add(new Case(4, 6, 9, 11, 3, 2, 1, 1, 1, 1));      // 3x3 stride 2
        d.Add(new Case(3, 4, 19, 17, 7, 2, 3, 3, 3, 3));     // 7x7 stride 2 (conv1-like)
        d.Add(new Case(5, 3, 8, 10, 3, 1, 0, 2, 1, 0));      // asymmetric pads
        d.Add(new Case(2, 3, 9, 9, 3, 1, 2, 2, 2, 2, 2));    // dilation 2
        d.Add(new Case(6, 7, 14, 14, 1, 1, 0, 0, 0, 0));     // 1x1
        d.Add(new Case(4, 5, 10, 13, 3, 3, 1, 0, 2, 1));     // stride 3, odd pads
        d.Add(new Case(96, 2, 45, 45, 3, 1, 1, 1, 1, 1));    // planes larger than one L2 block: several row blocks
        return d;
    }

    private static float[] Run(SparseConv2dPlan plan, float[] x, int batch, int outLen, int threads = 1)
    {
        var y = TestData.Poisoned(outLen);
        plan.Run(x, y, batch, threads);
        return y;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_kernel_matches_reference_at_several_sparsities(Case c)
    {
        int[] ws = { c.M, c.C, c.K, c.K };
        foreach (double sparsity in new[] { 0.5, 0.9, 0.99 })
        foreach (int batch in new[] { 1, 2 })
        {
            var w = TestData.Random(c.M * c.C * c.K * c.K, 11);
            Pruner.Random(w, sparsity, 12);
            var bias = TestData.Random(c.M, 13);
            var x = TestData.Random(batch * c.C * c.H * c.W, 14);
            var act = sparsity == 0.9 ? Activation.Relu : sparsity == 0.5 ? Activation.Clip(-0.5f, 0.5f) : Activation.None;
            int[] os = c.Params.OutputShape(new[] { batch, c.C, c.H, c.W }, ws);
            int outLen = os[0] * os[1] * os[2] * os[3];
            var expected = new float[outLen];
            ReferenceConv2d.Compute(x, new[] { batch, c.C, c.H, c.W }, w, ws, bias, expected, c.Params, act);
            foreach (var kernel in SparseConvKernels.Supported)
            {
                var plan = SparseConv2dPlan.Create(w, ws, bias, c.Params, c.H, c.W, act, kernel);
                KernelAssert.Close(expected, Run(plan, x, batch, outLen), c.C * c.K * c.K, $"{kernel} {c} sparsity {sparsity} batch {batch}");
            }
        }
    }

    /// <summary>Output widths just below, at and above every vector width and register tile of every tier (16 … 256 points).</summary>
    private static readonly int[] TileEdgeWidths = { 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257 };

    /// <summary>Kernel size, stride and (symmetric) pad of the tile-edge cases: 1x1, 3x3 and the 7x7 stem at strides 1 and 2.</summary>
    public static TheoryData<int, int, int> TileEdgeShapes() => new()
    {
        { 1, 1, 0 }, { 1, 2, 0 }, { 3, 1, 1 }, { 3, 2, 1 }, { 7, 1, 3 }, { 7, 2, 3 }, { 3, 1, 0 },
    };

    /// <summary>
    /// Every registered tile of every tier this process supports, on outputs whose width (with one output row, also the
    /// flattened grid's length) sits at each tile and vector edge, and on three rows (whose grid rows are Wq apart, so
    /// the tail lands elsewhere), at 1 and 2 threads, against the reference; the output starts NaN-poisoned.
    /// </summary>
    [Theory]
    [MemberData(nameof(TileEdgeShapes))]
    public void Every_registered_tile_matches_reference_at_tile_edges(int k, int stride, int pad)
    {
        const int c = 3, m = 5;
        int[] ws = { m, c, k, k };
        var p = Conv2dParams.Square(k, stride, pad);
        var w = TestData.Random(m * c * k * k, 31);
        Pruner.Random(w, 0.5, 32);
        var bias = TestData.Random(m, 33);
        int checkedRuns = 0;
        foreach (int ow in TileEdgeWidths)
        foreach (int oh in new[] { 1, 3 })
        {
            // The input size that gives exactly oh x ow outputs.
            int h = (oh - 1) * stride + k - 2 * pad, wd = (ow - 1) * stride + k - 2 * pad;
            Assert.Equal(ow, p.OutputWidth(wd));
            Assert.Equal(oh, p.OutputHeight(h));
            var x = TestData.Random(c * h * wd, (ulong)(34 + ow + oh));
            int outLen = m * oh * ow;
            var expected = new float[outLen];
            ReferenceConv2d.Compute(x, new[] { 1, c, h, wd }, w, ws, bias, expected, p, Activation.Relu);
            foreach (var kernel in SparseConvKernels.Supported)
            {
                var plan = SparseConv2dPlan.Create(w, ws, bias, p, h, wd, Activation.Relu, kernel);
                foreach (int threads in new[] { 1, 2 })
                {
                    KernelAssert.Close(expected, Run(plan, x, 1, outLen, threads), c * k * k, $"{kernel} k{k} s{stride} p{pad} {oh}x{ow} threads {threads}");
                    checkedRuns++;
                }
            }
        }
        Assert.Equal(TileEdgeWidths.Length * 2 * SparseConvKernels.Supported.Count() * 2, checkedRuns);
    }

    [Fact]
    public void Registry_lists_every_tier_and_the_planner_shortlist_starts_with_the_default()
    {
        foreach (var tier in new[] { IsaTier.Avx512, IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar })
            Assert.Contains(SparseConvKernels.All, k => k.Tier == tier);
        Assert.Equal(IsaTiers.BestOf(SparseConvKernels.All.Select(k => k.Tier)), SparseConvKernels.BestTier);
        Assert.Same(SparseConvKernels.Candidates[0], SparseConvKernels.Best);
        Assert.Equal(SparseConvKernels.BestTier, SparseConvKernels.Best.Tier);
        Assert.All(SparseConvKernels.Candidates, k => Assert.True(IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best, k.Name));
        // On an AVX-512 process (not under DOTNET_EnableAVX512=0) the AVX2 tile stays a candidate; below it, one tier only.
        if (SparseConvKernels.BestTier == IsaTier.Avx512)
        {
            Assert.Contains(SparseConvKernels.Candidates, k => k.Tier == IsaTier.Avx2Fma);
            Assert.True(SparseConvKernels.Candidates.Count(k => k.Tier == IsaTier.Avx512) >= 2);
        }
        else Assert.All(SparseConvKernels.Candidates, k => Assert.Equal(SparseConvKernels.BestTier, k.Tier));
    }

    [Fact]
    public void A_plan_on_another_kernel_shares_the_weights_and_gives_the_reference()
    {
        var c = new Case(8, 6, 12, 70, 3, 1, 1, 1, 1, 1);
        int[] ws = { c.M, c.C, c.K, c.K };
        var w = TestData.Random(c.M * c.C * 9, 41);
        Pruner.Magnitude(w, 0.8);
        var bias = TestData.Random(c.M, 42);
        var x = TestData.Random(c.C * c.H * c.W, 43);
        int outLen = c.M * c.H * c.W;
        var expected = new float[outLen];
        ReferenceConv2d.Compute(x, new[] { 1, c.C, c.H, c.W }, w, ws, bias, expected, c.Params, Activation.Clip(-0.3f, 0.6f));
        var plan = SparseConv2dPlan.Create(w, ws, bias, c.Params, c.H, c.W, Activation.Clip(-0.3f, 0.6f));
        Assert.Same(SparseConvKernels.Best, plan.Kernel);
        Assert.Same(plan, plan.WithKernel(plan.Kernel));
        foreach (var kernel in SparseConvKernels.Supported)
        {
            var other = plan.WithKernel(kernel);
            Assert.Same(kernel, other.Kernel);
            Assert.True(plan.SharesWeightsWith(other));
            Assert.Contains(kernel.Name, other.Describe());
            KernelAssert.Close(expected, Run(other, x, 1, outLen), c.C * 9, kernel.Name);
        }
        Assert.Equal("kernel", Assert.Throws<ArgumentNullException>(() => plan.WithKernel(null!)).ParamName);
        // The public names (benchmarks): the planner's shortlist, and a one-line error naming the tiles there are.
        Assert.Equal(SparseConvKernels.Candidates.Select(k => k.Name), SparseConv2dPlan.TileNames);
        foreach (string tile in SparseConv2dPlan.TileNames) Assert.Equal(tile, plan.WithTile(tile).TileName);
        var e = Assert.Throws<ArgumentException>(() => plan.WithTile("Avx512 1x7"));
        Assert.Equal("tile", e.ParamName);
        Assert.Contains(SparseConvKernels.Best.Name, e.Message);
    }

    [Fact]
    public void All_zero_weights_give_the_bias_and_a_single_nonzero_is_exact()
    {
        var c = new Case(3, 4, 6, 9, 3, 1, 1, 1, 1, 1);
        int[] ws = { 4, 3, 3, 3 };
        var zero = new float[4 * 27];
        var bias = new[] { 0.5f, -1f, 2f, 0f };
        var x = TestData.Random(3 * 54, 3);
        var plan = SparseConv2dPlan.Create(zero, ws, bias, c.Params, 6, 9, Activation.Relu);
        Assert.Equal(1.0, plan.Sparsity);
        var y = Run(plan, x, 1, 4 * 54);
        for (int m = 0; m < 4; m++)
            for (int i = 0; i < 54; i++) Assert.Equal(Math.Max(0f, bias[m]), y[m * 54 + i]);

        var one = new float[4 * 27];
        one[1 * 27 + 2 * 9 + 1 * 3 + 1] = 2f; // m=1, c=2, centre tap: y[1] = 2·x[c=2]
        var single = SparseConv2dPlan.Create(one, ws, default, c.Params, 6, 9);
        var ys = Run(single, x, 1, 4 * 54);
        for (int i = 0; i < 54; i++) Assert.Equal(2f * x[2 * 54 + i], ys[54 + i]);
        for (int i = 0; i < 54; i++) Assert.Equal(0f, ys[i]);
    }

    [Fact]
    public void Two_threads_match_one_thread_exactly()
    {
        int[] ws = { 24, 8, 3, 3 };
        var w = TestData.Random(24 * 72, 21);
        Pruner.Magnitude(w, 0.8);
        var x = TestData.Random(2 * 8 * 15 * 15, 22);
        var p = Conv2dParams.Square(3, 1, 1);
        var plan = SparseConv2dPlan.Create(w, ws, TestData.Random(24, 23), p, 15, 15, Activation.Relu);
        var one = Run(plan, x, 2, 2 * 24 * 225, threads: 1);
        var two = Run(plan, x, 2, 2 * 24 * 225, threads: 2);
        KernelAssert.Exact(one, two);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Planes_filled_by_two_threads_give_the_same_result(int stride)
    {
        // 64 channels of 36x36: above the size where the phase-plane fill is split across threads.
        int[] ws = { 16, 64, 3, 3 };
        var w = TestData.Random(16 * 64 * 9, 24);
        Pruner.Magnitude(w, 0.9);
        var x = TestData.Random(64 * 36 * 36, 25);
        var p = Conv2dParams.Square(3, stride, 1);
        int outLen = 16 * p.OutputHeight(36) * p.OutputWidth(36);
        var plan = SparseConv2dPlan.Create(w, ws, TestData.Random(16, 26), p, 36, 36, Activation.Relu);
        var expected = new float[outLen];
        ReferenceConv2d.Compute(x, new[] { 1, 64, 36, 36 }, w, ws, TestData.Random(16, 26), expected, p, Activation.Relu);
        var one = Run(plan, x, 1, outLen, threads: 1);
        var two = Run(plan, x, 1, outLen, threads: 2);
        KernelAssert.Exact(one, two);
        KernelAssert.Close(expected, two, 64 * 9);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var p = Conv2dParams.Square(3, 1, 1);
        var w = TestData.Random(2 * 3 * 9, 1);
        Assert.Equal("weightShape", Assert.Throws<ShapeMismatchException>(() => SparseConv2dPlan.Create(w, new[] { 2, 3, 9 }, default, p, 5, 5)).ParamName);
        Assert.Equal("bias", Assert.Throws<ShapeMismatchException>(() => SparseConv2dPlan.Create(w, new[] { 2, 3, 3, 3 }, new float[3], p, 5, 5)).ParamName);
        Assert.Throws<NotSupportedException>(() => SparseConv2dPlan.Create(w, new[] { 2, 3, 3, 3 }, default, Conv2dParams.Square(3, 1, 1, groups: 3), 5, 5));
        var nan = (float[])w.Clone(); nan[4] = float.NaN;
        Assert.Contains("element 4", Assert.Throws<ArgumentException>(() => SparseConv2dPlan.Create(nan, new[] { 2, 3, 3, 3 }, default, p, 5, 5)).Message);
        var plan = SparseConv2dPlan.Create(w, new[] { 2, 3, 3, 3 }, default, p, 5, 5);
        var e = Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[10], new float[50], 1));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("[1, 3, 5, 5]", e.Message);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[75], new float[49], 1)).ParamName);
    }
}
