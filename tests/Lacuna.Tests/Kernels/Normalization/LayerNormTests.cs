using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

public class LayerNormTests
{
    public static IEnumerable<object[]> Widths() =>
        TestData.EdgeSizes(4, 8, 16, 64).Where(w => w > 0 && w <= 200).Concat([768, 1024]).Distinct().Select(w => new object[] { w });

    [Theory]
    [MemberData(nameof(Widths))]
    public void MatchesReference_WithAndWithoutResidualAndBeta(int width)
    {
        foreach (int rows in new[] { 1, 3, 40 })
        {
            // An offset mean (x around 3) checks the two-pass variance.
            var x = TestData.Random(rows * width, (ulong)width, 2f, 4f);
            var residual = TestData.Random(rows * width, (ulong)width + 1);
            var gamma = TestData.Random(width, 3, 0.5f, 1.5f);
            var beta = TestData.Random(width, 4);
            foreach (bool withResidual in new[] { false, true })
                foreach (bool withBeta in new[] { false, true })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var r = withResidual ? residual : [];
                        var b = withBeta ? beta : [];
                        var expected = TestData.Poisoned(x.Length);
                        ReferenceTransformer.LayerNorm(x, width, gamma, b, expected, 1e-5f, r);
                        var actual = TestData.Poisoned(x.Length);
                        LayerNorm.Compute(x, width, gamma, b, actual, 1e-5f, r, threads);
                        KernelAssert.Close(expected, actual, width, $"width {width} rows {rows} residual {withResidual} beta {withBeta} t{threads}", rtol: 1e-4f);
                    }
        }
    }

    [Fact]
    public void InPlace_OnTheResidual_MatchesReference()
    {
        const int width = 37, rows = 5;
        var x = TestData.Random(rows * width, 11);
        var residual = TestData.Random(rows * width, 12);
        var gamma = TestData.Random(width, 13);
        var expected = new float[x.Length];
        ReferenceTransformer.LayerNorm(x, width, gamma, [], expected, 1e-6f, residual);
        LayerNorm.Compute(x, width, gamma, [], residual, 1e-6f, residual, 1);
        KernelAssert.Close(expected, residual, width, "in place", rtol: 1e-4f);
    }

    [Fact]
    public void Reference_NormalizesARowToZeroMeanUnitVariance()
    {
        var y = new float[4];
        ReferenceTransformer.LayerNorm([1f, 2f, 3f, 4f], 4, [1f, 1f, 1f, 1f], [], y, 0f);
        float s = MathF.Sqrt(1.25f);
        KernelAssert.Close([-1.5f / s, -0.5f / s, 0.5f / s, 1.5f / s], y, 4, "reference");
    }

    [Fact]
    public void Errors_NameTheArgument()
    {
        var x = new float[12];
        Assert.Contains("scale", Assert.ThrowsAny<Exception>(() => LayerNorm.Compute(x, 4, new float[3], [], new float[12])).Message);
        Assert.Contains("width 5", Assert.ThrowsAny<Exception>(() => LayerNorm.Compute(x, 5, new float[5], [], new float[12])).Message);
        Assert.Contains("residual", Assert.ThrowsAny<Exception>(() => LayerNorm.Compute(x, 4, new float[4], [], new float[12], 1e-5f, new float[8])).Message);
    }

    /// <summary>ONNX's optional Mean and InvStdDev outputs, rows split over threads (the last row count), NaN-poisoned.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(768)]
    public void MeanAndInvStdDevOutputs_MatchTheReference(int width)
    {
        foreach (int rows in new[] { 1, 3, 65536 / width + 1 })
        {
            var x = TestData.Random(rows * width, (ulong)(width + rows), -3f, 5f);
            var gamma = TestData.Random(width, 2, 0.5f, 1.5f);
            float[] expected = new float[x.Length], mean = new float[rows], inv = new float[rows];
            ReferenceTransformer.LayerNorm(x, width, gamma, [], expected, 1e-5f, default, mean, inv);
            float[] y = Enumerable.Repeat(float.NaN, x.Length).ToArray(), m = Enumerable.Repeat(float.NaN, rows).ToArray(), iv = Enumerable.Repeat(float.NaN, rows).ToArray();
            LayerNorm.Compute(x, width, gamma, [], y, 1e-5f, default, 2, m, iv);
            for (int r = 0; r < rows; r++)
            {
                Assert.True(Math.Abs(m[r] - mean[r]) <= 1e-5f * (1 + Math.Abs(mean[r])), $"mean of row {r}: {m[r]} vs {mean[r]}");
                Assert.True(Math.Abs(iv[r] - inv[r]) <= 1e-4f * inv[r], $"inverse standard deviation of row {r}: {iv[r]} vs {inv[r]}");
            }
            Assert.DoesNotContain(y, float.IsNaN);
        }
    }
}
