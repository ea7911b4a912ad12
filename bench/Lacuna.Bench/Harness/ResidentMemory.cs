namespace Lacuna.Bench.Harness;

/// <summary>
/// This process's resident memory from <c>/proc/self/status</c>: <c>VmRSS</c> now and <c>VmHWM</c>, the peak since
/// the process started. A peak belongs to a whole process, so comparisons of engines run each in its own process
/// (<c>bench model --memory</c>). NaN where the file does not exist (not Linux).
/// </summary>
public static class ResidentMemory
{
    public readonly record struct Sample(double RssMb, double PeakMb);

    /// <summary>
    /// Where resident memory goes: anonymous pages (heaps, native allocations) and file-backed pages (the runtime's
    /// and the assemblies' code) from <c>/proc/self/status</c>; the GC's heap, its free blocks and committed bytes, and
    /// the pinned-object heap's share, as of the last collection; the engine's native buffers (<c>NativeBuffer</c>).
    /// </summary>
    public readonly record struct Breakdown(double RssAnonMb, double RssFileMb, double ManagedHeapMb, double ManagedFreeMb,
        double ManagedCommittedMb, double PinnedHeapMb, double PinnedFreeMb, double NativeBuffersMb);

    public static Sample Read() => Parse(StatusLines());

    /// <summary>After a full, compacting collection: what the process keeps, not garbage it has not yet returned.</summary>
    public static Sample ReadSteady()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return Read();
    }

    /// <summary>The breakdown now (call after <see cref="ReadSteady"/>: the GC's figures are those of its last collection).</summary>
    public static Breakdown ReadBreakdown()
    {
        double anon = double.NaN, file = double.NaN;
        foreach (string line in StatusLines())
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line) / 1024;
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kb(line) / 1024;
        }
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        const double Mb = 1 << 20;
        var poh = gc.GenerationInfo.Length > 4 ? gc.GenerationInfo[4] : default; // gen0, gen1, gen2, LOH, POH
        return new Breakdown(anon, file, gc.HeapSizeBytes / Mb, gc.FragmentedBytes / Mb, gc.TotalCommittedBytes / Mb,
            poh.SizeAfterBytes / Mb, poh.FragmentationAfterBytes / Mb, Lacuna.Tensors.NativeMemoryUse.LiveBytes / Mb);
    }

    private static string[] StatusLines() => File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : [];

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
        var parts = line.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries); // "VmRSS:   123456 kB"
        return parts.Length >= 2 && double.TryParse(parts[1], out double kb) ? kb : double.NaN;
    }
}
