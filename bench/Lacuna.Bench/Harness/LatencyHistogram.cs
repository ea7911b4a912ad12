namespace Lacuna.Bench.Harness;

/// <summary>
/// Latencies recorded in constant memory: log-spaced buckets 1 % wide from 1 µs to about 20 minutes (2,100 counters),
/// so a load test of millions of requests does not grow the process it measures (a list of every latency did: 8 bytes
/// per request plus list doubling, about 16 MB over a one-million-request soak, in the server's own process).
/// A quantile is reported as its bucket's geometric midpoint, within 0.5 % of the exact order statistic.
/// Thread-safe to record into; read after recording stops.
/// </summary>
public sealed class LatencyHistogram
{
    private const double MinMs = 1e-3, Growth = 1.01;
    private static readonly double LogGrowth = Math.Log(Growth);
    private readonly long[] _counts = new long[2100];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(double ms)
    {
        if (!(ms >= 0)) throw new ArgumentOutOfRangeException(nameof(ms), ms, "a latency must be a non-negative number of milliseconds.");
        int b = ms <= MinMs ? 0 : Math.Min(_counts.Length - 1, 1 + (int)(Math.Log(ms / MinMs) / LogGrowth));
        Interlocked.Increment(ref _counts[b]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The q-quantile (0 &lt; q ≤ 1) as the nearest-rank order statistic's bucket midpoint; NaN when empty.</summary>
    public double Quantile(double q)
    {
        if (!(q > 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in (0, 1].");
        long n = Count;
        if (n == 0) return double.NaN;
        long rank = Math.Max(1, (long)Math.Ceiling(q * n)), seen = 0;
        for (int b = 0; b < _counts.Length; b++)
        {
            seen += Interlocked.Read(ref _counts[b]);
            if (seen >= rank) return b == 0 ? MinMs : MinMs * Math.Pow(Growth, b - 0.5);
        }
        return MinMs * Math.Pow(Growth, _counts.Length - 1);
    }
}
