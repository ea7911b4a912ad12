using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of SpMM: Y[M×N] = act(W[M×K] · X[K×N] + bias[M]) with W in CSR, X and Y dense row-major
/// (ldx = ldy = N), double accumulation. Y is fully overwritten (an empty row yields act(bias)).
/// </summary>
public static class ReferenceSpmm
{
    public static void Compute(CsrMatrix w, ReadOnlySpan<float> x, int n, Span<float> y,
        ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        if (w is null) ThrowHelper.ArgumentNull(nameof(w));
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)w.Cols * n, nameof(x), $"X [{w.Cols}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)w.Rows * n, nameof(y), $"Y [{w.Rows}×{n}]");
        if (!bias.IsEmpty && bias.Length != w.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {w.Rows} rows.");
        var acc = new double[n];
        for (int r = 0; r < w.Rows; r++)
        {
            Array.Fill(acc, bias.IsEmpty ? 0.0 : bias[r]);
            for (int i = w.RowOffsets[r]; i < w.RowOffsets[r + 1]; i++)
            {
                double v = w.Values[i];
                int xRow = w.ColumnIndices[i] * n;
                for (int j = 0; j < n; j++) acc[j] += v * x[xRow + j];
            }
            for (int j = 0; j < n; j++) y[r * n + j] = activation.Apply((float)acc[j]);
        }
    }
}
