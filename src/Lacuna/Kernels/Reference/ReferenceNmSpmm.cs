using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of N:M SpMM: Y[M×n] = act(Σ_t W_t · X + bias) for the terms W_t of one N:M matrix or a TASD
/// series (each read through its own slots, so the format's packing is checked too), X [K×n] and Y row-major, double
/// accumulation rounded to float once before the activation. Y is fully overwritten.
/// </summary>
public static class ReferenceNmSpmm
{
    public static void Compute(IReadOnlyList<NmMatrix> terms, ReadOnlySpan<float> x, int n, Span<float> y,
        ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0) ThrowHelper.Argument(nameof(terms), "At least one term is needed.");
        int rows = terms[0].Rows, cols = terms[0].Cols;
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)cols * n, nameof(x), $"X [{cols}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)rows * n, nameof(y), $"Y [{rows}×{n}]");
        if (!bias.IsEmpty && bias.Length != rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {rows} rows.");
        var acc = new double[(long)rows * n];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) acc[r * n + j] = bias.IsEmpty ? 0.0 : bias[r];
        foreach (var w in terms)
        {
            if (w.Rows != rows || w.Cols != cols) ThrowHelper.Shape(nameof(terms), $"Term [{w.Rows}×{w.Cols}] differs from [{rows}×{cols}].");
            for (int p = 0; p < w.PatternRows; p++)
            {
                int[] slotCols = w.SlotColumns(p);
                for (int r = p * w.RowsPerPattern; r < Math.Min(rows, (p + 1) * w.RowsPerPattern); r++)
                    for (int s = 0; s < slotCols.Length; s++)
                    {
                        double v = w.Values[(long)r * w.SlotsPerRow + s];
                        for (int j = 0; j < n; j++) acc[r * n + j] += v * x[slotCols[s] * n + j];
                    }
            }
        }
        for (int i = 0; i < rows * n; i++) y[i] = activation.Apply((float)acc[i]);
    }
}
