using System.CommandLine;
using System.Text.Json;
using Lacuna.Cli.Commands;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Cli;

/// <summary><c>--pattern</c> on zoo export, demo and bench model (<c>--patterns</c>), and the pattern in inspect / run JSON.</summary>
[Collection("Console")]
public sealed class PatternCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-pattern-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(Command command, params string[] args) => CliRunner.Invoke(command, args);

    private static void OneLineError(string err, string expected)
    {
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Zoo_export_prunes_to_a_pattern_and_rejects_an_unknown_one()
    {
        string model = Path.Combine(_dir, "mini.onnx");
        var ok = Invoke(ZooCommand.Build(), "zoo", "export", "resnet-mini", "-o", model, "--sparsity", "0.8", "--pattern", "unstructured");
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Contains("pattern unstructured", ok.Out);
        Assert.True(File.Exists(model));

        var bad = Invoke(ZooCommand.Build(), "zoo", "export", "resnet-mini", "-o", model, "--pattern", "diagonal:3");
        Assert.Equal(2, bad.Code);
        OneLineError(bad.Err, "unknown sparsity pattern 'diagonal:3'");
        Assert.DoesNotContain("Parameter", bad.Err);
    }

    [Fact]
    public void Sparsity_is_required_by_free_structured_patterns_and_rejected_by_fixed_ones()
    {
        var fixedPattern = new EveryOtherColumnPattern();
        var freePattern = new EveryOtherColumnPattern("test-free", free: true);
        Assert.Null(CommonOptions.CheckPatternSparsity(UnstructuredPattern.Instance, 0));   // dense, as before
        Assert.Null(CommonOptions.CheckPatternSparsity(UnstructuredPattern.Instance, 0.9));
        Assert.Null(CommonOptions.CheckPatternSparsity(fixedPattern, 0));
        var rejected = CommonOptions.CheckPatternSparsity(fixedPattern, 0.9);
        Assert.StartsWith("--pattern test-evens fixes the sparsity at 50", rejected);
        Assert.EndsWith("drop --sparsity.", rejected);
        Assert.Null(CommonOptions.CheckPatternSparsity(freePattern, 0.9));
        Assert.Equal("--pattern test-free needs --sparsity S, the fraction of zeros in (0, 1).", CommonOptions.CheckPatternSparsity(freePattern, 0));
        // The session options: unstructured keeps detection; a structured pattern restricts (and may force) the planner.
        var options = new Lacuna.Graph.PassOptions();
        Assert.Same(Lacuna.Graph.PatternPlanning.Detect, CommonOptions.WithPattern(options, UnstructuredPattern.Instance).Patterns);
        var restricted = CommonOptions.WithPattern(options, fixedPattern, force: true).Patterns;
        Assert.Equal([fixedPattern], restricted.Patterns!);
        Assert.True(restricted.Force);
    }

    [Fact]
    public void Demo_takes_a_pattern_and_rejects_an_unknown_one()
    {
        var (code, output, err) = Invoke(DemoCommand.Build(), "demo", "--model", "resnet-mini", "--pattern", "unstructured", "--sparsity", "0.8",
            "--repeat", "1", "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("speedup", output);
        var bad = Invoke(DemoCommand.Build(), "demo", "--model", "resnet-mini", "--pattern", "nm:4");
        Assert.Equal(2, bad.Code);
        OneLineError(bad.Err, "'nm:4'");
    }

    [Fact]
    public void Bench_model_prints_one_row_per_pattern_and_checks_its_options()
    {
        Assert.True(Lacuna.Bench.Baselines.OnnxRuntime.IsAvailable, Lacuna.Bench.Baselines.OnnxRuntime.InstallHint);
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--sparsity", "0.9",
            "--patterns", "unstructured", "--threads", "1", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("model-patterns", doc.RootElement.GetProperty("bench").GetString());
        var row = Assert.Single(doc.RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal("unstructured", row.GetProperty("pattern").GetString());
        Assert.InRange(row.GetProperty("sparsity").GetDouble(), 0.8, 0.95);
        foreach (var f in new[] { "lacuna_sparse_ms", "lacuna_dense_ms", "onnxruntime_ms", "speedup_vs_onnxruntime", "speedup_vs_dense" })
            Assert.True(row.GetProperty(f).GetDouble() > 0, f);
        Assert.Equal(JsonValueKind.Object, row.GetProperty("patterns_chosen").ValueKind);

        var table = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--sparsity", "0.9",
            "--patterns", "unstructured", "--threads", "1", "--repeat", "1", "--warmup", "0");
        Assert.True(table.Code == 0, table.Err);
        Assert.Contains("fastest sparse plan: unstructured", table.Out);

        string file = Path.Combine(_dir, "m.onnx");
        Lacuna.Onnx.Zoo.ZooBuilder.Build("resnet-mini", seed: 3).Model.Save(file);
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--zoo", "resnet-mini", "--sparsity", "0.9", "--pattern", "unstructured", "--patterns", "unstructured"], "one of --pattern and --patterns"),
            (["--onnx", file, "--patterns", "unstructured"], "--patterns prunes zoo models"),
            (["--zoo", "resnet-mini", "--pattern", "blocky"], "unknown sparsity pattern 'blocky'"),
            (["--zoo", "resnet-mini", "--patterns", "unstructured,blocky", "--sparsity", "0.9"], "unknown sparsity pattern 'blocky'"),
            (["--zoo", "resnet-mini", "--patterns", "unstructured"], "--patterns unstructured needs --sparsity"),
            (["--zoo", "resnet-mini", "--patterns", ","], "--patterns lists no pattern"),
        })
        {
            var bad = Invoke(BenchCommand.Build(), ["bench", "model", .. args]);
            Assert.True(bad.Code == 2, $"{string.Join(" ", args)}: exit {bad.Code}, {bad.Err}");
            OneLineError(bad.Err, expected);
        }
    }

    [Fact]
    public void Inspect_and_run_json_name_each_layers_pattern()
    {
        string model = Path.Combine(_dir, "mini.onnx");
        Lacuna.Onnx.Zoo.ZooBuilder.Build("resnet-mini", seed: 2, sparsity: 0.9).Model.Save(model);
        var inspect = Invoke(InspectCommand.Build(), "inspect", model, "--json");
        Assert.True(inspect.Code == 0, inspect.Err);
        using var doc = JsonDocument.Parse(inspect.Out);
        // Every layer says its pattern: null, or (a tiny layer at 0.9 can satisfy 2:4 by chance) the pattern its kernel names.
        Assert.All(doc.RootElement.GetProperty("layers").EnumerateArray(), l =>
        {
            var pattern = l.GetProperty("pattern");
            if (pattern.ValueKind != JsonValueKind.Null) Assert.Contains($"(pattern {pattern.GetString()})", l.GetProperty("kernel").GetString());
        });
        Assert.Contains(doc.RootElement.GetProperty("layers").EnumerateArray(), l => l.GetProperty("pattern").ValueKind == JsonValueKind.Null);
        var run = Invoke(RunCommand.Build(), "run", model, "--profile", "--repeat", "1", "--json");
        Assert.True(run.Code == 0, run.Err);
        using var rdoc = JsonDocument.Parse(run.Out);
        Assert.All(rdoc.RootElement.GetProperty("steps").EnumerateArray(), s => Assert.True(s.TryGetProperty("pattern", out _)));
    }
}
