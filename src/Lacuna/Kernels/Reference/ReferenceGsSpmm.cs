using Lacuna.Formats;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of GS SpMM: Y[M×N] = act(W · X + bias) with W a <see cref="GsMatrix"/>: every stored entry
/// (padding adds zero) multiplies the X row of its column into its lane's row; double accumulation, rounded to float
/// once before the activation. X [K×N] and Y [M×N] row-major; Y fully overwritten.
/// </summary>
public static class ReferenceGsSpmm
{
    public static void Compute(GsMatrix w, ReadOnlySpan<float> x, int n, Span<float> y,
        ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        if (w is null) ThrowHelper.ArgumentNull(nameof(w));
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)w.Cols * n, nameof(x), $"X [{w.Cols}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)w.Rows * n, nameof(y), $"Y [{w.Rows}×{n}]");
        if (!bias.IsEmpty && bias.Length != w.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {w.Rows} rows.");
        int v = w.Lanes, banks = w.Banks, rpg = w.RowsPerGroup;
        var acc = new double[(long)w.Rows * n];
        for (int g = 0; g < w.GroupCount; g++)
            for (int s = w.GroupOffsets[g]; s < w.GroupOffsets[g + 1]; s++)
                for (int l = 0; l < v; l++)
                {
                    int e = s * v + l, row = g * rpg + l / banks;
                    if (row >= w.Rows) continue;
                    double value = w.Values[e];
                    for (int j = 0; j < n; j++) acc[(long)row * n + j] += value * x[w.ColumnIndices[e] * n + j];
                }
        for (int row = 0; row < w.Rows; row++)
            for (int j = 0; j < n; j++)
                y[row * n + j] = activation.Apply((float)(acc[(long)row * n + j] + (bias.IsEmpty ? 0.0 : bias[row])));
    }
}
