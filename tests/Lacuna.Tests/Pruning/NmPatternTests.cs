using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Nm;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Pruning;

public class NmPatternTests
{
    [Theory]
    [InlineData("nm:2:4", "nm:2:4")]
    [InlineData(" NM:1:8 ", "nm:1:8")]
    [InlineData("nm:2:4:r8", "nm:2:4:r8")]
    [InlineData("nm:15:16:r1", "nm:15:16")]
    [InlineData("2:4+1:8", "2:4+1:8")]
    [InlineData("2:4+1:8:r4", "2:4+1:8:r4")]
    public void Parse_reads_the_canonical_spelling_back(string text, string name)
    {
        var p = SparsityPattern.Parse(text);
        Assert.Equal(name, p.Name);
        Assert.Equal(name, SparsityPattern.Parse(p.Name).Name);
        Assert.False(p.SparsityIsFree);
    }

    [Theory]
    [InlineData("nm:4:2", "need 1 <= N < M <= 16")]
    [InlineData("nm:2:17", "need 1 <= N < M <= 16")]
    [InlineData("nm:2", "must be nm:N:M")]
    [InlineData("nm:2:4:8", "must be nm:N:M")]
    [InlineData("nm:2:4:r0", "rows per pattern")]
    [InlineData("2:4+5:4", "term 5:4")]
    [InlineData("nope", "unknown sparsity pattern")]
    public void Bad_pattern_parameters_are_argument_errors(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => SparsityPattern.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<string, int, int> PruneCases() => new()
    {
        { "nm:2:4", 9, 30 }, { "nm:1:4", 4, 16 }, { "nm:1:8", 5, 21 }, { "nm:2:8", 3, 64 }, { "nm:4:8", 6, 19 },
        { "nm:3:7", 5, 22 }, { "nm:2:4:r8", 13, 18 }, { "nm:1:8:r4", 8, 40 }, { "nm:2:4:r3", 7, 12 },
        { "2:4+1:8", 6, 27 }, { "2:4+1:8:r8", 11, 16 }, { "1:4+1:4", 4, 13 },
    };

    [Theory]
    [MemberData(nameof(PruneCases))]
    public void Pruning_satisfies_the_pattern_in_every_row_and_group(string text, int rows, int cols)
    {
        var p = SparsityPattern.Parse(text);
        var w = TestData.Random(rows * cols, (ulong)(rows * 7 + cols));
        var original = (float[])w.Clone();
        Assert.NotNull(p.Violation(w, rows, cols)); // random dense weights break every pattern
        p.Prune(w, rows, cols, 0.5);
        Assert.Null(p.Violation(w, rows, cols));
        // Pruning only zeroes: every kept value is the original one.
        for (int i = 0; i < w.Length; i++) Assert.True(w[i] == 0f || w[i] == original[i]);
        int kept = w.Count(v => v != 0);
        Assert.True(kept > 0);
        // Never more non-zeros than the pattern's bound (full groups exactly hit it on random data).
        Assert.True(1.0 - (double)kept / w.Length >= p.ResultingSparsity(0.5) - (double)rows * 16 / w.Length);
    }

    [Fact]
    public void Nm_pruning_keeps_the_largest_magnitudes_of_each_group()
    {
        var w = TestData.Random(5 * 8, 31);
        var original = (float[])w.Clone();
        new NmPattern(2, 4).Prune(w, 5, 8, 0);
        for (int g = 0; g < 10; g++)
        {
            var idx = Enumerable.Range(g * 4, 4).ToArray();
            var kept = idx.Where(i => w[i] != 0).ToArray();
            Assert.Equal(2, kept.Length);
            Assert.True(kept.Min(i => MathF.Abs(original[i])) >= idx.Except(kept).Max(i => MathF.Abs(original[i])));
        }
        Assert.Equal(0.5, new NmPattern(2, 4).ResultingSparsity(0.9));
        Assert.Equal(0.375, new TasdPattern(TasdSpec.Parse("2:4+1:8")).ResultingSparsity(0.9));
    }

    [Fact]
    public void Tasd_pruning_leaves_the_sum_of_the_terms()
    {
        int rows = 6, cols = 24;
        var w = TestData.Random(rows * cols, 41);
        var expected = TasdSeries.Decompose(w, rows, cols, TasdSpec.Parse("2:4+1:8")).Approximation();
        var p = SparsityPattern.Parse("2:4+1:8");
        p.Prune(w, rows, cols, 0.5);
        Assert.Equal(expected, w);
        Assert.Equal(rows * cols * 5 / 8, w.Count(v => v != 0));
    }

    [Theory]
    [InlineData("nm:2:4", 10, 22)]
    [InlineData("nm:1:8:r4", 9, 33)]
    [InlineData("2:4+1:8", 5, 40)]
    [InlineData("2:4+1:8:r8", 12, 20)]
    public void Plans_of_pruned_weights_match_the_reference(string text, int rows, int cols)
    {
        var p = SparsityPattern.Parse(text);
        var w = TestData.Random(rows * cols, 51);
        p.Prune(w, rows, cols, 0.5);
        var bias = TestData.Random(rows, 52);
        int n = 37;
        var x = TestData.Random(cols * n, 53);
        var plan = p.CreatePlan(w, rows, cols, bias, Activation.Relu);
        Assert.NotNull(plan);
        Assert.Equal((rows, cols), (plan.M, plan.K));
        var y = TestData.Poisoned(rows * n);
        plan.Run(x, n, y, 1);
        var expected = new float[rows * n];
        ReferenceSpmm.Compute(CsrMatrix.FromDense(w, rows, cols), x, n, expected, bias, Activation.Relu);
        KernelAssert.Close(expected, y, cols, text);
        Assert.StartsWith("NmSpmm", plan.Describe());
        Assert.IsType<NmSpmmPlan>(plan);
        // A W that breaks the pattern gets no plan.
        Assert.Null(p.CreatePlan(TestData.Random(rows * cols, 54), rows, cols, bias, Activation.Relu));
    }
}
