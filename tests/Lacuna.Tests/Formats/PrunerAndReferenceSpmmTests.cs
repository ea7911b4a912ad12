using FsCheck.Xunit;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class PrunerAndReferenceSpmmTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void Pruners_zero_exactly_the_requested_fraction(double sparsity)
    {
        var w = TestData.Random(1000, 3);
        var m = (float[])w.Clone();
        Assert.Equal((int)Math.Round(sparsity * 1000), Pruner.Magnitude(m, sparsity));
        Assert.Equal((int)Math.Round(sparsity * 1000), m.Count(v => v == 0f));
        // Magnitude pruning keeps the largest: every survivor is at least as large as every pruned weight.
        float maxPruned = w.Where((v, i) => m[i] == 0f).Select(MathF.Abs).DefaultIfEmpty(0f).Max();
        float minKept = m.Where(v => v != 0f).Select(MathF.Abs).DefaultIfEmpty(float.MaxValue).Min();
        Assert.True(maxPruned <= minKept);

        var r1 = (float[])w.Clone(); var r2 = (float[])w.Clone();
        Pruner.Random(r1, sparsity, 11); Pruner.Random(r2, sparsity, 11);
        Assert.Equal(r1, r2);
        Assert.Equal((int)Math.Round(sparsity * 1000), r1.Count(v => v == 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pruner.Random(r1, 1.5, 1));
    }

    [Theory]
    [InlineData(7, 13, 9, 0.7)]
    [InlineData(16, 33, 49, 0.9)]
    [InlineData(5, 4, 1, 0.0)]
    [InlineData(3, 8, 17, 1.0)]
    public void Reference_spmm_matches_reference_gemm_on_the_densified_matrix(int m, int k, int n, double sparsity)
    {
        var w = TestData.Random(m * k, 5);
        Pruner.Random(w, sparsity, 6);
        var csr = CsrMatrix.FromDense(w, m, k);
        var x = TestData.Random(k * n, 7);
        var bias = TestData.Random(m, 8);
        foreach (var act in new[] { Activation.None, Activation.Relu, Activation.Clip(-0.3f, 0.4f) })
        {
            var expected = TestData.Poisoned(m * n);
            ReferenceGemm.Compute(m, n, k, w, k, false, x, n, false, expected, n, bias: bias, biasAxis: BiasAxis.Row, activation: act);
            var actual = TestData.Poisoned(m * n);
            ReferenceSpmm.Compute(csr, x, n, actual, bias, act);
            KernelAssert.Close(expected, actual, k, $"{m}x{k}x{n} {act}");
        }
        Assert.Throws<ShapeMismatchException>(() => ReferenceSpmm.Compute(csr, x, n, new float[m * n], new float[m + 1]));
    }

    [Fact]
    public void Magnitude_ties_are_broken_by_position_and_nan_is_rejected()
    {
        var w = new[] { 0.5f, -0.5f, 0.5f, 2f, -0.5f };
        Assert.Equal(2, Pruner.Magnitude(w, 0.4));
        Assert.Equal(new[] { 0f, 0f, 0.5f, 2f, -0.5f }, w);
        var e = Assert.Throws<ArgumentException>(() => Pruner.Magnitude(new[] { 1f, float.NaN }, 0.5));
        Assert.Contains("weights[1]", e.Message);
    }

    [Fact]
    public void Random_mask_is_seeded_exact_and_value_independent()
    {
        var a = Pruner.RandomMask(500, 0.8, 42);
        Assert.Equal(500, a.Length);
        Assert.Equal(100, a.Count(k => k));
        Assert.Equal(a, Pruner.RandomMask(500, 0.8, 42));
        Assert.NotEqual(a, Pruner.RandomMask(500, 0.8, 43));
        var w = TestData.Random(500, 9, 1f, 2f);
        Assert.Equal(400, Pruner.Random(w, 0.8, 42));
        for (int i = 0; i < w.Length; i++) Assert.Equal(a[i], w[i] != 0f);
        Assert.Empty(Pruner.RandomMask(0, 0.5, 1));
    }

    [Property(MaxTest = 60)]
    public void Reference_spmm_matches_reference_gemm_on_random_shapes(byte m, byte k, byte n, byte sparsityPercent, ulong seed)
    {
        int mm = m % 20, kk = k % 40, nn = n % 20;
        var w = TestData.Random(mm * kk, seed);
        Pruner.Random(w, Math.Min(100, (int)sparsityPercent) / 100.0, seed + 1);
        var csr = CsrMatrix.FromDense(w, mm, kk);
        var x = TestData.Random(kk * nn, seed + 2);
        var bias = TestData.Random(mm, seed + 3);
        var expected = TestData.Poisoned(mm * nn);
        ReferenceGemm.Compute(mm, nn, kk, w, kk, false, x, nn, false, expected, nn, bias: bias, biasAxis: BiasAxis.Row, activation: Activation.Relu);
        var actual = TestData.Poisoned(mm * nn);
        ReferenceSpmm.Compute(csr, x, nn, actual, bias, Activation.Relu);
        KernelAssert.Close(expected, actual, kk, $"{mm}x{kk}x{nn}");
    }
}
