using System.Numerics;
using Lacuna.Formats;

namespace Lacuna.Kernels.Tasd;

/// <summary>
/// One activation X [K × n] decomposed by a TASD series per column (TASD-A): column j's kept entries, Counts[j] of
/// them at K indices Rows[j·Capacity ..] (increasing) with their values Values[j·Capacity ..]. Every kept entry keeps
/// its value whole, so Σ terms is X with the dropped entries zeroed, and the residual is exactly those entries.
/// </summary>
public sealed class TasdActivationColumns
{
    internal TasdActivationColumns(int k, int n, int capacity, int[] counts, int[] rows, float[] values, double total, double dropped)
    {
        K = k; N = n; Capacity = capacity; Counts = counts; Rows = rows; Values = values;
        ResidualNorm = total == 0 ? 0 : Math.Sqrt(dropped / total);
    }

    public int K { get; }
    public int N { get; }

    /// <summary>The most entries one column can keep: Σ over terms of its slots along K.</summary>
    public int Capacity { get; }
    public int[] Counts { get; }
    public int[] Rows { get; }
    public float[] Values { get; }

    /// <summary>‖X − Σ terms‖_F / ‖X‖_F: the dropped fraction of the activation's norm (0 for a zero X).</summary>
    public double ResidualNorm { get; }

    /// <summary>‖Σ terms‖_F / ‖X‖_F = sqrt(1 − ResidualNorm²) (the split is disjoint).</summary>
    public double KeptNormFraction => Math.Sqrt(Math.Max(0, 1 - ResidualNorm * ResidualNorm));

    /// <summary>Σ terms as a dense X [K × n].</summary>
    public float[] ToDense()
    {
        var x = new float[(long)K * N];
        for (int j = 0; j < N; j++)
            for (int e = 0; e < Counts[j]; e++) x[(long)Rows[j * Capacity + e] * N + j] = Values[j * Capacity + e];
        return x;
    }
}

/// <summary>
/// TASD-A (Jeong et al., arXiv 2403.07953, activation side): a ReLU output X [K × n] feeding a 1x1 conv or linear
/// layer is decomposed at run time, per column j (one pixel or token), into N:M terms along K with the greedy rule of
/// <see cref="TasdSeries"/>: term 1 keeps the N1 largest magnitudes of every M1-group of X[:, j] (non-zeros only, ties
/// to the lower K index), term 2 the same on what is left, and so on. Then W·X ≈ W·(Σ terms) with W dense.
/// A column that already satisfies the series (every group of term 1 holds at most N1 non-zeros, or what term 1 leaves
/// fits term 2, ...) is kept whole: the decomposition is exact. NaN or infinity in X is an <see cref="ArgumentException"/>
/// naming the first such entry: magnitudes cannot rank it.
/// </summary>
public static partial class TasdActivation
{
    /// <summary>Decomposes X [K × n] (row-major) by <paramref name="spec"/> (terms without shared rows).</summary>
    public static unsafe TasdActivationColumns Decompose(ReadOnlySpan<float> x, int k, int n, TasdSpec spec)
    {
        var terms = CheckSpec(spec);
        ThrowHelper.IfNegative(k, nameof(k));
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)k * n, nameof(x), $"X [{k}×{n}]");
        int cap = Capacity(terms, k);
        var counts = new int[n];
        var rows = new int[n * cap + 1]; // one spare: the branch-free append may write one past the last column
        var values = new float[n * cap + 1];
        var sums = default(DecomposeSums);
        var scratch = new float[BlockScratch(k) + 1];
        fixed (float* px = x, ps = scratch, pv = values)
        fixed (int* pi = rows, pn = counts)
            for (int j0 = 0; j0 < n; j0 += BlockColumns)
                DecomposeBlock(px, k, n, j0, Math.Min(BlockColumns, n - j0), terms, cap, ps, pi + j0 * cap, pv + j0 * cap, pn + j0, ref sums);
        if (!double.IsFinite(sums.Total)) ThrowNonFinite(x, k, n);
        return new TasdActivationColumns(k, n, cap, counts, rows, values, sums.Total, sums.Dropped);
    }

    /// <summary>The series' terms; a spec with shared rows (":rR") or no terms is an <see cref="ArgumentException"/>.</summary>
    public static (int N, int M)[] CheckSpec(TasdSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Terms.Count == 0) ThrowHelper.Argument(nameof(spec), "A TASD-A series needs at least one term, e.g. 2:4+1:8.");
        if (spec.RowsPerPattern != 1)
            ThrowHelper.Argument(nameof(spec), $"TASD-A series '{spec}': shared rows (:r{spec.RowsPerPattern}) apply to weights, not to activation columns.");
        return spec.Terms.ToArray();
    }

    /// <summary>Entries one column of K can keep: per term, N per full group plus min(N, the partial group's width).</summary>
    internal static int Capacity((int N, int M)[] terms, int k) =>
        terms.Sum(t => k / t.M * t.N + Math.Min(t.N, k % t.M));

    /// <summary>Throws naming the first non-finite entry of X (the decomposition found its sum of squares non-finite).</summary>
    internal static void ThrowNonFinite(ReadOnlySpan<float> x, int k, int n)
    {
        for (int i = 0; i < (long)k * n; i++)
            if (!float.IsFinite(x[i]))
                ThrowHelper.Argument(nameof(x), $"TASD-A: activation X[{i / n}, {i % n}] is {x[i]}; magnitudes cannot rank NaN or infinity.");
        ThrowHelper.Argument(nameof(x), "TASD-A: the activation's squared norm overflows a double.");
    }

    /// <summary>
    /// Decomposes one contiguous column x[0..k): writes its kept entries in increasing K order to rows/values and
    /// returns how many; adds to <paramref name="sums"/>.
    /// <paramref name="residual"/> is k floats of scratch. An entry is kept exactly when the selection zeroed it in the
    /// residual copy while the column holds a non-zero there.
    /// </summary>
    internal static unsafe int DecomposeColumn(float* x, int k, (int N, int M)[] terms, float* residual, int* rows, float* values,
        ref DecomposeSums sums)
    {
        new ReadOnlySpan<float>(x, k).CopyTo(new Span<float>(residual, k));
        foreach (var (n, m) in terms)
            for (int g0 = 0; g0 < k; g0 += m)
            {
                float* g = residual + g0;
                int width = Math.Min(m, k - g0), inGroup = 0;
                for (int i = 0; i < width; i++) inGroup += g[i] != 0f ? 1 : 0;
                if (inGroup <= n)
                {
                    // ReLU outputs are sparse: most groups fit whole, with no ranking.
                    for (int i = 0; i < width; i++) g[i] = 0f;
                    continue;
                }
                for (int s = 0; s < n; s++)
                {
                    int best = -1;
                    float bestAbs = 0f;
                    for (int i = 0; i < width; i++)
                    {
                        float a = MathF.Abs(g[i]);
                        if (a > bestAbs) { bestAbs = a; best = i; }
                    }
                    if (best < 0) break; // only NaN left: the caller reports it
                    g[best] = 0f;
                }
            }
        int count = 0, present = 0;
        double sum = 0, lost = 0;
        for (int i = 0; i < k; i++)
        {
            float v = x[i];
            if (v == 0f) continue;
            sum += (double)v * v;
            present++;
            float r = residual[i];
            if (r == 0f) { rows[count] = i; values[count] = v; count++; }
            else lost += (double)r * r;
        }
        sums.Total += sum;
        sums.Dropped += lost;
        sums.NonZeros += present;
        sums.Kept += count;
        return count;
    }
}
