using Lacuna.Bench.Harness;
using Lacuna.Tensors;

namespace Lacuna.Tests.Bench;

public class LatencyHistogramTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10_000)]
    public void Quantiles_are_within_half_a_percent_of_the_exact_order_statistic(int count)
    {
        var rng = new DeterministicRandom((ulong)count);
        var values = new double[count];
        var h = new LatencyHistogram();
        for (int i = 0; i < count; i++)
        {
            values[i] = 0.01 * Math.Exp(12 * rng.NextDouble()); // 10 µs to about 1.6 s, log-uniform
            h.Record(values[i]);
        }
        Array.Sort(values);
        Assert.Equal(count, h.Count);
        foreach (double q in new[] { 0.01, 0.5, 0.9, 0.99, 1.0 })
        {
            double exact = values[Math.Max(1, (int)Math.Ceiling(q * count)) - 1];
            double got = h.Quantile(q);
            Assert.True(Math.Abs(got / exact - 1) <= 0.005 + 1e-12, $"q {q}: {got} vs exact {exact}");
        }
    }

    [Fact]
    public void Empty_is_NaN_and_bad_input_is_refused()
    {
        var h = new LatencyHistogram();
        Assert.True(double.IsNaN(h.Quantile(0.5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Record(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Record(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Quantile(0));
        h.Record(0);
        Assert.Equal(1e-3, h.Quantile(1));
    }
}
