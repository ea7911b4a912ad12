using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of TASD-A: X [K × n] decomposed per column by a TASD series with plain loops (the greedy
/// selection <see cref="TasdSeries"/> uses, applied to X^T so that groups run along K within one column), then
/// Y [M × n] = act(W · Σ terms + bias) by a triple loop in double, rounded to float once before the activation.
/// </summary>
public static class ReferenceTasdActivation
{
    /// <summary>The terms (each a dense X-shaped [K × n] matrix, in series order) and the dropped residual [K × n].</summary>
    public static (float[][] Terms, float[] Residual) Decompose(ReadOnlySpan<float> x, int k, int n, TasdSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ThrowHelper.IfTooShort(x.Length, (long)k * n, nameof(x), $"X [{k}×{n}]");
        var residualT = new float[k * n];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++) residualT[j * k + i] = x[i * n + j];
        var terms = new float[spec.Terms.Count][];
        for (int t = 0; t < terms.Length; t++)
        {
            var termT = new float[k * n];
            NmSelection.MoveLargest(residualT, termT, n, k, spec.Terms[t].N, spec.Terms[t].M, 1);
            terms[t] = Transposed(termT, n, k);
        }
        return (terms, Transposed(residualT, n, k));
    }

    /// <summary>Y [M × n] = act(W [M × K] · Σ terms(X) + bias); Y fully overwritten.</summary>
    public static void Compute(ReadOnlySpan<float> w, int m, int k, ReadOnlySpan<float> x, int n, TasdSpec spec, Span<float> y,
        ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        ThrowHelper.IfTooShort(w.Length, (long)m * k, nameof(w), $"W [{m}×{k}]");
        ThrowHelper.IfTooShort(y.Length, (long)m * n, nameof(y), $"Y [{m}×{n}]");
        var approx = new float[k * n];
        foreach (var term in Decompose(x, k, n, spec).Terms)
            for (int i = 0; i < approx.Length; i++) approx[i] += term[i];
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++)
            {
                double acc = bias.IsEmpty ? 0.0 : bias[r];
                for (int i = 0; i < k; i++) acc += (double)w[r * k + i] * approx[i * n + j];
                y[r * n + j] = activation.Apply((float)acc);
            }
    }

    private static float[] Transposed(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }
}
