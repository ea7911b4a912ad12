using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of block SpMM: Y[M×N] = act(W · X + bias) with W in BSR (every stored block element, edge
/// padding included, multiplies the X row of its column when that column is inside K), double accumulation,
/// rounded to float once before the activation. X [K×N] and Y [M×N] row-major; Y fully overwritten.
/// </summary>
public static class ReferenceBlockSpmm
{
    public static void Compute(BsrMatrix w, ReadOnlySpan<float> x, int n, Span<float> y,
        ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        if (w is null) ThrowHelper.ArgumentNull(nameof(w));
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)w.Cols * n, nameof(x), $"X [{w.Cols}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)w.Rows * n, nameof(y), $"Y [{w.Rows}×{n}]");
        if (!bias.IsEmpty && bias.Length != w.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {w.Rows} rows.");
        int r = w.BlockRows, c = w.BlockCols;
        var acc = new double[(long)w.Rows * n];
        for (int br = 0; br < w.BlockRowCount; br++)
            for (int b = w.BlockRowOffsets[br]; b < w.BlockRowOffsets[br + 1]; b++)
                for (int i = 0; i < r; i++)
                {
                    int row = br * r + i;
                    if (row >= w.Rows) break;
                    for (int jj = 0; jj < c; jj++)
                    {
                        int col = w.BlockColumnIndices[b] * c + jj;
                        if (col >= w.Cols) break;
                        double v = w.Values[b * r * c + i * c + jj];
                        for (int j = 0; j < n; j++) acc[(long)row * n + j] += v * x[col * n + j];
                    }
                }
        for (int row = 0; row < w.Rows; row++)
            for (int j = 0; j < n; j++)
                y[row * n + j] = activation.Apply((float)(acc[(long)row * n + j] + (bias.IsEmpty ? 0.0 : bias[row])));
    }
}
