using System.Globalization;
using System.Text;

namespace Lacuna.Server;

/// <summary>A Prometheus histogram: cumulative bucket counts, sum and count (thread-safe, lock per observation).</summary>
public sealed class Histogram(double[] upperBounds)
{
    private readonly long[] _counts = new long[upperBounds.Length + 1];
    private double _sum;
    private long _count;

    public static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    public static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128];

    public void Observe(double value)
    {
        int i = 0;
        while (i < upperBounds.Length && value > upperBounds[i]) i++;
        lock (_counts)
        {
            _counts[i]++;
            _sum += value;
            _count++;
        }
    }

    public long Count { get { lock (_counts) return _count; } }
    public double Sum { get { lock (_counts) return _sum; } }

    /// <summary>Appends the <c>_bucket</c>, <c>_sum</c> and <c>_count</c> lines with <paramref name="labels"/> (e.g. <c>model="x"</c>).</summary>
    public void Write(StringBuilder sb, string name, string labels)
    {
        long[] counts;
        double sum;
        long count;
        lock (_counts) { counts = (long[])_counts.Clone(); sum = _sum; count = _count; }
        string sep = labels.Length > 0 ? labels + "," : "";
        long cumulative = 0;
        for (int i = 0; i < upperBounds.Length; i++)
        {
            cumulative += counts[i];
            sb.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{sep}le=\"{upperBounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{sep}le=\"+Inf\"}} {count}\n");
        string braces = labels.Length > 0 ? "{" + labels + "}" : "";
        sb.Append(CultureInfo.InvariantCulture, $"{name}_sum{braces} {sum.ToString("R", CultureInfo.InvariantCulture)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"{name}_count{braces} {count}\n");
    }
}
