using System.Globalization;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Nm;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Pruning;

/// <summary>
/// N:M along K ("nm:2:4"): every group of M consecutive columns of a row keeps its N largest magnitudes (a last partial
/// group keeps at most N). "nm:2:4:r8": 8 consecutive rows share one pattern, each group keeping the N columns of
/// largest Σ w² over those rows, which lets the kernel feed 8 rows from each loaded X vector.
/// </summary>
public sealed class NmPattern : SparsityPattern
{
    public NmPattern(int n, int m, int rowsPerPattern = 1)
    {
        NmMatrix.CheckShape(n, m, rowsPerPattern);
        N = n; M = m; RowsPerPattern = rowsPerPattern;
    }

    public int N { get; }
    public int M { get; }
    public int RowsPerPattern { get; }

    public override string Name => $"nm:{N}:{M}" + (RowsPerPattern == 1 ? "" : $":r{RowsPerPattern}");
    public override bool SparsityIsFree => false;
    public override double ResultingSparsity(double requested) => 1.0 - (double)N / M;

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        var kept = new float[rows * cols];
        NmSelection.MoveLargest(weights[..(rows * cols)], kept, rows, cols, N, M, RowsPerPattern);
        kept.CopyTo(weights);
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols) =>
        NmMatrix.Violation(weights, rows, cols, N, M, RowsPerPattern);

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation) =>
        Violation(weights, rows, cols) is null ? NmSpmmPlan.Create(NmMatrix.FromDense(weights, rows, cols, N, M, RowsPerPattern), bias, activation) : null;

    /// <summary>"nm:N:M" or "nm:N:M:rR"; other texts are not this family (null).</summary>
    internal static SparsityPattern? TryParse(string text)
    {
        if (!text.StartsWith("nm:", StringComparison.Ordinal)) return null;
        var parts = text[3..].Split(':');
        int r = 1;
        bool ok = parts.Length is 2 or 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m)
            && (parts.Length == 2 || parts[2].StartsWith('r') && int.TryParse(parts[2].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out r));
        if (!ok) throw new ArgumentException($"N:M pattern '{text}' must be nm:N:M or nm:N:M:rR (e.g. nm:2:4, nm:2:4:r8).", nameof(text));
        n = int.Parse(parts[0], CultureInfo.InvariantCulture);
        m = int.Parse(parts[1], CultureInfo.InvariantCulture);
        if (m < 2 || m > 16 || n < 1 || n >= m) throw new ArgumentException($"N:M pattern '{text}': need 1 <= N < M <= 16.", nameof(text));
        if (r < 1 || r > 64) throw new ArgumentException($"N:M pattern '{text}': rows per pattern must be in 1..64.", nameof(text));
        return new NmPattern(n, m, r);
    }
}

/// <summary>
/// A TASD series ("2:4+1:8", or "2:4+1:8:r8" with shared rows): pruning keeps W = Σ terms of the greedy decomposition
/// (<see cref="TasdSeries"/>), and the plan runs every term in one pass over the output.
/// </summary>
public sealed class TasdPattern : SparsityPattern
{
    public TasdPattern(TasdSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
    }

    public TasdSpec Spec { get; }
    public override string Name => Spec.ToString();
    public override bool SparsityIsFree => false;

    /// <summary>1 − Σ N/M: the series keeps at most that many entries (fewer where the residual runs out of non-zeros).</summary>
    public override double ResultingSparsity(double requested) => Math.Max(0, 1.0 - Spec.DensityBound);

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        TasdSeries.Decompose(weights, rows, cols, Spec).Approximation().CopyTo(weights);
    }

    /// <summary>W satisfies the series when decomposing it by the spec leaves nothing behind.</summary>
    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols)
    {
        var series = TasdSeries.Decompose(weights, rows, cols, Spec);
        for (int i = 0; i < series.Residual.Length; i++)
            if (series.Residual[i] != 0f)
                return $"row {i / cols}, column {i % cols} is left over after the {Spec} series (residual {series.ResidualNorm:G3} of the norm).";
        return null;
    }

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation)
    {
        var series = TasdSeries.Decompose(weights, rows, cols, Spec);
        return series.ResidualNorm == 0 && Array.TrueForAll(series.Residual, v => v == 0f) ? NmSpmmPlan.Create(series, bias, activation) : null;
    }

    /// <summary>A '+'-joined list of N:M terms (a single term is spelled nm:N:M instead); other texts are not this family.</summary>
    internal static SparsityPattern? TryParse(string text) =>
        text.Contains('+') && char.IsAsciiDigit(text[0]) ? new TasdPattern(TasdSpec.Parse(text)) : null;
}
