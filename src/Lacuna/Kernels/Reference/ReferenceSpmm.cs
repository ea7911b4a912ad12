using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of SpMM: Y[M×N] = act(W[M×K] · X[K×N] + bias[M]) with W in CSR, X and Y dense row-major
/// (ldx = ldy = N), double accumulation: Y[r, j] = act(bias[r] + Σ_i W.Values[i] · X[W.ColumnIndices[i], j]) over
/// row r's entries i, rounded to float once before the activation. Lengths: X ≥ K·N, Y ≥ M·N, bias empty or M.
/// Y is fully overwritten (an empty row yields act(bias), or act(0) without bias); X is only read.
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
                long xRow = (long)w.ColumnIndices[i] * n;
                for (int j = 0; j < n; j++) acc[j] += v * x[(int)(xRow + j)];
            }
            var yRow = y.Slice((int)((long)r * n), n);
            for (int j = 0; j < n; j++) yRow[j] = activation.Apply((float)acc[j]);
        }
    }
}
