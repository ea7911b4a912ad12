namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the transformer operators: LayerNormalization over the trailing <c>inner</c> elements of each
/// row and Gelu (erf and tanh forms), in double precision.
/// </summary>
public static class ReferenceTransformer
{
    /// <summary>y[r, i] = (x[r, i] − mean_r) / sqrt(var_r + eps) · scale[i] + bias[i] (bias optional); population variance.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, int rows, int inner, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        float epsilon, Span<float> y, Span<float> mean = default, Span<float> invStdDev = default)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * inner, inner);
            double m = 0;
            foreach (float v in row) m += v;
            m /= Math.Max(1, inner);
            double var = 0;
            foreach (float v in row) var += (v - m) * (v - m);
            var /= Math.Max(1, inner);
            double inv = 1 / Math.Sqrt(var + epsilon);
            for (int i = 0; i < inner; i++)
                y[r * inner + i] = (float)((row[i] - m) * inv * scale[i] + (bias.IsEmpty ? 0 : bias[i]));
            if (!mean.IsEmpty) mean[r] = (float)m;
            if (!invStdDev.IsEmpty) invStdDev[r] = (float)inv;
        }
    }

    /// <summary>Gelu: x·Φ(x) = 0.5·x·(1 + erf(x/√2)); with <paramref name="tanh"/>, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static double Gelu(double x, bool tanh) => tanh
        ? 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
        : 0.5 * x * (1 + ReferenceMath.Erf(x / Math.Sqrt(2)));
}
