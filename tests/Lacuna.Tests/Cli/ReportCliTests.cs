using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lacuna.Cli.Commands;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Cli;

/// <summary>
/// <c>lacuna report</c> on small result files written here: the page renders in headless Chromium with every expected
/// series drawn, is self-contained, shows missing values as missing, and bad input gets a one-line error.
/// </summary>
[Collection("Console")]
public sealed partial class ReportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var root = new RootCommand { ReportCommand.Build() };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    private static readonly string[] s_studyMethods = ["magnitude", "gs", "nm2:4", "tasder"];

    private string Write(string name, JsonNode doc)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }

    /// <summary>The study: magnitude and gs at three sparsities, 2:4 and TASDER at one each (one-point series).</summary>
    private string Study() => Write("study.json", new JsonArray(new JsonObject
    {
        ["dataset"] = "fashion-mnist", ["model"] = "vgg", ["dense_accuracy"] = 0.92,
        ["rows"] = new JsonArray(
            Row("magnitude", 0.5, 0.918, 1.2), Row("magnitude", 0.8, 0.912, 1.9), Row("magnitude", 0.9, 0.905, 2.6),
            Row("gs", 0.5, 0.916, 1.5), Row("gs", 0.8, 0.909, 2.4), Row("gs", 0.9, 0.899, 3.1),
            Row("nm2:4", 0.5, 0.915, 1.6), Row("tasder", 0.4, 0.913, 1.3, fineTuned: false)),
    }));

    private static JsonObject Row(string method, double sparsity, double accuracy, double speedup, bool fineTuned = true) => new()
    {
        ["method"] = method, ["sparsity"] = sparsity, ["accuracy"] = accuracy, ["speedup_vs_dense"] = speedup, ["fine_tuned"] = fineTuned,
    };

    /// <summary>A <c>lacuna prune --json</c> result; <paramref name="accuracy"/> null as without a calibration set.</summary>
    private string Prune(string name, string method, double sparsity, double? accuracy, double? measured, params (string Name, double? Sparsity, string Kernel)[] layers) =>
        Write(name, new JsonObject
        {
            ["command"] = "prune", ["model"] = "/models/vgg.onnx", ["output"] = "/models/vgg-pruned.onnx", ["method"] = method,
            ["sparsity"] = sparsity, ["threads"] = 2, ["batch"] = 1, ["cpu"] = "Test CPU", ["isa"] = "Avx2Fma",
            ["dense_accuracy"] = 0.92, ["accuracy"] = accuracy, ["relative_output_error"] = null, ["macs_dense"] = 4.0e7, ["macs_kept"] = 1.0e7,
            ["dense_ms"] = measured is null ? null : 2.0, ["sparse_ms"] = measured is null ? null : 2.0 / measured, ["measured_speedup"] = measured,
            ["accelerator"] = new JsonObject { ["dense_time"] = 1.0, ["time"] = 0.4, ["speedup"] = 2.5, ["dense_energy"] = 1.0, ["energy"] = 0.5, ["params"] = new JsonObject() },
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)new JsonObject
            {
                ["name"] = l.Name, ["op"] = "Conv", ["rows"] = 16, ["cols"] = 72, ["pattern"] = method, ["sparsity"] = l.Sparsity, ["kept_norm"] = 0.95,
                ["estimated_speedup"] = 1.8, ["accelerator_speedup"] = 2.0, ["measured_speedup"] = null, ["kernel"] = l.Kernel,
            }).ToArray()),
        });

    private string Train() => Write("train.json", new JsonObject
    {
        ["command"] = "train", ["network"] = "fashion-vgg", ["threads"] = 2, ["seconds"] = 12.5, ["test_accuracy"] = 0.87,
        ["options"] = new JsonObject { ["Network"] = "vgg", ["Epochs"] = 3, ["PruneSparsity"] = 0.8 },
        ["history"] = new JsonArray(
            new JsonObject { ["Epoch"] = 1, ["TrainLoss"] = 0.9, ["TrainAccuracy"] = 0.7, ["TestLoss"] = 0.6, ["TestAccuracy"] = 0.78 },
            new JsonObject { ["Epoch"] = 2, ["TrainLoss"] = 0.5, ["TrainAccuracy"] = 0.83, ["TestLoss"] = 0.45, ["TestAccuracy"] = 0.84 },
            new JsonObject { ["Epoch"] = 3, ["TrainLoss"] = 0.4, ["TrainAccuracy"] = 0.87, ["TestLoss"] = 0.4, ["TestAccuracy"] = 0.87 }),
        ["layers"] = new JsonArray(
            new JsonObject { ["name"] = "conv1_2", ["rows"] = 8, ["cols"] = 72, ["sparsity"] = 0.8, ["pattern"] = "unstructured" },
            new JsonObject { ["name"] = "conv2_1", ["rows"] = 16, ["cols"] = 72, ["sparsity"] = 0.75, ["pattern"] = "block:4x4" }),
    });

    private string BenchModel() => Write("bench-model.json", new JsonObject
    {
        ["bench"] = "model", ["model"] = "resnet50", ["pattern"] = "unstructured", ["sparsity"] = 0.9, ["batch"] = 1, ["threads"] = 2,
        ["tier"] = "Avx512", ["cpu"] = "Bench CPU 9000", ["speedup_vs_onnxruntime"] = 1.87, ["speedup_vs_dense"] = 3.21, ["dense_vs_onnxruntime"] = 0.58,
        ["max_rel_diff_vs_onnxruntime"] = 1e-6,
    });

    /// <summary>Every fixture in one folder, the report written, and the page's text.</summary>
    private (string Html, string Path) WriteReport()
    {
        Study();
        Prune("prune-magnitude.json", "magnitude", 0.9, 0.904, 2.1, ("conv1_2", 0.9, "spmm-csr"), ("conv2_1", 0.9, "direct-sparse"), ("fc2", 0.0, "dense-gemm"));
        Prune("prune-nm.json", "nm:2:4", 0.5, null, null, ("conv1_2", 0.5, "nm-2:4"), ("conv2_1", null, "dense-direct"));
        Train();
        BenchModel();
        string output = System.IO.Path.Combine(_dir, "out", "report.html");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(output)!);
        var (code, stdout, err) = Invoke("report", _dir, "-o", output, "--title", "Report test");
        Assert.True(code == 0, err);
        Assert.Contains("1 study model(s), 2 prune result(s), 1 training run(s), 1 benchmark(s)", stdout);
        return (File.ReadAllText(output), output);
    }

    [Fact]
    public void Report_renders_every_series_in_headless_chromium_and_the_screenshot_shows_it()
    {
        var (_, path) = WriteReport();
        string dom = HeadlessChromium.DumpDom(path);
        var check = RenderCheck().Match(dom);
        Assert.True(check.Success, "no #render-check in the dumped DOM (the page's script did not run)");
        using var doc = JsonDocument.Parse(WebUtility.HtmlDecode(check.Groups[1].Value));
        var charts = doc.RootElement.EnumerateArray().ToList();
        foreach (var chart in charts)
            Assert.True(chart.GetProperty("width").GetDouble() > 100 && chart.GetProperty("height").GetDouble() > 100, $"chart {chart} has no size");

        // Which series each kind of chart must have drawn, with a non-empty box.
        var expected = new (string Kind, string[] Series)[]
        {
            ("accuracy", s_studyMethods), ("speedup", s_studyMethods),                              // the study
            ("accuracy", ["magnitude"]), ("speedup", ["magnitude"]), ("accelerator-speedup", ["magnitude", "nm:2:4"]), // prune results
            ("layers", ["spmm-csr", "direct-sparse", "dense-gemm"]), ("layers", ["nm-2:4"]),         // per-layer kernels
            ("training", ["test", "train"]), ("layers", ["unstructured", "block:4x4"]),               // the training run
        };
        Assert.Equal(expected.Length, charts.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Kind, charts[i].GetProperty("kind").GetString());
            var drawn = charts[i].GetProperty("series").EnumerateArray()
                .ToDictionary(s => s.GetProperty("name").GetString()!, s => (W: s.GetProperty("width").GetDouble(), H: s.GetProperty("height").GetDouble()));
            Assert.Equal(expected[i].Series.Order(), drawn.Keys.Order());
            foreach (string name in expected[i].Series)
                Assert.True(drawn[name].W > 0 && drawn[name].H > 0, $"chart {i + 1} ({expected[i].Kind}): series {name} drew nothing ({drawn[name]})");
        }
        Assert.DoesNotContain("data-rendered=\"no\"", dom);

        string png = Path.Combine(_dir, "report.png");
        HeadlessChromium.Screenshot(path, png, 1000, 800);
        var image = PngImage.Read(png);
        Assert.Equal((1000, 800), (image.Width, image.Height));
        // Not blank: many colours, and the study's first series (magnitude, #1f77b4) painted in the first screen.
        var colours = new HashSet<(byte, byte, byte)>();
        int magnitude = 0;
        for (int y = 0; y < image.Height; y += 2)
            for (int x = 0; x < image.Width; x += 2)
            {
                var c = image[x, y];
                colours.Add(c);
                if (Math.Abs(c.R - 0x1f) < 24 && Math.Abs(c.G - 0x77) < 24 && Math.Abs(c.B - 0xb4) < 24) magnitude++;
            }
        Assert.True(colours.Count > 20, $"the screenshot has {colours.Count} colours: blank or nearly so");
        Assert.True(magnitude > 20, $"only {magnitude} sampled pixels in the magnitude series' colour: the chart did not paint");
    }

    [Fact]
    public void Report_is_self_contained_and_leaves_missing_values_out_of_charts()
    {
        var (html, _) = WriteReport();
        foreach (string external in new[] { "http:", "https:", "src=", "<link", "url(", "@import", "href=" })
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("<!DOCTYPE html>", html);
        // The 2:4 prune has no accuracy: a point in the speed-up chart, none in the accuracy chart, "–" in the table.
        var accuracyCharts = ChartBlocks().Matches(html).Where(m => m.Groups[1].Value == "accuracy").ToList();
        Assert.Equal(2, accuracyCharts.Count);
        Assert.DoesNotContain("data-series=\"nm:2:4\"", accuracyCharts[1].Value);
        Assert.Contains("<td>nm:2:4</td><td>50.0%</td><td>–</td>", html);
        Assert.Contains("<td>magnitude</td><td>90.0%</td><td>90.40%</td><td>92.00%</td><td>–</td><td>10 M (25.0%)</td><td>2.10×</td><td>2.50×</td><td>50.0%</td>", html);
        // A one-point series is a marker without a line; a longer one has its polyline.
        var tasder = SeriesBlock("tasder").Match(html);
        Assert.True(tasder.Success);
        Assert.DoesNotContain("<polyline", tasder.Value);
        Assert.Contains("<path d=", tasder.Value);
        Assert.Contains("<polyline", SeriesBlock("magnitude").Match(html).Value);
        // A layer without a sparsity shows as n/a, not as a zero bar.
        Assert.Contains(">n/a</text>", html);
        // The bench table: the headline ratios with the machine they were measured on.
        Assert.Contains("speedup_vs_onnxruntime <b>1.87×</b>", html);
        Assert.Contains("speedup_vs_dense <b>3.21×</b>", html);
        Assert.Contains("Bench CPU 9000", html);
        Assert.DoesNotContain("max_rel_diff", html);
        // The study table: accuracy, points vs dense, speed-up.
        Assert.Contains("90.50% <span class=\"delta\">-1.50</span><br>2.60×", html);
    }

    [Fact]
    public void Report_rejects_bad_input_with_one_line_naming_the_file()
    {
        string output = Path.Combine(_dir, "report.html");
        string missing = Path.Combine(_dir, "nope.json");
        Expect1(Invoke("report", missing, "-o", output), $"{missing}: no such file or folder");

        string unknown = Write("other.json", new JsonObject { ["hello"] = 1 });
        Expect1(Invoke("report", unknown, "-o", output), $"{unknown}: not a Lacuna result; expected docs/pruning-study.json");

        string broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{\"command\": \"prune\", ");
        Expect1(Invoke("report", broken, "-o", output), $"{broken}: not valid JSON");

        string percent = Write("percent.json", new JsonArray(new JsonObject
        {
            ["model"] = "vgg", ["dense_accuracy"] = 92.1, ["rows"] = new JsonArray(Row("gs", 0.9, 0.9, 2)),
        }));
        Expect1(Invoke("report", percent, "-o", output), "dense_accuracy is 92.1; expected a fraction in [0, 1], not a percent");

        string noMethod = Write("nomethod.json", new JsonObject { ["command"] = "prune", ["sparsity"] = 0.5 });
        Expect1(Invoke("report", noMethod, "-o", output), "prune result has no \"method\"");

        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Expect1(Invoke("report", empty, "-o", output), "folder has no *.json files");
        Assert.False(File.Exists(output));

        // --skip-unknown: the stray file is a warning, the rest is reported.
        var (code, _, err) = Invoke("report", unknown, Train(), "-o", output, "--skip-unknown");
        Assert.True(code == 0, err);
        Assert.Contains($"{unknown}: skipped, not a Lacuna result", err);
        Assert.Contains("fashion-vgg", File.ReadAllText(output));
        var (onlyUnknown, _, err2) = Invoke("report", unknown, "-o", output, "--skip-unknown");
        Assert.Equal(1, onlyUnknown);
        Assert.Contains("no results to report", err2);
    }

    [Fact]
    public void Report_replaces_the_output_atomically_and_leaves_no_temporary_file()
    {
        string outDir = Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName;
        string output = Path.Combine(outDir, "report.html");
        File.WriteAllText(output, "old");
        string bench = BenchModel();
        var (code, _, err) = Invoke("report", bench, "-o", output);
        Assert.True(code == 0, err);
        Assert.Contains("speedup_vs_dense", File.ReadAllText(output));
        Assert.Equal([output], Directory.GetFiles(outDir));
        // A failed run leaves the previous page as it was.
        Assert.Equal(1, Invoke("report", Path.Combine(_dir, "nope.json"), "-o", output).Code);
        Assert.Contains("speedup_vs_dense", File.ReadAllText(output));
    }

    private static void Expect1((int Code, string Out, string Err) r, string message)
    {
        Assert.Equal(1, r.Code);
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    [GeneratedRegex("<pre id=\"render-check\"[^>]*>(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex RenderCheck();

    [GeneratedRegex("<svg [^>]*data-chart=\"([^\"]+)\".*?</svg>", RegexOptions.Singleline)]
    private static partial Regex ChartBlocks();

    private static Regex SeriesBlock(string name) => new($"<g class=\"series\" data-series=\"{Regex.Escape(name)}\">.*?</g>", RegexOptions.Singleline);
}
