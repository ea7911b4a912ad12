using System.Diagnostics;

namespace Lacuna.Kernels;

/// <summary>How the engine times kernel candidates against each other (the conv planner, the FC choice, SpMM tuning).</summary>
internal static class KernelTimer
{
    private const int MinRounds = 3, MaxRounds = 9;

    /// <summary>
    /// One warm-up call each, then interleaved rounds (A, B, C, A, B, C, ...); each candidate's time in ms is its
    /// fastest round. Interleaving spreads load changes over all candidates alike, and on a shared machine noise only
    /// ever adds time, so the minimum is the steadiest estimate of what a kernel costs. At least 3 rounds, then more
    /// (up to 9) until a round lowers no candidate's minimum by more than 5 %: on a loaded machine a 2-thread kernel
    /// can lose a whole scheduler slice in every one of three rounds (planning ResNet-50 at 0.9 with another job on
    /// the second core, three 3x3 layers went to a dense kernel timed at 3.1-3.3 ms instead of the sparse one that
    /// runs in 0.65-0.75 ms).
    /// </summary>
    public static double[] FastestRounds(IReadOnlyList<Action> runs)
    {
        foreach (var run in runs) run();
        var best = Enumerable.Repeat(double.PositiveInfinity, runs.Count).ToArray();
        for (int r = 0; r < MaxRounds; r++)
        {
            bool improved = false;
            for (int i = 0; i < runs.Count; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                runs[i]();
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (ms < best[i] * 0.95) improved = true;
                best[i] = Math.Min(best[i], ms);
            }
            if (r + 1 >= MinRounds && !improved) break;
        }
        return best;
    }

    /// <summary>The index of the fastest of <paramref name="runs"/> by <see cref="FastestRounds"/> (the first on ties).</summary>
    public static int Fastest(IReadOnlyList<Action> runs)
    {
        var ms = FastestRounds(runs);
        return Array.IndexOf(ms, ms.Min());
    }
}
