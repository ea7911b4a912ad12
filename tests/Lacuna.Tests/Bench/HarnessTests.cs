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
