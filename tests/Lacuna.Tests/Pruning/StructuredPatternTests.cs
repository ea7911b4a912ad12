using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Pruning;

public class StructuredPatternTests
{
    [Theory]
    [InlineData("block:16x1", "block:16x1")]
    [InlineData(" Block:4x4 ", "block:4x4")]
    [InlineData("gs:16", "gs:16")]
    [InlineData("gs:8:row", "gs:8")]
    [InlineData("gs:16:col", "gs:16:col")]
    [InlineData("gs:8:hybrid", "gs:8:hybrid")]
    public void Parse_reads_the_canonical_spelling_back(string text, string name)
    {
        var p = SparsityPattern.Parse(text);
        Assert.Equal(name, p.Name);
        Assert.Equal(name, SparsityPattern.Parse(p.Name).Name);
        Assert.True(p.SparsityIsFree);
    }

    [Theory]
    [InlineData("block:0x1")]
    [InlineData("block:17x1")]
    [InlineData("block:4")]
    [InlineData("gs:12")]
    [InlineData("gs:16:diagonal")]
    [InlineData("gs:x")]
    public void Parse_rejects_bad_parameters_with_a_message(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => SparsityPattern.Parse(text));
        Assert.False(string.IsNullOrEmpty(e.Message));
    }

    public static TheoryData<string, int, int, double> Cases()
    {
        var data = new TheoryData<string, int, int, double>();
        foreach (string p in new[] { "block:16x1", "block:8x1", "block:4x4", "block:3x2", "gs:16", "gs:8", "gs:16:col", "gs:8:col", "gs:16:hybrid", "gs:8:hybrid" })
            foreach (var (m, k) in new[] { (64, 96), (37, 53) })
                foreach (double s in new[] { 0.5, 0.9 })
                    data.Add(p, m, k, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pruning_satisfies_the_pattern_reaches_the_sparsity_and_the_plan_matches_the_reference(string text, int m, int k, double sparsity)
    {
        var p = SparsityPattern.Parse(text);
        var w = TestData.Random(m * k, 41);
        p.Prune(w, m, k, sparsity);
        Assert.Null(p.Violation(w, m, k));
        double reached = w.Count(v => v == 0f) / (double)w.Length;
        // Block counts and per-lane counts round: within a few percent of the request on these small shapes.
        Assert.InRange(reached, sparsity - 0.04, sparsity + 0.04);
        var bias = TestData.Random(m, 42);
        var plan = p.CreatePlan(w, m, k, bias, Activation.Relu);
        Assert.NotNull(plan);
        Assert.Equal((m, k), (plan.M, plan.K));
        foreach (int n in new[] { 1, 7, 16 })
        {
            var x = TestData.Random(k * n, 43);
            var expected = new float[m * n];
            ReferenceSpmm.Compute(CsrMatrix.FromDense(w, m, k), x, n, expected, bias, Activation.Relu);
            var y = TestData.Poisoned(m * n);
            plan.Run(x, n, y, 1);
            KernelAssert.Close(expected, y, k, $"{text} [{m}x{k}] n={n} ({plan.Describe()})");
        }
    }

    [Fact]
    public void Block_violation_names_the_partly_pruned_block_and_no_plan_is_made()
    {
        var p = SparsityPattern.Parse("block:4x2");
        var w = TestData.Random(8 * 6, 44);
        for (int i = 0; i < w.Length; i++) if (w[i] == 0f) w[i] = 1f;
        w[5 * 6 + 3] = 0f; // row 5, column 3: block (1, 1)
        string? v = p.Violation(w, 8, 6);
        Assert.NotNull(v);
        Assert.Contains("block (1, 1)", v);
        Assert.Null(p.CreatePlan(w, 8, 6, default, default));
    }

    [Fact]
    public void Gs_violation_names_the_group_and_lane_with_a_different_count()
    {
        var p = SparsityPattern.Parse("gs:8");
        var w = new float[16 * 10];
        for (int r = 0; r < 16; r++) { w[r * 10 + r % 10] = 1f; w[r * 10 + (r + 3) % 10] = 2f; }
        Assert.Null(p.Violation(w, 16, 10));
        w[11 * 10 + 9] = 3f; // row 11: lane 3 of group 1 gets a third non-zero
        string? v = p.Violation(w, 16, 10);
        Assert.NotNull(v);
        Assert.Contains("group 1", v);
        Assert.Contains("lane 3", v);
        Assert.Null(p.CreatePlan(w, 16, 10, default, default));
    }

    [Fact]
    public void Pruners_reject_nan_weights_and_bad_sparsity()
    {
        foreach (string text in new[] { "block:4x1", "gs:8" })
        {
            var p = SparsityPattern.Parse(text);
            var w = TestData.Random(16, 45);
            w[3] = float.NaN;
            Assert.Throws<ArgumentException>(() => p.Prune(w, 4, 4, 0.5));
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Prune(TestData.Random(16, 46), 4, 4, 1.5));
        }
    }
}
