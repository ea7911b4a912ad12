using System.Diagnostics;

namespace Lacuna.Bench.Harness;

/// <summary>
/// Side-by-side timing: every contender is warmed up, then the contenders run interleaved
/// (A, B, C, A, B, C, ...) so machine noise hits them alike, and each reports its median.
/// Ratios are only ever taken between contenders measured in the same call.
/// </summary>
public static class Measure
{
    public sealed record Timing(string Name, double MedianMs, double MinMs, double MaxMs, int Repeats);

    /// <summary>
    /// Runs each action <paramref name="warmup"/> times, then <paramref name="repeats"/> interleaved rounds.
    /// A round that is very short is repeated internally so a sample lasts at least
    /// <paramref name="minSampleMs"/> (timer resolution and call overhead stop mattering).
    /// </summary>
    public static Timing[] Interleaved(int warmup, int repeats, IReadOnlyList<(string Name, Action Run)> contenders, double minSampleMs = 2.0)
    {
        ArgumentNullException.ThrowIfNull(contenders);
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one repeat is needed.");
        if (warmup < 0) throw new ArgumentOutOfRangeException(nameof(warmup), warmup, "Warm-up count must be non-negative.");
        int n = contenders.Count;
        var inner = new int[n];
        for (int c = 0; c < n; c++)
        {
            for (int w = 0; w < Math.Max(1, warmup); w++) contenders[c].Run();
            // Calibrate: how many calls make one sample last minSampleMs.
            double once = TimeOnce(contenders[c].Run, 1);
            inner[c] = once >= minSampleMs ? 1 : (int)Math.Min(10_000, Math.Ceiling(minSampleMs / Math.Max(once, 1e-4)));
        }
        var samples = new double[n][];
        for (int c = 0; c < n; c++) samples[c] = new double[repeats];
        for (int r = 0; r < repeats; r++)
            for (int c = 0; c < n; c++)
                samples[c][r] = TimeOnce(contenders[c].Run, inner[c]);
        var result = new Timing[n];
        for (int c = 0; c < n; c++)
        {
            var s = samples[c];
            Array.Sort(s);
            result[c] = new Timing(contenders[c].Name, Median(s), s[0], s[^1], repeats);
        }
        return result;
    }

    private static double TimeOnce(Action run, int inner)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < inner; i++) run();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / inner;
    }

    public static double Median(double[] sorted) =>
        sorted.Length == 0 ? double.NaN
        : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
        : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);

    public static double GeometricMean(IEnumerable<double> values)
    {
        double logSum = 0; int count = 0;
        foreach (double v in values) { logSum += Math.Log(v); count++; }
        return count == 0 ? double.NaN : Math.Exp(logSum / count);
    }

    /// <summary>GFLOP/s for <paramref name="flops"/> floating-point operations in <paramref name="ms"/> milliseconds.</summary>
    public static double Gflops(double flops, double ms) => flops / (ms * 1e6);
}
