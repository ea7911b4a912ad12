namespace Lacuna.Bench.Harness;

/// <summary>
/// CPU time this process has used, in total and on the threads whose name starts with a prefix, from
/// <c>/proc/self/stat</c> and <c>/proc/self/task/*/stat</c> (user + system, clock ticks of 10 ms). Unlike wall-clock
/// throughput, CPU time per request stays meaningful on a machine shared with other work: <c>bench serve</c> splits it
/// into the engine's threads and everything else (HTTP, JSON, copies, the load generator, the GC). NaN where the files
/// do not exist (not Linux).
/// </summary>
public static class ThreadCpu
{
    /// <summary>Seconds of CPU: the whole process (threads that exited included) and the threads named with the prefix.</summary>
    public readonly record struct Sample(double TotalSeconds, double NamedSeconds);

    /// <summary>The kernel's clock tick (USER_HZ), 100 on every Linux ABI .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    public static Sample Read(string namePrefix)
    {
        if (!File.Exists("/proc/self/stat")) return new Sample(double.NaN, double.NaN);
        double named = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                if (Name(stat).StartsWith(namePrefix, StringComparison.Ordinal)) named += Seconds(stat);
            }
            catch (IOException) { } // the thread exited between the listing and the read
        }
        // Read after the threads: the total then covers every thread's figure read before it.
        return new Sample(Seconds(File.ReadAllText("/proc/self/stat")), named);
    }

    /// <summary>The thread's name: between the first '(' and the last ')' (a name may hold spaces and parentheses).</summary>
    public static string Name(string statLine)
    {
        int open = statLine.IndexOf('('), close = statLine.LastIndexOf(')');
        return open >= 0 && close > open ? statLine[(open + 1)..close] : "";
    }

    /// <summary>utime + stime (fields 14 and 15, counted from the pid) in seconds.</summary>
    public static double Seconds(string statLine)
    {
        int close = statLine.LastIndexOf(')');
        if (close < 0) return double.NaN;
        // After ')' come field 3 (state) onwards: utime is field 14, the 12th of these; stime the 13th.
        var fields = statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13) return double.NaN;
        double ticks = double.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }
}
