using Lacuna.Formats;
using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.BlockConv;
using Lacuna.Kernels.NmConv;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.NmConv;

public class NmConv2dTests
{
    public record Case(int C, int M, int H, int W, int K, int Stride, int Pad)
    {
        public Conv2dParams Params => Conv2dParams.Square(K, Stride, Pad);
        public override string ToString() => $"C{C} M{M} {H}x{W} k{K} s{Stride} p{Pad}";
    }

    /// <summary>K = C·k·k is never a multiple of 8 and only once of 4; M (output channels) is never a multiple of 8 or 16.</summary>
    public static TheoryData<Case> Cases()
    {
        var d = new TheoryData<Case>();
        // 3x3 stride 1 pad 1 at output widths around the 8-, 16-, 24-, 48- and 96-point passes (K = 45).
        foreach (int w in new[] { 7, 15, 16, 17, 31, 33, 47, 49, 97 }) d.Add(new Case(5, 19, 3, w, 3, 1, 1));
        d.Add(new Case(6, 21, 15, 15, 3, 2, 1));    // stride 2, OW 8 (K = 54)
        d.Add(new Case(4, 13, 29, 27, 3, 2, 1));    // stride 2, odd H and W, OW 14 (K = 36, a multiple of 4)
        d.Add(new Case(3, 11, 9, 13, 3, 1, 0));     // no pad (K = 27)
        d.Add(new Case(3, 9, 19, 17, 7, 2, 3));     // 7x7 stride 2, stem-like (K = 147)
        d.Add(new Case(7, 25, 11, 11, 5, 1, 2));    // 5x5 (K = 175)
        d.Add(new Case(96, 17, 45, 45, 3, 1, 1));   // planes larger than one L2 block: several row blocks (K = 864)
        return d;
    }

    /// <summary>(N, M, rows per pattern): per-row and row-shared, with r from 2 to 16.</summary>
    private static readonly (int N, int M, int R)[] Patterns = [(2, 4, 1), (1, 8, 1), (1, 4, 8), (2, 8, 16), (4, 8, 2), (3, 7, 4)];

    private static float[] NmPruned(Case c, int n, int m, int r, ulong seed)
    {
        int k = c.C * c.K * c.K;
        var w = TestData.Random(c.M * k, seed);
        new NmPattern(n, m, r).Prune(w, c.M, k, 0);
        Assert.Null(NmMatrix.Violation(w, c.M, k, n, m, r));
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
    public void Every_kernel_matches_the_reference_conv_on_nm_pruned_weights(Case c)
    {
        int[] ws = [c.M, c.C, c.K, c.K];
        int k = c.C * c.K * c.K, checkedRuns = 0, expectedRuns = 0;
        for (int pi = 0; pi < Patterns.Length; pi++)
        {
            var (n, m, r) = Patterns[pi];
            int batch = pi % 2 + 1;
            var act = pi % 3 == 0 ? Activation.Relu : pi % 3 == 1 ? Activation.None : Activation.Clip(-0.5f, 0.5f);
            var w = NmPruned(c, n, m, r, (ulong)(11 + pi));
            var bias = pi % 2 == 0 ? TestData.Random(c.M, 13) : [];
            var x = TestData.Random(batch * c.C * c.H * c.W, 14);
            var expected = Expected(c, w, bias, x, batch, act);
            var nm = NmMatrix.FromDense(w, c.M, k, n, m, r);
            foreach (var kernel in BlockConvKernels.Supported.Where(kr => r % kr.Rows == 0))
            {
                var plan = NmConv2dPlan.Create(nm, ws, bias, c.Params, c.H, c.W, act, kernel);
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = TestData.Poisoned(expected.Length);
                    plan.Run(x, y, batch, threads);
                    KernelAssert.Close(expected, y, k, $"{kernel} {c} {n}:{m}:r{r} batch {batch} {act} threads {threads}");
                    checkedRuns++;
                }
                expectedRuns += 2;
            }
        }
        Assert.True(checkedRuns > 0);
        Assert.Equal(expectedRuns, checkedRuns);
    }

    [Theory]
    [InlineData(1, 2, 2, 2, 2, 2)]
    [InlineData(1, 0, 2, 1, 0, 1)]
    [InlineData(3, 1, 0, 2, 1, 1)]
    public void Dilation_and_asymmetric_pads_match_the_reference(int stride, int top, int left, int bottom, int right, int dilation)
    {
        const int c = 5, m = 11, h = 13, wd = 22;
        var p = new Conv2dParams(3, 3, stride, stride, top, left, bottom, right, dilation, dilation);
        int[] ws = [m, c, 3, 3];
        var w = TestData.Random(m * c * 9, 61);
        new NmPattern(2, 4, 4).Prune(w, m, c * 9, 0);
        var bias = TestData.Random(m, 62);
        var x = TestData.Random(c * h * wd, 63);
        int[] os = p.OutputShape([1, c, h, wd], ws);
        var expected = new float[m * os[2] * os[3]];
        ReferenceConv2d.Compute(x, [1, c, h, wd], w, ws, bias, expected, p, Activation.Relu);
        var plan = NmConv2dPlan.Create(w, ws, bias, p, h, wd, 2, 4, 4, Activation.Relu);
        var y = TestData.Poisoned(expected.Length);
        plan.Run(x, y, 1, 2);
        KernelAssert.Close(expected, y, c * 9, $"s{stride} p{top},{left},{bottom},{right} d{dilation}");
    }

    [Fact]
    public void The_public_factory_groups_channels_by_the_shared_pattern_and_skips_padding_slots()
    {
        var c = new Case(8, 37, 14, 14, 3, 1, 1);
        int[] ws = [c.M, c.C, 3, 3];
        int k = c.C * 9;
        var w = NmPruned(c, 2, 8, 16, 71);
        // Clear one kept column of pattern row 0 in every channel: that slot now holds zero in all its channels.
        var nm = NmMatrix.FromDense(w, c.M, k, 2, 8, 16);
        int col = nm.SlotColumns(0)[3];
        for (int row = 0; row < 16; row++) w[row * k + col] = 0f;
        var plan = NmConv2dPlan.Create(w, ws, [], c.Params, 14, 14, 2, 8, 16, Activation.None);
        Assert.Equal(BlockConvKernels.BestTier, plan.Kernel.Tier);
        Assert.Equal(0, 16 % plan.Kernel.Rows);
        Assert.Contains("NmDirect 2:8:r16", plan.Describe());
        int groups = (c.M + plan.Kernel.Rows - 1) / plan.Kernel.Rows, slots = nm.SlotsPerRow;
        Assert.Equal(groups * slots - 16 / plan.Kernel.Rows, plan.Entries);
        var x = TestData.Random(2 * c.C * 196, 72);
        var one = TestData.Poisoned(2 * c.M * 196);
        var two = TestData.Poisoned(2 * c.M * 196);
        plan.Run(x, one, 2, 1);
        plan.Run(x, two, 2, 2);
        KernelAssert.Exact(one, two);
        KernelAssert.Close(Expected(c, w, [], x, 2, Activation.None), one, k, plan.Describe());
    }

    [Fact]
    public void Bad_arguments_get_one_line_errors()
    {
        var p = Conv2dParams.Square(3, 1, 1);
        var w = TestData.Random(4 * 2 * 9, 41);
        new NmPattern(2, 4).Prune(w, 4, 18, 0);
        Assert.Contains("groups", Assert.Throws<NotSupportedException>(() => NmConv2dPlan.Create(w, [4, 1, 3, 3], [], p with { Groups = 2 }, 5, 5, 2, 4)).Message);
        Assert.Contains("Bias has 3", Assert.Throws<ShapeMismatchException>(() => NmConv2dPlan.Create(w, [4, 2, 3, 3], new float[3], p, 5, 5, 2, 4)).Message);
        var dense = TestData.Random(4 * 18, 42);
        var e = Assert.Throws<LacunaFormatException>(() => NmConv2dPlan.Create(dense, [4, 2, 3, 3], [], p, 5, 5, 2, 4));
        Assert.Contains("row 0, group 0", e.Message);
        var nm = NmMatrix.FromDense(w, 4, 18, 2, 4);
        Assert.Contains("[4×18]", Assert.Throws<ShapeMismatchException>(() => NmConv2dPlan.Create(nm, [4, 3, 3, 3], [], p, 5, 5)).Message);
        var eight = BlockConvKernels.All.First(kr => kr.Rows == 8);
        Assert.Contains("does not divide", Assert.Throws<ArgumentException>(() => NmConv2dPlan.Create(nm, [4, 2, 3, 3], [], p, 5, 5, Activation.None, eight)).Message);
        var ok = NmConv2dPlan.Create(nm, [4, 2, 3, 3], [], p, 5, 5);
        Assert.ThrowsAny<ArgumentException>(() => ok.Run(new float[49], new float[100], 1));
    }

    /// <summary>The planner offers N:M direct for an N:M-pruned k×k layer beside the im2col candidate, and it computes the reference conv.</summary>
    [Theory]
    [InlineData(2, 4, 1, 3, 1, 9)]
    [InlineData(1, 8, 8, 3, 2, 15)]
    [InlineData(2, 4, 4, 1, 2, 14)]
    public void The_planner_offers_nm_direct_for_an_nm_pruned_layer(int n, int mm, int r, int k, int stride, int hw)
    {
        const int m = 20;
        var c = new Case(8, m, hw, hw, k, stride, k / 2);
        int[] ws = [m, 8, k, k];
        var w = NmPruned(c, n, mm, r, 51);
        var bias = TestData.Random(m, 52);
        var pattern = new NmPattern(n, mm, r);
        var prepared = ConvPlanner.Prepare(w, ws, bias, c.Params, hw, hw, Activation.Relu, true, patterns: PatternPlanning.Only([pattern]));
        var names = prepared.Kernels.Select(x => x.Name).ToArray();
        Assert.Contains($"pattern-{pattern.Name}-direct", names);
        Assert.Contains(names, x => x.StartsWith($"pattern-{pattern.Name}-", StringComparison.Ordinal) && !x.EndsWith("-direct", StringComparison.Ordinal));
        var direct = prepared.Kernels.Single(x => x.Name == $"pattern-{pattern.Name}-direct");
        Assert.Equal(pattern.Name, direct.Pattern);
        Assert.Contains("NmDirect", direct.Describe());
        var x = TestData.Random(2 * 8 * hw * hw, 53);
        var expected = Expected(c, w, bias, x, 2, Activation.Relu);
        var y = TestData.Poisoned(expected.Length);
        direct.Run(x, y, 2);
        KernelAssert.Close(expected, y, 8 * k * k, direct.Name);
        // Not for 1x1 stride 1 (the N:M SpMM reads the image itself), nor for a layer without the pattern.
        var pointwise = new Case(8, m, hw, hw, 1, 1, 0);
        var pw = NmPruned(pointwise, n, mm, r, 54);
        var onPointwise = ConvPlanner.Prepare(pw, [m, 8, 1, 1], bias, pointwise.Params, hw, hw, Activation.Relu, true, patterns: PatternPlanning.Only([pattern]));
        Assert.DoesNotContain(onPointwise.Kernels, x => x.Name == $"pattern-{pattern.Name}-direct");
        var dense = TestData.Random(m * 8 * k * k, 55);
        var layer = new ConvLayer(dense, ws, bias, c.Params, hw, hw, Activation.Relu, true, SpmmPrecision.Float32, PatternPlanning.Only([pattern]));
        Assert.False(new NmDirectCandidates().Applies(layer));
    }
}
