namespace Lacuna.Bench.Harness;

/// <summary>
/// This process's resident memory from <c>/proc/self/status</c>: <c>VmRSS</c> now and <c>VmHWM</c>, the peak since
/// the process started. A peak belongs to a whole process, so comparisons of engines run each in its own process
/// (<c>bench model --memory</c>). NaN where the file does not exist (not Linux).
/// </summary>
public static class ResidentMemory
{
    public readonly record struct Sample(double RssMb, double PeakMb);

    public static Sample Read() => Parse(File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : []);

    /// <summary>After a full, compacting collection: what the process keeps, not garbage it has not yet returned.</summary>
    public static Sample ReadSteady()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return Read();
    }

    public static Sample Parse(IEnumerable<string> statusLines)
    {
        double rss = double.NaN, peak = double.NaN;
        foreach (string line in statusLines)
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line) / 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line) / 1024;
        }
        return new Sample(rss, peak);
    }

    private static double Kb(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries); // "VmRSS:   123456 kB"
        return parts.Length >= 2 && double.TryParse(parts[1], out double kb) ? kb : double.NaN;
    }
}
