namespace Lacuna.Server;

/// <summary>
/// Which merged requests a batch keeps. A batch runs at a planned size, padded with zero rows up to it, and padding is
/// wasted work: 5 one-row requests padded to 8 cost 8 rows. Trimming the batch to a planned size it fills exactly (4)
/// puts the rest back at the front of the queue, where under load they merge with the next arrivals. It is chosen
/// only when it runs fewer milliseconds per row than padding, judged by the warm-up's run time at each planned size,
/// because small batches run fewer rows per second and 3 rows padded to 4 beat 2 now and 1 later.
/// </summary>
public static class BatchSizing
{
    /// <param name="cumulativeRows">Rows of the first 1, 2, ... merged requests.</param>
    /// <param name="planned">The planned batch sizes, ascending (the last at least the total rows).</param>
    /// <param name="runMs">Run time at each planned size; a size without one is never trimmed to.</param>
    /// <returns>How many of the requests to keep (at least 1).</returns>
    public static int Take(IReadOnlyList<int> cumulativeRows, IReadOnlyList<int> planned, IReadOnlyDictionary<int, double> runMs)
    {
        int n = cumulativeRows.Count;
        if (n <= 1) return n;
        int rows = cumulativeRows[n - 1];
        int padded = -1;
        foreach (int b in planned) if (b >= rows) { padded = b; break; }
        if (padded == rows || padded < 0 || !runMs.TryGetValue(padded, out double paddedMs)) return n;
        double best = paddedMs / rows;
        int take = n;
        for (int k = n - 1; k >= 1; k--)
        {
            int r = cumulativeRows[k - 1];
            if (runMs.TryGetValue(r, out double ms) && ms / r < best)
            {
                best = ms / r;
                take = k;
            }
        }
        return take;
    }
}
