using System.Globalization;

namespace Lacuna.Formats;

/// <summary>
/// A TASD series spec (Jeong et al., arXiv 2403.07953): the ordered N:M terms of an approximation W ≈ W1 + W2 + …,
/// spelled "2:4+1:8"; a trailing ":rR" ("2:4+1:8:r4") makes every term's pattern shared by R consecutive rows.
/// </summary>
public sealed record TasdSpec(IReadOnlyList<(int N, int M)> Terms, int RowsPerPattern = 1)
{
    public override string ToString() =>
        string.Join("+", Terms.Select(t => $"{t.N}:{t.M}")) + (RowsPerPattern == 1 ? "" : $":r{RowsPerPattern}");

    /// <summary>Upper bound of the kept fraction of dense MACs: Σ N/M (2:4+1:8: 0.625).</summary>
    public double DensityBound => Terms.Sum(t => (double)t.N / t.M);

    /// <summary>Reads "2:4+1:8" or "2:4+1:8:r4"; a wrong spelling or N:M is an <see cref="ArgumentException"/> saying which term.</summary>
    public static TasdSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        int rows = 1;
        int colon = t.LastIndexOf(":r", StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!int.TryParse(t.AsSpan(colon + 2), NumberStyles.None, CultureInfo.InvariantCulture, out rows) || rows < 1 || rows > 64)
                throw new ArgumentException($"TASD series '{text}': rows per pattern after ':r' must be an integer in 1..64.", nameof(text));
            t = t[..colon];
        }
        var terms = new List<(int, int)>();
        foreach (string term in t.Split('+'))
        {
            var parts = term.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m))
                throw new ArgumentException($"TASD series '{text}': term '{term}' is not N:M (e.g. 2:4+1:8).", nameof(text));
            if (m < 2 || m > 16 || n < 1 || n >= m)
                throw new ArgumentException($"TASD series '{text}': term {n}:{m} needs 1 <= N < M <= 16.", nameof(text));
            terms.Add((n, m));
        }
        return new TasdSpec(terms, rows);
    }
}

/// <summary>
/// A TASD decomposition: W ≈ Σ Terms (each an <see cref="NmMatrix"/> of the spec's term, in order) plus a dropped
/// residual whose relative Frobenius norm ‖residual‖ / ‖W‖ is <see cref="ResidualNorm"/>. Found greedily: term 1
/// keeps the N1 largest magnitudes of every M1-group along K, term 2 the same on what is left, and so on. Each entry
/// of W goes whole to exactly one term or to the residual, so terms + residual reproduce W bit for bit.
/// </summary>
public sealed class TasdSeries
{
    private TasdSeries(TasdSpec spec, NmMatrix[] terms, double residualNorm, float[] residual)
    {
        Spec = spec; Terms = terms; ResidualNorm = residualNorm; Residual = residual;
    }

    public TasdSpec Spec { get; }
    public IReadOnlyList<NmMatrix> Terms { get; }

    /// <summary>‖W − Σ terms‖_F / ‖W‖_F (0 for a zero W).</summary>
    public double ResidualNorm { get; }

    /// <summary>The dropped part, W − Σ terms [Rows × Cols].</summary>
    public float[] Residual { get; }

    public int Rows => Terms[0].Rows;
    public int Cols => Terms[0].Cols;

    /// <summary>‖Σ terms‖_F / ‖W‖_F = sqrt(1 − ResidualNorm²) (the split is disjoint).</summary>
    public double KeptNormFraction => Math.Sqrt(Math.Max(0, 1 - ResidualNorm * ResidualNorm));

    /// <summary>Σ terms as a dense [Rows × Cols] matrix.</summary>
    public float[] Approximation()
    {
        var dense = new float[(long)Rows * Cols];
        foreach (var t in Terms) t.AddTo(dense);
        return dense;
    }

    /// <summary>
    /// Greedy decomposition of W [rows × cols] by <paramref name="spec"/>. With shared rows (r &gt; 1) a group's
    /// columns are ranked by their squared magnitude summed over the r rows. Only non-zeros are ever taken, so an
    /// input that already is N1:M1 comes back as its first term with every later term empty and a zero residual.
    /// </summary>
    public static TasdSeries Decompose(ReadOnlySpan<float> w, int rows, int cols, TasdSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(w.Length, (long)rows * cols, nameof(w), $"W [{rows}×{cols}]");
        if (spec.Terms.Count == 0) ThrowHelper.Argument(nameof(spec), "A TASD series needs at least one term.");
        CsrMatrix.CheckFinite(w[..(rows * cols)], cols, nameof(w));
        var residual = w[..(rows * cols)].ToArray();
        var terms = new NmMatrix[spec.Terms.Count];
        var term = new float[residual.Length];
        for (int i = 0; i < terms.Length; i++)
        {
            var (n, m) = spec.Terms[i];
            Array.Clear(term);
            NmSelection.MoveLargest(residual, term, rows, cols, n, m, spec.RowsPerPattern);
            terms[i] = NmMatrix.FromDense(term, rows, cols, n, m, spec.RowsPerPattern);
        }
        double total = 0, dropped = 0;
        for (int i = 0; i < residual.Length; i++)
        {
            total += (double)w[i] * w[i];
            dropped += (double)residual[i] * residual[i];
        }
        return new TasdSeries(spec, terms, total == 0 ? 0 : Math.Sqrt(dropped / total), residual);
    }

    /// <summary>
    /// The layer-output error of the approximation on a calibration batch X [Cols × n]: ‖W_approx·X − W·X‖_F / ‖W·X‖_F,
    /// in double (W is the matrix this series was decomposed from).
    /// </summary>
    public double OutputError(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int n)
    {
        ThrowHelper.IfTooShort(w.Length, (long)Rows * Cols, nameof(w), $"W [{Rows}×{Cols}]");
        ThrowHelper.IfTooShort(x.Length, (long)Cols * n, nameof(x), $"X [{Cols}×{n}]");
        // W_approx·X − W·X = −residual·X, so only the residual's product is needed next to W's.
        var exact = new double[n];
        var diff = new double[n];
        double num = 0, den = 0;
        for (int r = 0; r < Rows; r++)
        {
            Array.Clear(exact); Array.Clear(diff);
            for (int k = 0; k < Cols; k++)
            {
                double a = w[r * Cols + k], d = Residual[r * Cols + k];
                if (a == 0 && d == 0) continue;
                var xr = x.Slice(k * n, n);
                for (int j = 0; j < n; j++) { exact[j] += a * xr[j]; diff[j] += d * xr[j]; }
            }
            for (int j = 0; j < n; j++) { num += diff[j] * diff[j]; den += exact[j] * exact[j]; }
        }
        return den == 0 ? (num == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(num / den);
    }
}

/// <summary>The magnitude selection shared by the N:M pruner and the TASD decomposition.</summary>
internal static class NmSelection
{
    /// <summary>
    /// For every (row block of r rows, group of m columns), moves the n columns of largest score (|w|, or Σ w² over the
    /// block's rows; non-zero columns only; ties to the lower column) from <paramref name="source"/> into
    /// <paramref name="target"/> (left zero elsewhere), zeroing them in source.
    /// </summary>
    public static void MoveLargest(Span<float> source, Span<float> target, int rows, int cols, int n, int m, int rowsPerPattern)
    {
        Span<double> score = stackalloc double[16];
        Span<int> order = stackalloc int[16];
        for (int r0 = 0; r0 < rows; r0 += rowsPerPattern)
        {
            int r1 = Math.Min(rows, r0 + rowsPerPattern);
            for (int c0 = 0; c0 < cols; c0 += m)
            {
                int width = Math.Min(m, cols - c0);
                for (int o = 0; o < width; o++)
                {
                    double s = 0;
                    for (int r = r0; r < r1; r++) { double v = source[r * cols + c0 + o]; s += v * v; }
                    score[o] = s;
                    order[o] = o;
                }
                // Insertion sort by score descending, stable (lower offset first on ties): groups have at most 16.
                for (int i = 1; i < width; i++)
                {
                    int cur = order[i], j = i - 1;
                    while (j >= 0 && score[order[j]] < score[cur]) { order[j + 1] = order[j]; j--; }
                    order[j + 1] = cur;
                }
                for (int i = 0; i < Math.Min(n, width) && score[order[i]] > 0; i++)
                    for (int r = r0; r < r1; r++)
                    {
                        int at = r * cols + c0 + order[i];
                        target[at] = source[at];
                        source[at] = 0f;
                    }
            }
        }
    }
}
