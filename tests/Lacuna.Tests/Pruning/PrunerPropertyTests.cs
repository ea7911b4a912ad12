using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Pruning;

/// <summary>Property tests of every pruner on random shapes, edge shapes included: constraint, exact counts, order.</summary>
public class PrunerPropertyTests
{
    private static readonly string[] Families =
        ["unstructured", "channel", "block:4x4", "block:16x1", "nm:2:4", "nm:1:8", "gs:8", "gs:16:col", "2:4+1:8"];

    private static readonly (int Rows, int Cols)[] Shapes = [(1, 1), (1, 17), (17, 1), (3, 5), (16, 16), (37, 53), (64, 9)];

    public static TheoryData<string> FamilyNames() => new(Families);

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void Every_family_satisfies_its_pattern_and_only_zeroes_weights_on_every_shape(string text)
    {
        var p = SparsityPattern.Parse(text);
        foreach (var (rows, cols) in Shapes)
            foreach (double s in new[] { 0.0, 0.3, 0.5, 0.9, 1.0 })
            {
                var w = TestData.Random(rows * cols, (ulong)(rows * 131 + cols * 7 + (int)(s * 10)));
                var original = (float[])w.Clone();
                p.Prune(w, rows, cols, s);
                Assert.Null(p.Violation(w, rows, cols));
                for (int i = 0; i < w.Length; i++) Assert.True(w[i] == 0f || w[i] == original[i], $"{text} [{rows}x{cols}] s={s}: entry {i} changed");
            }
    }

    [Fact]
    public void Unstructured_reaches_the_exact_count_and_prunes_the_smallest()
    {
        foreach (var (rows, cols) in Shapes)
            foreach (double s in new[] { 0.0, 0.25, 0.5, 0.9, 1.0 })
            {
                var w = TestData.Random(rows * cols, (ulong)(rows + cols * 3));
                var original = (float[])w.Clone();
                UnstructuredPattern.Instance.Prune(w, rows, cols, s);
                Assert.Equal((int)Math.Round(s * w.Length), w.Count(v => v == 0f));
                AssertPrunedAreSmallest(original, w);
            }
    }

    [Fact]
    public void Channel_zeros_whole_rows_of_smallest_norm_exactly()
    {
        var p = SparsityPattern.Parse("channel");
        Assert.Same(ChannelPattern.Instance, p);
        Assert.Equal("channel", p.Name);
        Assert.True(p.SparsityIsFree);
        foreach (var (rows, cols) in Shapes)
            foreach (double s in new[] { 0.0, 0.3, 0.5, 0.9, 1.0 })
            {
                var w = TestData.Random(rows * cols, (ulong)(rows * 5 + cols));
                var original = (float[])w.Clone();
                p.Prune(w, rows, cols, s);
                int prunedRows = (int)Math.Round(s * rows);
                var zeroRows = Enumerable.Range(0, rows).Where(r => w.AsSpan(r * cols, cols).IndexOfAnyExcept(0f) < 0).ToArray();
                Assert.Equal(prunedRows, zeroRows.Length);
                Assert.Equal(prunedRows * cols, w.Count(v => v == 0f)); // kept rows are untouched (random data has no zeros)
                double Norm(int r) => original.AsSpan(r * cols, cols).ToArray().Sum(v => (double)v * v);
                var kept = Enumerable.Range(0, rows).Except(zeroRows).ToArray();
                if (zeroRows.Length > 0 && kept.Length > 0)
                    Assert.True(zeroRows.Max(Norm) <= kept.Min(Norm), $"[{rows}x{cols}] s={s}: a pruned row has a larger norm than a kept one");
            }
    }

    [Fact]
    public void Channel_ties_go_to_the_lower_row_and_the_plan_matches_the_reference()
    {
        var w = new float[4 * 3];
        Array.Fill(w, 1f); // equal norms: rows 0 and 1 go first
        ChannelPattern.Instance.Prune(w, 4, 3, 0.5);
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f, 1f, 1f, 1f, 1f, 1f, 1f], w);

        int m = 19, k = 23, n = 9;
        var x = TestData.Random(k * n, 3);
        var wr = TestData.Random(m * k, 4);
        ChannelPattern.Instance.Prune(wr, m, k, 0.6);
        var bias = TestData.Random(m, 5);
        var expected = new float[m * n];
        ReferenceSpmm.Compute(CsrMatrix.FromDense(wr, m, k), x, n, expected, bias, Activation.Relu);
        var y = TestData.Poisoned(m * n);
        var plan = ChannelPattern.Instance.CreatePlan(wr, m, k, bias, Activation.Relu);
        Assert.NotNull(plan);
        plan.Run(x, n, y, 1);
        KernelAssert.Close(expected, y, k, "channel plan");
    }

    [Fact]
    public void Nm_keeps_exactly_n_per_full_group()
    {
        foreach (var (rows, cols) in Shapes)
        {
            var w = TestData.Random(rows * cols, (ulong)(rows * 17 + cols));
            new NmPattern(2, 4).Prune(w, rows, cols, 0.9);
            int expectedKept = 0;
            for (int g = 0; g < cols; g += 4) expectedKept += Math.Min(2, cols - g);
            Assert.Equal(expectedKept * rows, w.Count(v => v != 0f));
        }
    }

    [Fact]
    public void Pruners_reject_nan_and_bad_sparsity()
    {
        var w = TestData.Random(12, 6);
        w[4] = float.NaN;
        Assert.Throws<ArgumentException>(() => ChannelPattern.Instance.Prune(w, 3, 4, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelPattern.Instance.Prune(TestData.Random(12, 7), 3, 4, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pruner.MagnitudeCount(TestData.Random(12, 7), 13));
    }

    private static List<GlobalLayer> Layers(params (int Rows, int Cols, float Scale)[] shapes)
    {
        var list = new List<GlobalLayer>();
        for (int i = 0; i < shapes.Length; i++)
        {
            var (r, c, scale) = shapes[i];
            list.Add(new GlobalLayer($"l{i}", TestData.Random(r * c, (ulong)(100 + i), -scale, scale), r, c));
        }
        return list;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(0.9)]
    public void Global_reaches_the_exact_total_with_one_threshold_and_leaves_excluded_layers(double s)
    {
        var layers = Layers((8, 9, 1f), (32, 72, 0.2f), (64, 288, 0.05f), (37, 53, 0.5f), (10, 64, 1f));
        var originals = layers.Select(l => l.Weights.ToArray()).ToArray();
        string[] excluded = ["l0", "l4"];
        var budgets = GlobalMagnitude.Prune(layers, s, 0.05, excluded);
        int total = layers.Where(l => !excluded.Contains(l.Name)).Sum(l => l.Length);
        Assert.Equal((int)Math.Round(s * total), budgets.Where(b => b.Included).Sum(b => b.Zeros));
        for (int i = 0; i < layers.Count; i++)
        {
            var w = layers[i].Weights.Span;
            Assert.Equal(budgets[i].Zeros, w.ToArray().Count(v => v == 0f));
            Assert.True(budgets[i].Length - budgets[i].Zeros >= Math.Ceiling(0.05 * budgets[i].Length), $"{budgets[i].Name} below the minimum density");
            if (excluded.Contains(layers[i].Name)) { Assert.Equal(originals[i], w.ToArray()); Assert.False(budgets[i].Included); }
            AssertPrunedAreSmallest(originals[i], w.ToArray());
        }
        // One threshold: among layers above their floor, no pruned weight is larger than a kept one.
        var free = Enumerable.Range(0, layers.Count).Where(i => budgets[i].Included && budgets[i].Length - budgets[i].Zeros > Math.Ceiling(0.05 * budgets[i].Length)).ToArray();
        var prunedMax = free.SelectMany(i => originals[i].Where((_, j) => layers[i].Weights.Span[j] == 0f)).DefaultIfEmpty(0f).Max(MathF.Abs);
        var keptMin = free.SelectMany(i => originals[i].Where((_, j) => layers[i].Weights.Span[j] != 0f)).DefaultIfEmpty(float.MaxValue).Min(MathF.Abs);
        Assert.True(prunedMax <= keptMin, $"pruned {prunedMax} > kept {keptMin}");
    }

    [Fact]
    public void Global_clamps_small_weight_layers_at_the_minimum_density_and_redistributes()
    {
        // l1's weights are all tiny: by threshold alone it would be pruned entirely; the floor keeps 10 % of it.
        var layers = Layers((16, 16, 1f), (20, 50, 1e-4f), (30, 40, 1f));
        var budgets = GlobalMagnitude.Prune(layers, 0.6, 0.1, excluded: []);
        Assert.Equal(1000 - 100, budgets[1].Zeros);
        Assert.Equal((int)Math.Round(0.6 * (256 + 1000 + 1200)), budgets.Sum(b => b.Zeros));
        Assert.True(budgets[0].Zeros > 0 && budgets[2].Zeros > 0);
    }

    [Fact]
    public void Global_is_deterministic_breaks_ties_by_layer_order_and_rejects_bad_input()
    {
        var a = new GlobalLayer("a", new float[] { 1, 1, 1, 1 }, 2, 2);
        var b = new GlobalLayer("b", new float[] { 1, 1, 1, 1 }, 2, 2);
        var budgets = GlobalMagnitude.Prune([a, b], 0.5, 0, []);
        Assert.Equal(4, budgets[0].Zeros); // equal magnitudes: the first layer's go first
        Assert.Equal(0, budgets[1].Zeros);
        Assert.Equal(new float[4], a.Weights.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => GlobalMagnitude.Allocate(Layers((4, 4, 1f)), 0.99, 0.05));
        var e = Assert.Throws<ArgumentException>(() => GlobalMagnitude.Allocate(Layers((4, 4, 1f)), 0.5, 0.05, ["nope"]));
        Assert.Contains("nope", e.Message);
        var nan = Layers((2, 2, 1f));
        nan[0].Weights.Span[1] = float.NaN;
        Assert.Throws<ArgumentException>(() => GlobalMagnitude.Allocate(nan, 0.5));
    }

    /// <summary>Every zeroed entry had |w| no larger than every kept one (exact ties allowed).</summary>
    private static void AssertPrunedAreSmallest(float[] original, float[] pruned)
    {
        float maxPruned = 0f, minKept = float.MaxValue;
        for (int i = 0; i < original.Length; i++)
            if (pruned[i] == 0f) maxPruned = MathF.Max(maxPruned, MathF.Abs(original[i]));
            else minKept = MathF.Min(minKept, MathF.Abs(original[i]));
        Assert.True(maxPruned <= minKept, $"pruned |w| {maxPruned} > kept {minKept}");
    }
}
