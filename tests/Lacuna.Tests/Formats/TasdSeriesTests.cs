using Lacuna.Formats;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class TasdSeriesTests
{
    public static TheoryData<string, int, int> Cases() => new()
    {
        { "2:4+1:8", 6, 16 },
        { "2:4+1:8", 5, 13 },      // K not a multiple of either M
        { "1:4+1:4+1:4", 3, 12 },
        { "2:4+1:8:r4", 10, 24 },  // rows not a multiple of r
        { "3:16+2:8", 4, 37 },
        { "1:2", 2, 7 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Terms_plus_residual_equal_the_input_bit_for_bit(string spec, int rows, int cols)
    {
        var w = TestData.Random(rows * cols, (ulong)(rows + cols));
        var s = TasdSeries.Decompose(w, rows, cols, TasdSpec.Parse(spec));
        Assert.Equal(spec, s.Spec.ToString());
        var sum = s.Approximation();
        for (int i = 0; i < w.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(w[i]), BitConverter.SingleToInt32Bits(sum[i] + s.Residual[i]));
            Assert.True(sum[i] == 0f || s.Residual[i] == 0f, "an entry went to both a term and the residual");
        }
        // Every term has its own N:M pattern.
        for (int t = 0; t < s.Terms.Count; t++)
        {
            var (n, m) = s.Spec.Terms[t];
            Assert.Equal((n, m, s.Spec.RowsPerPattern), (s.Terms[t].N, s.Terms[t].M, s.Terms[t].RowsPerPattern));
            Assert.Null(NmMatrix.Violation(s.Terms[t].ToDense(), rows, cols, n, m, s.Spec.RowsPerPattern));
        }
        double total = w.Sum(v => (double)v * v), dropped = s.Residual.Sum(v => (double)v * v);
        Assert.Equal(Math.Sqrt(dropped / total), s.ResidualNorm, 12);
        Assert.Equal(Math.Sqrt(1 - dropped / total), s.KeptNormFraction, 12);
    }

    [Fact]
    public void The_first_term_keeps_the_largest_magnitudes_of_each_group()
    {
        int rows = 4, cols = 12;
        var w = TestData.Random(rows * cols, 9);
        var s = TasdSeries.Decompose(w, rows, cols, TasdSpec.Parse("2:4+1:4"));
        var first = s.Terms[0].ToDense();
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < 3; g++)
            {
                var group = Enumerable.Range(r * cols + g * 4, 4).ToArray();
                var kept = group.Where(i => first[i] != 0).ToArray();
                Assert.Equal(2, kept.Length);
                Assert.True(kept.Min(i => MathF.Abs(w[i])) >= group.Except(kept).Max(i => MathF.Abs(w[i])));
            }
        // The second term takes the largest of what is left: the third largest of each group.
        var second = s.Terms[1].ToDense();
        Assert.Equal(rows * 3, second.Count(v => v != 0));
    }

    [Fact]
    public void Already_nm_input_returns_itself_with_a_zero_residual()
    {
        var w = NmMatrixTests.RandomNm(7, 19, 2, 4, 1, 3);
        var s = TasdSeries.Decompose(w, 7, 19, TasdSpec.Parse("2:4+1:8"));
        Assert.Equal(w, s.Terms[0].ToDense());
        Assert.All(s.Terms[1].ToDense(), v => Assert.Equal(0f, v));
        Assert.All(s.Residual, v => Assert.Equal(0f, v));
        Assert.Equal(0.0, s.ResidualNorm);
        Assert.Equal(1.0, s.KeptNormFraction);
        var x = TestData.Random(19 * 5, 4);
        Assert.Equal(0.0, s.OutputError(w, x, 5));
    }

    [Fact]
    public void Output_error_is_the_relative_error_of_the_layer_output()
    {
        int rows = 6, cols = 16, n = 9;
        var w = TestData.Random(rows * cols, 21);
        var x = TestData.Random(cols * n, 22);
        var s = TasdSeries.Decompose(w, rows, cols, TasdSpec.Parse("1:4"));
        var approx = s.Approximation();
        double num = 0, den = 0;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
            {
                double exact = 0, a = 0;
                for (int k = 0; k < cols; k++) { exact += (double)w[r * cols + k] * x[k * n + j]; a += (double)approx[r * cols + k] * x[k * n + j]; }
                num += (a - exact) * (a - exact); den += exact * exact;
            }
        double error = s.OutputError(w, x, n);
        Assert.True(error > 0.1, $"a 1:4 approximation of random weights should lose a lot, got {error}");
        Assert.Equal(Math.Sqrt(num / den), error, 9);
    }

    [Theory]
    [InlineData("2:4+", "term ''")]
    [InlineData("2:4+4:2", "term 4:2")]
    [InlineData("2:4+1:17", "term 1:17")]
    [InlineData("2:4:rx", "rows per pattern")]
    [InlineData("a:4", "term 'a:4'")]
    public void Bad_series_spellings_say_which_term(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TasdSpec.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Spec_spelling_round_trips_and_bounds_the_macs()
    {
        var s = TasdSpec.Parse(" 2:4+1:8:r8 ");
        Assert.Equal("2:4+1:8:r8", s.ToString());
        Assert.Equal(8, s.RowsPerPattern);
        Assert.Equal(0.625, s.DensityBound);
    }
}
