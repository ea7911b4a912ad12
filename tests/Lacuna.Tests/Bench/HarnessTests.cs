using System.Xml.Linq;
using Lacuna.Bench.Harness;

namespace Lacuna.Tests.Bench;

public class HarnessTests
{
    [Fact]
    public void Svg_chart_is_well_formed_with_one_marker_per_point_and_the_dense_line()
    {
        var svg = SvgChart.Line("a < b & c", "sparsity", "speedup", new[] { (0.5, 0.8), (0.9, 3.0), (0.98, 10.5) });
        var doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(3, doc.Descendants(ns + "circle").Count());
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "dense = 1");
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "a < b & c");
    }

    [Fact]
    public void Medians_and_geometric_means()
    {
        Assert.Equal(2.0, Measure.Median(new[] { 1.0, 2.0, 9.0 }));
        Assert.Equal(2.5, Measure.Median(new[] { 1.0, 2.0, 3.0, 9.0 }));
        Assert.Equal(4.0, Measure.GeometricMean(new[] { 2.0, 8.0 }), 12);
        int a = 0, b = 0;
        var t = Measure.Interleaved(1, 3, new (string, Action)[] { ("a", () => a++), ("b", () => b++) }, minSampleMs: 0.01);
        Assert.Equal(new[] { "a", "b" }, t.Select(x => x.Name));
        Assert.All(t, x => Assert.True(x.MinMs <= x.MedianMs && x.MedianMs <= x.MaxMs));
        Assert.True(a >= 4 && b >= 4);
    }
}

public class ResidentMemoryTests
{
    [Fact]
    public void Status_lines_give_rss_and_peak_in_megabytes_and_this_process_has_both()
    {
        var s = ResidentMemory.Parse(["Name:\tx", "VmHWM:\t  204800 kB", "VmRSS:\t  102400 kB", "Threads: 3"]);
        Assert.Equal((100.0, 200.0), (s.RssMb, s.PeakMb));
        Assert.True(double.IsNaN(ResidentMemory.Parse([]).RssMb));
        var now = ResidentMemory.ReadSteady();
        Assert.InRange(now.RssMb, 1, now.PeakMb);
    }

    [Fact]
    public void The_breakdown_sees_the_managed_heap_and_the_engines_native_buffers()
    {
        using var buffer = new Lacuna.Tensors.NativeArray<float>(16 << 20 >> 2, clear: true); // 16 MB, touched
        var pinned = GC.AllocateArray<float>(4 << 20 >> 2, pinned: true);                  // 4 MB on the pinned-object heap
        ResidentMemory.ReadSteady();
        var b = ResidentMemory.ReadBreakdown();
        Assert.True(b.NativeBuffersMb >= 15.9, $"native {b.NativeBuffersMb} MB");
        Assert.True(b.ManagedHeapMb >= b.PinnedHeapMb && b.PinnedHeapMb >= 3.9, $"heap {b.ManagedHeapMb} MB, pinned {b.PinnedHeapMb} MB");
        Assert.InRange(b.ManagedFreeMb, 0, b.ManagedHeapMb);
        Assert.InRange(b.PinnedFreeMb, 0, b.PinnedHeapMb);
        if (OperatingSystem.IsLinux()) Assert.True(b.RssAnonMb >= 16 && b.RssFileMb > 0, $"anonymous {b.RssAnonMb} MB, file {b.RssFileMb} MB");
        GC.KeepAlive(pinned);
    }
}

public class ThreadCpuTests
{
    [Fact]
    public void A_stat_line_gives_its_name_and_user_plus_system_seconds_even_with_spaces_and_parentheses_in_the_name()
    {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        const string line = "4242 (.NET TP (x) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 9 9 20 0 12 0";
        Assert.Equal(".NET TP (x) 1", ThreadCpu.Name(line));
        Assert.Equal(2.87, ThreadCpu.Seconds(line), 10);
        Assert.True(double.IsNaN(ThreadCpu.Seconds("4242 (short) S 1 2")));
    }

    [Fact]
    public void This_process_has_used_cpu_and_its_named_threads_no_more_than_the_whole()
    {
        if (!File.Exists("/proc/self/stat")) { Assert.True(double.IsNaN(ThreadCpu.Read("x").TotalSeconds)); return; }
        double sum = 0;
        for (int i = 0; i < 20_000_000; i++) sum += Math.Sqrt(i); // some CPU of our own
        var all = ThreadCpu.Read("");
        Assert.True(sum > 0 && all.TotalSeconds > 0, $"total {all.TotalSeconds}");
        Assert.True(all.NamedSeconds <= all.TotalSeconds + 0.05, $"named {all.NamedSeconds} over total {all.TotalSeconds}");
        Assert.Equal(0, ThreadCpu.Read("no-thread-is-named-this").NamedSeconds);
    }
}
