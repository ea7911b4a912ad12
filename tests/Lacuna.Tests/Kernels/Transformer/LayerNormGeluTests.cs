using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Transformer;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Transformer;

/// <summary>The LayerNorm and Gelu kernels against <see cref="ReferenceTransformer"/>: random data, NaN-poisoned outputs,
/// lengths around every vector width, the 1024-float Gelu tile and the LayerNorm thread split.</summary>
public class LayerNormGeluTests
{
    public static TheoryData<int> Inners => [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 768];

    [Theory]
    [MemberData(nameof(Inners))]
    public void LayerNorm_matches_the_reference(int inner)
    {
        foreach (int rows in new[] { 1, 3, 65536 / inner + 1 }) // the last one is split over threads
            foreach (bool bias in new[] { true, false })
            {
                var x = ElementwiseCheck.Data(rows * inner, (ulong)(inner + rows), specials: false, -3f, 5f);
                var scale = ElementwiseCheck.Data(inner, 2, false, 0.5f, 1.5f);
                var b = bias ? ElementwiseCheck.Data(inner, 3, false) : [];
                float[] expected = new float[x.Length], mean = new float[rows], inv = new float[rows];
                ReferenceTransformer.LayerNorm(x, rows, inner, scale, b, 1e-5f, expected, mean, inv);
                float[] y = Poisoned(x.Length), m = Poisoned(rows), iv = Poisoned(rows);
                LayerNorm.Compute(x, rows, inner, scale, b, 1e-5f, y, m, iv);
                // Centring rounds x − mean to float (|x| ≤ 5: ~3e-7), which 1/σ magnifies in rows of nearly equal values.
                for (int i = 0; i < y.Length; i++)
                {
                    float tol = KernelAssert.Tolerance(inner) * (1 + Math.Abs(expected[i])) + 1e-6f * inv[i / inner] * 1.5f;
                    Assert.True(Math.Abs(y[i] - expected[i]) <= tol, $"LayerNorm rows {rows} inner {inner} bias {bias}: element {i} is {y[i]}, expected {expected[i]} (tolerance {tol}).");
                }
                KernelAssert.Close(mean, m, inner, "mean");
                for (int r = 0; r < rows; r++)
                    Assert.True(Math.Abs(iv[r] - inv[r]) <= 1e-4f * inv[r] * (1 + inv[r] * 1e-3f), $"inverse standard deviation of row {r}: {iv[r]} vs {inv[r]}");
            }
    }

    [Fact]
    public void LayerNorm_rejects_short_spans()
    {
        var e = Assert.Throws<ArgumentException>(() => LayerNorm.Compute(new float[10], 2, 8, new float[8], default, 1e-5f, new float[16]));
        Assert.Contains("LayerNorm", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gelu_matches_the_reference_at_every_length_and_tile_edge(bool tanh)
    {
        foreach (int n in Enumerable.Range(0, 258).Concat([1023, 1024, 1025, 2047, 3000]))
        {
            var x = ElementwiseCheck.Data(n, (ulong)n + 7, specials: false, -6f, 6f);
            var expected = x.Select(v => (float)ReferenceTransformer.Gelu(v, tanh)).ToArray();
            var y = Poisoned(n);
            if (tanh) Gelu.Tanh(x, y); else Gelu.Erf(x, y);
            ElementwiseCheck.Close(expected, y, $"Gelu {(tanh ? "tanh" : "erf")} n={n}", rtol: 1e-5f, atol: 1e-6f);
            // In place, as the element-wise driver may call it.
            if (tanh) Gelu.Tanh(x, x); else Gelu.Erf(x, x);
            ElementwiseCheck.Close(expected, x, $"Gelu in place n={n}", rtol: 1e-5f, atol: 1e-6f);
        }
    }

    private static float[] Poisoned(int n) => Enumerable.Repeat(float.NaN, n).ToArray();
}
