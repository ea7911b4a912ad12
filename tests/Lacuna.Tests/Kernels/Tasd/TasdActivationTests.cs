using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Tasd;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Tasd;

public class TasdActivationTests
{
    public static TheoryData<string> Series() => new() { "1:4", "2:4", "1:8", "2:8", "4:8", "2:4+1:8" };

    /// <summary>A ReLU-like X [k × n]: Gaussian values with negatives clipped to 0, then kept with probability density / 0.5, never all zero.</summary>
    internal static float[] Relu(int k, int n, double density, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var x = new float[k * n];
        for (int i = 0; i < x.Length; i++)
        {
            float g = (float)rng.NextGaussian();
            x[i] = rng.NextDouble() < density ? MathF.Abs(g) + 1e-3f : 0f;
        }
        x[rng.NextInt(x.Length)] = 0.75f;
        return x;
    }

    private static void CheckTerm(float[] term, int k, int n, int nn, int m, string context)
    {
        for (int j = 0; j < n; j++)
            for (int g0 = 0; g0 < k; g0 += m)
            {
                int nonZeros = 0;
                for (int i = g0; i < Math.Min(k, g0 + m); i++) nonZeros += term[i * n + j] != 0f ? 1 : 0;
                Assert.True(nonZeros <= nn, $"{context}: column {j}, group at {g0} holds {nonZeros} > {nn}");
            }
    }

    [Theory]
    [MemberData(nameof(Series))]
    public void Decomposition_matches_the_reference_and_terms_plus_residual_are_x(string series)
    {
        var spec = TasdSpec.Parse(series);
        foreach (int k in new[] { 1, 5, 13, 37 })
            foreach (int n in new[] { 1, 7, 17 })
                foreach (double d in new[] { 0.3, 0.9 })
                {
                    string ctx = $"{series} K={k} n={n} d={d}";
                    var x = Relu(k, n, d, (ulong)(k * 100 + n));
                    if (d > 0.5) for (int i = 0; i < x.Length; i += 3) x[i] = x[i] == 0f ? 0f : -x[i];
                    // Magnitudes in steps of 0.5 (never rounded to zero): many ties, which go to the lower K index.
                    if (d > 0.5) for (int i = 0; i < x.Length; i += 2) x[i] = x[i] == 0f ? 0f : MathF.CopySign(MathF.Ceiling(MathF.Abs(x[i]) * 2) / 2, x[i]); // magnitudes rank, not signs
                    var (terms, residual) = ReferenceTasdActivation.Decompose(x, k, n, spec);
                    var sum = (float[])residual.Clone();
                    for (int t = 0; t < terms.Length; t++)
                    {
                        CheckTerm(terms[t], k, n, spec.Terms[t].N, spec.Terms[t].M, $"{ctx} term {t}");
                        for (int i = 0; i < sum.Length; i++) sum[i] += terms[t][i];
                    }
                    KernelAssert.Exact(x, sum, $"{ctx}: terms + residual");
                    var fast = TasdActivation.Decompose(x, k, n, spec);
                    var approx = new float[x.Length];
                    foreach (var t in terms) for (int i = 0; i < approx.Length; i++) approx[i] += t[i];
                    KernelAssert.Exact(approx, fast.ToDense(), $"{ctx}: fast decomposition vs reference terms");
                    double total = x.Sum(v => (double)v * v), dropped = residual.Sum(v => (double)v * v);
                    Assert.Equal(Math.Sqrt(dropped / total), fast.ResidualNorm, 12);
                    Assert.True(fast.Counts.All(c => c <= fast.Capacity), ctx);
                }
    }

    /// <summary>X that fits 2:4 alone, or 2:4+1:8 (every 8-group has one 4-group with a third non-zero, the smallest of it).</summary>
    private static float[] FitsSeries(int k, int n, bool extra, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var x = new float[k * n];
        for (int j = 0; j < n; j++)
            for (int g0 = 0; g0 < k; g0 += 4)
            {
                int width = Math.Min(4, k - g0);
                int a = rng.NextInt(width), b = rng.NextInt(width);
                x[(g0 + a) * n + j] = 0.5f + rng.NextFloat();
                x[(g0 + b) * n + j] = 0.5f + rng.NextFloat();
                int c = rng.NextInt(width);
                if (extra && g0 % 8 == 0 && x[(g0 + c) * n + j] == 0f) x[(g0 + c) * n + j] = 0.1f * rng.NextFloat() + 0.01f;
            }
        return x;
    }

    [Theory]
    [InlineData("2:4", false)]
    [InlineData("4:8", false)]
    [InlineData("2:4+1:8", true)]
    public void Activations_that_fit_the_series_are_kept_whole(string series, bool extra)
    {
        var spec = TasdSpec.Parse(series);
        foreach (int k in new[] { 8, 22, 64 })
        {
            int n = 9, m = 17;
            var x = FitsSeries(k, n, extra, (ulong)k);
            var fast = TasdActivation.Decompose(x, k, n, spec);
            KernelAssert.Exact(x, fast.ToDense(), $"{series} K={k}");
            Assert.Equal(0.0, fast.ResidualNorm);
            var w = TestData.Random(m * k, 3);
            var expected = new float[m * n];
            ReferenceGemm.Compute(m, n, k, w, k, false, x, n, false, expected, n);
            var plan = TasdActivationPlan.Create(w, m, k, spec);
            var y = TestData.Poisoned(m * n);
            var stats = plan.RunMeasured(x, n, y, 1);
            KernelAssert.Close(expected, y, k, $"{series} K={k}: exact W·X");
            Assert.Equal(0.0, stats.ResidualNorm);
            Assert.Equal(stats.NonZeros, stats.Kept);
        }
        if (extra) Assert.True(TasdActivation.Decompose(FitsSeries(64, 9, true, 64), 64, 9, TasdSpec.Parse("2:4")).ResidualNorm > 0, "the series' second term is needed");
    }

    private static readonly int[] Ms = { 1, 15, 16, 17, 31, 32, 33, 48, 130 };
    private static readonly int[] Ns = { 1, 7, 8, 9, 15, 16, 17, 33 };

    [Theory]
    [MemberData(nameof(Series))]
    public void Every_tile_matches_the_reference(string series)
    {
        var spec = TasdSpec.Parse(series);
        var kernels = TasdActKernels.Supported.ToArray();
        Assert.NotEmpty(kernels);
        int caseNo = 0;
        foreach (int m in Ms)
            foreach (int n in Ns)
            {
                int k = caseNo % 2 == 0 ? 21 : 40;
                var (act, bias, threads) = (caseNo++ % 3) switch
                {
                    0 => (Activation.Relu, TestData.Random(m, 5), 1),
                    1 => (Activation.None, Array.Empty<float>(), 2),
                    _ => (Activation.Clip(-0.2f, 0.3f), TestData.Random(m, 6), 1),
                };
                var w = TestData.Random(m * k, (ulong)(m + 7 * n));
                var x = Relu(k, n, 0.5, (ulong)(m * 31 + n));
                var expected = new float[m * n];
                ReferenceTasdActivation.Compute(w, m, k, x, n, spec, expected, bias, act);
                double residual = TasdActivation.Decompose(x, k, n, spec).ResidualNorm;
                foreach (var kernel in kernels)
                    // 64 bytes of W^T slab per K block is the smallest block: several blocks accumulate into Y^T.
                    foreach (int blockBytes in new[] { 0, 64 })
                    {
                        var plan = TasdActivationPlan.Create(w, m, k, spec, bias, act, kernel, blockBytes);
                        var y = TestData.Poisoned(m * n);
                        var stats = plan.RunMeasured(x, n, y, threads);
                        string ctx = $"{kernel.Name} blockBytes={blockBytes} {series} M={m} K={k} n={n} {act} t{threads}";
                        KernelAssert.Close(expected, y, k, ctx);
                        Assert.Equal(residual, stats.ResidualNorm, 10);
                    }
            }
    }

    [Fact]
    public void Tuned_plan_matches_the_reference_and_reports_what_it_dropped()
    {
        var spec = TasdSpec.Parse("2:4+1:8");
        int m = 70, k = 64;
        var w = TestData.Random(m * k, 1);
        var bias = TestData.Random(m, 2);
        var plan = TasdActivationPlan.Create(w, m, k, spec, bias, Activation.Relu);
        foreach (int threads in new[] { 1, 2 })
            foreach (int n in new[] { 3, 50, 100 })
            {
                var x = Relu(k, n, 0.6, (ulong)n);
                var expected = new float[m * n];
                ReferenceTasdActivation.Compute(w, m, k, x, n, spec, expected, bias, Activation.Relu);
                var y = TestData.Poisoned(m * n);
                var stats = plan.RunMeasured(x, n, y, threads);
                KernelAssert.Close(expected, y, k, $"tuned n={n} t{threads}");
                var fast = TasdActivation.Decompose(x, k, n, spec);
                Assert.Equal(fast.ResidualNorm, stats.ResidualNorm, 10);
                Assert.True(stats.ResidualNorm > 0 && stats.ResidualNorm < 1, $"density 0.6 on 2:4+1:8 drops a little: {stats.ResidualNorm}");
                Assert.Equal(fast.Counts.Sum(), stats.Kept);
                Assert.Equal(x.Count(v => v != 0f), stats.NonZeros);
                Assert.Equal(TasdActivationSeries.MeasureDensity(x), stats.Density, 12);
                Assert.Contains($"N={n} t{threads}", plan.Describe());
            }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_activations_are_a_clear_error(float bad)
    {
        int m = 16, k = 12, n = 9;
        var x = Relu(k, n, 0.5, 1);
        x[5 * n + 7] = bad;
        var spec = TasdSpec.Parse("2:4+1:8");
        var e1 = Assert.Throws<ArgumentException>(() => TasdActivation.Decompose(x, k, n, spec));
        Assert.Contains("X[5, 7]", e1.Message);
        var plan = TasdActivationPlan.Create(TestData.Random(m * k, 1), m, k, spec);
        var e2 = Assert.Throws<ArgumentException>(() => plan.Run(x, n, new float[m * n], 1));
        Assert.Contains("X[5, 7]", e2.Message);
    }

    [Theory]
    [InlineData("2:4+")]
    [InlineData("4:4")]
    [InlineData("1:17")]
    [InlineData("two:four")]
    [InlineData("2:4:r4")]
    public void Bad_series_are_one_line_errors(string series)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => TasdActivationPlan.Create(TestData.Random(16, 1), 4, 4, TasdSpec.Parse(series)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(series, e.Message);
    }

    [Fact]
    public void Bad_shapes_are_clear_errors()
    {
        var spec = TasdSpec.Parse("2:4");
        Assert.Throws<ShapeMismatchException>(() => TasdActivationPlan.Create(new float[10], 4, 4, spec));
        Assert.Throws<ShapeMismatchException>(() => TasdActivationPlan.Create(new float[16], 4, 4, spec, new float[3]));
        var plan = TasdActivationPlan.Create(TestData.Random(16, 1), 4, 4, spec);
        Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[7], 2, new float[8]));
        Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[8], 2, new float[7]));
    }

    [Fact]
    public void The_chooser_covers_the_density_with_a_margin()
    {
        Assert.Equal("4:8", TasdActivationSeries.Choose(0.1)!.ToString());
        Assert.Equal("2:4+1:8", TasdActivationSeries.Choose(0.3)!.ToString());
        Assert.Equal("6:8", TasdActivationSeries.Choose(0.5)!.ToString());
        Assert.Equal("14:16", TasdActivationSeries.Choose(0.6)!.ToString());
        Assert.Null(TasdActivationSeries.Choose(0.7));
        Assert.Equal("1:8", TasdActivationSeries.Choose(0.1, margin: 0)!.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => TasdActivationSeries.Choose(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TasdActivationSeries.Choose(0.5, margin: -0.1));
        // The promise in the doc comment: on i.i.d. ReLU-like activations the chosen series drops at most ~5 % of the norm.
        foreach (double d in new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 })
        {
            var x = Relu(1024, 16, d, (ulong)(d * 100));
            var spec = TasdActivationSeries.Choose(TasdActivationSeries.MeasureDensity(x))!;
            double r = TasdActivation.Decompose(x, 1024, 16, spec).ResidualNorm;
            Assert.True(r < 0.06, $"density {d}: {spec} dropped {r:F3} of the norm");
        }
    }
}
