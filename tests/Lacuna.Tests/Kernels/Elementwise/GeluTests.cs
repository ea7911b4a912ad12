using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Elementwise;

public class GeluTests
{
    [Theory]
    [InlineData(GeluApproximation.None)]
    [InlineData(GeluApproximation.Tanh)]
    public void MatchesReference_AtEdgeLengths(GeluApproximation approximation)
    {
        foreach (int n in TestData.EdgeSizes(4, 8, 16).Append(5000))
        {
            var x = TestData.Random(n, (ulong)n + 1, -8f, 8f);
            var expected = TestData.Poisoned(n);
            ReferenceTransformer.Gelu(x, expected, approximation == GeluApproximation.Tanh);
            foreach (int threads in new[] { 1, 2 })
            {
                var actual = TestData.Poisoned(n);
                Gelu.Compute(x, actual, approximation, threads);
                KernelAssert.Close(expected, actual, 1, $"{approximation} n={n} t{threads}", rtol: 2e-6f);
            }
        }
    }

    /// <summary>
    /// The brief of the vectorized erf: relative error about 1e-6 against the double reference, including the
    /// negative tail where 1 + erf(x/√2) would cancel (x = −8: Gelu ≈ −5e-15).
    /// </summary>
    [Fact]
    public void Exact_RelativeErrorBound()
    {
        const int n = 40001;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -10f + 20f * i / (n - 1);
        var y = new float[n];
        Gelu.Compute(x, y, GeluApproximation.None, 1);
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double e = ReferenceMath.Gelu(x[i]);
            if (e == 0) { Assert.Equal(0f, y[i]); continue; }
            worst = Math.Max(worst, Math.Abs((y[i] - e) / e));
        }
        Assert.True(worst < 1.5e-6, $"worst relative error {worst:E2}");
    }

    [Fact]
    public void SpecialValues()
    {
        float[] x = [0f, float.NaN, float.PositiveInfinity, 30f, -30f, 1e-30f];
        foreach (var approximation in new[] { GeluApproximation.None, GeluApproximation.Tanh })
        {
            var y = new float[x.Length];
            Gelu.Compute(x, y, approximation, 1);
            Assert.Equal(0f, y[0]);
            Assert.True(float.IsNaN(y[1]), $"{approximation}: NaN in gives {y[1]}");
            Assert.Equal(float.PositiveInfinity, y[2]);
            Assert.Equal(30f, y[3]);
            Assert.Equal(0f, y[4], 1e-30f);
            Assert.Equal(0.5e-30f, y[5], 1e-36f);
        }
    }

    [Fact]
    public void Reference_KnownValues()
    {
        // Φ(1) = 0.841344746068543, Φ(−3) = 0.00134989803163009.
        Assert.Equal(0.841344746068543, ReferenceMath.Gelu(1), 1e-14);
        Assert.Equal(-3 * 0.00134989803163009, ReferenceMath.Gelu(-3), 1e-15);
        Assert.Equal(3.558629930076851e-7, ReferenceMath.Erfc(3.6), 1e-20);
        Assert.Equal(0.033894853524689274, ReferenceMath.Erfc(1.5), 1e-15);
        Assert.Equal(0.5 * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (1 + 0.044715))), ReferenceMath.GeluTanh(1), 1e-14);
    }
}
