using Lacuna.Formats;

namespace Lacuna.Kernels.Tasd;

/// <summary>
/// Chooses a TASD-A series from the measured density d of a ReLU activation (its fraction of non-zeros, e.g. over a
/// calibration batch): the cheapest entry of <see cref="Ladder"/> whose kept capacity Σ N/M is at least d + margin,
/// margin 0.25 by default; none (run dense) when even the last entry falls short.
/// <para>Why a margin: a group of M holds Binomial(M, d) non-zeros, so a series whose capacity only equals d drops
/// entries in every group above the mean. 0.25 is about 1.4 standard deviations of a group's density at M = 8 and
/// d = 0.5 (sqrt(d(1−d)/M) = 0.18). Measured (i.i.d. positions, uniform magnitudes, K = 4096), the dropped fraction of
/// the norm ‖residual‖/‖X‖ with the chosen series: d = 0.1 → 4:8, 0.000; 0.2 → 4:8, 0.029; 0.3 → 2:4+1:8, 0.043;
/// 0.4 → 6:8, 0.008; 0.5 → 6:8, 0.030; 0.6 → 14:16, 0.002; 0.7 → dense. Without the margin (capacity ≥ d only) the
/// choice drops much more: d = 0.2 → 2:8, 0.261; 0.3 → 4:8, 0.073; 0.5 → 4:8, 0.165.</para>
/// Entries of one capacity keep the one with the widest groups (6:8 rather than 2:4+2:8: the same capacity and the
/// same kept norm, one ranking pass instead of two). On a CPU the kernel's work is the kept non-zeros, at most the
/// capacity's share of K, so the cheapest series that covers d is also the fastest.
/// </summary>
public static class TasdActivationSeries
{
    public const double DefaultMargin = 0.25;

    /// <summary>By capacity Σ N/M: 1:8 (0.125), 2:8 (0.25), 4:8 (0.5), 2:4+1:8 (0.625), 6:8 (0.75), 14:16 (0.875).</summary>
    public static IReadOnlyList<TasdSpec> Ladder { get; } =
        new[] { "1:8", "2:8", "4:8", "2:4+1:8", "6:8", "14:16" }.Select(TasdSpec.Parse).ToArray();

    /// <summary>The cheapest ladder series with capacity ≥ density + margin, or null (stay dense).</summary>
    public static TasdSpec? Choose(double density, double margin = DefaultMargin)
    {
        if (!(density >= 0 && density <= 1)) ThrowHelper.OutOfRange(nameof(density), density, $"Activation density must be in [0, 1], got {density}.");
        if (!(margin >= 0 && margin < 1)) ThrowHelper.OutOfRange(nameof(margin), margin, $"Margin must be in [0, 1), got {margin}.");
        return Ladder.FirstOrDefault(s => s.DensityBound >= density + margin - 1e-12);
    }

    /// <summary>The fraction of non-zeros in an activation (NaN counts as non-zero).</summary>
    public static double MeasureDensity(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return 0;
        long nonZeros = 0;
        foreach (float v in x) if (v != 0f) nonZeros++;
        return (double)nonZeros / x.Length;
    }
}
