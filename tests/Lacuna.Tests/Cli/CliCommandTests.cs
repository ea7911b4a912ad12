using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;
using Lacuna.Cli.Commands;

namespace Lacuna.Tests.Cli;

[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;

/// <summary>
/// The benchmark commands' JSON contracts, run end to end on tiny inputs (they redirect the process-wide console,
/// so this collection runs alone).
/// </summary>
[Collection("Console")]
public sealed class CliCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Fact]
    public void Bench_gemm_json_has_the_documented_fields()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "gemm", "--m", "17", "--n", "33", "--k", "9", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("gemm", doc.RootElement.GetProperty("bench").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("threads").GetInt32());
        var r = doc.RootElement.GetProperty("results")[0];
        foreach (var key in new[] { "m", "n", "k", "lacuna_ms", "openblas_ms", "lacuna_gflops", "openblas_gflops", "ratio_vs_openblas" })
            Assert.True(r.TryGetProperty(key, out _), $"missing {key}");
        Assert.Equal(17, r.GetProperty("m").GetInt32());
        Assert.True(r.GetProperty("ratio_vs_openblas").GetDouble() > 0);
        // The machine and the baseline's kernel: the same numbers mean different things on another CPU or core.
        foreach (var key in new[] { "cpu", "tier", "openblas_core", "openblas_core_source", "openblas_verified_max_rel_error" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), $"missing {key}");
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("openblas_core").GetString()));
    }

    [Fact]
    public void Bench_spmm_reads_a_dlmc_folder_and_summarizes()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "rn50", "magnitude_pruning", "0.9")).FullName;
        File.WriteAllText(Path.Combine(_dir, "rn50_batchsizes.txt"), "tiny_a,20\ntiny_b,70\n");
        File.WriteAllText(Path.Combine(sub, "tiny_a.smtx"), "3, 8, 4\n0 2 2 4\n1 5 0 7\n");
        using (var f = File.Create(Path.Combine(sub, "tiny_b.smtx.gz")))
        using (var gz = new GZipStream(f, CompressionLevel.Fastest))
            gz.Write("2, 4, 3\n0 1 3\n2 0 3\n"u8);
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "spmm", "--dlmc", sub, "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("spmm", doc.RootElement.GetProperty("bench").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal(70, results[1].GetProperty("n").GetInt32());
        Assert.Equal(0.625, results[1].GetProperty("sparsity").GetDouble(), 3);
        // The tuned schedule of each matrix names its tile and K block.
        foreach (var r in results.EnumerateArray())
            Assert.Matches(@"^(Avx512|Avx2Fma|Vector128|Scalar) 1x\d+, (no K blocks|\d+ KiB K blocks)", r.GetProperty("schedule").GetString());
        var summary = doc.RootElement.GetProperty("summary");
        Assert.True(summary.GetProperty("geomean_speedup_vs_openblas").GetDouble() > 0);
        Assert.True(summary.GetProperty("geomean_speedup_vs_dense").GetDouble() > 0);

        // --tiles: every register tile this machine runs, timed alone, and the tuned pick among them.
        var tiled = Invoke(BenchCommand.Build(), "bench", "spmm", "--dlmc", sub, "--filter", "tiny_b", "--repeat", "1", "--warmup", "0", "--tiles", "--json");
        Assert.True(tiled.Code == 0, tiled.Err);
        using (var tdoc = JsonDocument.Parse(tiled.Out))
        {
            var row = tdoc.RootElement.GetProperty("results")[0];
            var tiles = row.GetProperty("tiles_ms").EnumerateObject().Select(p => p.Name).ToArray();
            Assert.Equal(Lacuna.Kernels.Spmm.SpmmPlan.TileNames, tiles);
            Assert.Contains(row.GetProperty("tile_chosen").GetString(), Lacuna.Kernels.Spmm.SpmmPlan.TileNames);
        }

        var missing = Invoke(BenchCommand.Build(), "bench", "spmm", "--dlmc", Path.Combine(_dir, "nope"));
        Assert.NotEqual(0, missing.Code);
        Assert.Contains("not found", missing.Err);
    }

    [Fact]
    public void Bench_spmm_bf16x_reports_speed_and_error_of_bf16_activations()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "bf16x", "0.5")).FullName;
        File.WriteAllText(Path.Combine(_dir, "bf16x", "rn50_batchsizes.txt"), "tiny_c,40\n");
        File.WriteAllText(Path.Combine(sub, "tiny_c.smtx"), "3, 8, 5\n0 2 3 5\n1 5 0 2 7\n");
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "spmm", "--dlmc", sub, "--repeat", "1", "--warmup", "0", "--bf16x", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("results")[0];
        foreach (var key in new[] { "lacuna_bf16x_ms", "bf16x_speedup_vs_openblas", "bf16x_speedup_vs_fp32" })
            Assert.True(row.GetProperty(key).GetDouble() > 0, key);
        // X rounded to bf16 (8 significant bits) changes Y by well under a percent of its largest element (or not at
        // all where the tuning kept fp32 X, which the schedule then says).
        double error = row.GetProperty("bf16x_max_rel_error").GetDouble();
        Assert.InRange(error, 0, 1e-2);
        Assert.Matches(@"^(Avx512|Avx2Fma|Vector128|Scalar) 1x\d+, ", row.GetProperty("bf16x_schedule").GetString());
        var summary = doc.RootElement.GetProperty("summary");
        Assert.True(summary.GetProperty("geomean_bf16x_speedup_vs_openblas").GetDouble() > 0);
        Assert.Equal(error, summary.GetProperty("bf16x_max_rel_error").GetDouble());
    }

    [Fact]
    public void Run_profile_json_times_every_step_in_order()
    {
        string model = Path.Combine(_dir, "mini.onnx");
        var export = Invoke(ZooCommand.Build(), "zoo", "export", "resnet-mini", "-o", model, "--sparsity", "0.8");
        Assert.True(export.Code == 0, export.Err);
        var (code, output, err) = Invoke(RunCommand.Build(), "run", model, "--profile", "--repeat", "3", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(3, doc.RootElement.GetProperty("runs").GetInt32());
        var steps = doc.RootElement.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Contains(steps, x => x.GetProperty("op").GetString() == "Conv" && x.GetProperty("kernel").GetString()!.Length > 0);
        Assert.All(steps, x => Assert.True(x.GetProperty("ms").GetDouble() >= 0));
        Assert.Equal(steps.Sum(x => x.GetProperty("ms").GetDouble()), doc.RootElement.GetProperty("steps_total_ms").GetDouble(), 2);
    }

    [Fact]
    public void Run_precision_bf16_prints_its_error_against_fp32()
    {
        string model = Path.Combine(_dir, "mini-bf16.onnx");
        var export = Invoke(ZooCommand.Build(), "zoo", "export", "resnet-mini", "-o", model, "--sparsity", "0.9");
        Assert.True(export.Code == 0, export.Err);
        var (code, output, err) = Invoke(RunCommand.Build(), "run", model, "--precision", "bf16", "--repeat", "1");
        Assert.True(code == 0, err);
        var m = System.Text.RegularExpressions.Regex.Match(output, @"bf16 activations: max \|Y - Y_fp32\| = (\S+) of max");
        Assert.True(m.Success, output);
        Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1e-2);
        Assert.Contains("bf16 activations)", output);
        var bad = Invoke(RunCommand.Build(), "run", model, "--precision", "fp8");
        Assert.Equal(2, bad.Code);
        Assert.Contains("fp8", bad.Err);
        Assert.Equal(2, Invoke(RunCommand.Build(), "run", model, "--precision", "bf16", "--dense").Code);
    }

    [Fact]
    public void Bench_sweep_writes_json_and_svg_with_a_crossover_field()
    {
        string path = Path.Combine(_dir, "sweep.json");
        var (code, _, err) = Invoke(BenchCommand.Build(), "bench", "sweep", "--m", "16", "--k", "64", "--n", "40", "--repeat", "1", "--warmup", "0", "--out", path);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(7, doc.RootElement.GetProperty("results").GetArrayLength());
        Assert.True(doc.RootElement.TryGetProperty("crossover_sparsity", out _));
        Assert.Contains("<svg", File.ReadAllText(Path.ChangeExtension(path, ".svg")));
    }

    [Fact]
    public void Demo_runs_end_to_end_on_the_small_model()
    {
        var (code, output, err) = Invoke(DemoCommand.Build(), "demo", "--model", "resnet-mini", "--repeat", "1", "--threads", "1");
        Assert.True(code == 0, err + output);
        var bad = Invoke(DemoCommand.Build(), "demo", "--model", "resnet51");
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("resnet51", bad.Err);
    }

    [Fact]
    public void Bench_model_json_has_the_documented_fields_and_agrees_with_onnx_runtime()
    {
        Assert.True(Lacuna.Bench.Baselines.OnnxRuntime.IsAvailable, Lacuna.Bench.Baselines.OnnxRuntime.InstallHint);
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--sparsity", "0.9",
            "--batch", "2", "--threads", "1", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("planning sparse at batch 2", err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("model", r.GetProperty("bench").GetString());
        Assert.Equal("resnet-mini", r.GetProperty("model").GetString());
        Assert.Equal(2, r.GetProperty("batch").GetInt32());
        Assert.Equal(1, r.GetProperty("threads").GetInt32());
        Assert.InRange(r.GetProperty("sparsity").GetDouble(), 0.8, 0.95);
        foreach (var f in new[] { "lacuna_sparse_ms", "lacuna_dense_ms", "onnxruntime_ms", "speedup_vs_onnxruntime", "speedup_vs_dense" })
            Assert.True(r.GetProperty(f).GetDouble() > 0, f);
        Assert.InRange(r.GetProperty("max_rel_diff_vs_onnxruntime").GetDouble(), 0, 1e-4);
        Assert.True(r.TryGetProperty("max_abs_diff_vs_onnxruntime", out _));

        var file = Path.Combine(_dir, "mini.onnx");
        Lacuna.Onnx.Zoo.ZooBuilder.Build("resnet-mini", seed: 3).Model.Save(file);
        var fromFile = Invoke(BenchCommand.Build(), "bench", "model", "--onnx", file, "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(fromFile.Code == 0, fromFile.Err);
        Assert.Equal("mini", JsonDocument.Parse(fromFile.Out).RootElement.GetProperty("model").GetString());

        var both = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--onnx", file);
        Assert.Equal(2, both.Code);
        Assert.Contains("exactly one", both.Err);
        var badDlmc = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet50", "--dlmc", Path.Combine(_dir, "nope"));
        Assert.Equal(2, badDlmc.Code);
        Assert.Contains("nope", badDlmc.Err);
    }

    [Fact]
    public void Train_checkpoints_resumes_exports_and_feeds_measured_train_conv()
    {
        string ckpt = Path.Combine(_dir, "vgg.ckpt"), onnx = Path.Combine(_dir, "vgg.onnx");
        string[] common = ["--limit", "96", "--test-limit", "64", "--width", "4", "--batch", "32", "--threads", "1", "--checkpoint", ckpt, "--output", onnx, "--json"];
        var (code, output, err) = Invoke(TrainCommand.Build(), ["train", "--epochs", "1", .. common]);
        Assert.True(code == 0, err);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.Equal("fashion-vgg", doc.RootElement.GetProperty("network").GetString());
            Assert.Equal(1, doc.RootElement.GetProperty("history").GetArrayLength());
            Assert.True(doc.RootElement.GetProperty("onnx_max_abs_diff").GetDouble() < 1e-3);
        }
        Assert.True(File.Exists(ckpt) && File.Exists(onnx));
        Assert.Contains("ep 1/1", err);             // the progress line
        Assert.Contains("conv1_2.relu", err);       // the per-epoch sparsity table

        (code, output, err) = Invoke(TrainCommand.Build(), ["train", "--resume", ckpt, "--epochs", "2", .. common]);
        Assert.True(code == 0, err);
        Assert.Contains("resumed", err);
        using (var doc = JsonDocument.Parse(output))
            Assert.Equal(2, doc.RootElement.GetProperty("history").GetArrayLength());

        (code, output, err) = Invoke(BenchCommand.Build(), "bench", "train-conv", "--sparsity", "measured", "--checkpoint", ckpt, "--batch", "2",
            "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using (var doc = JsonDocument.Parse(output))
        {
            var results = doc.RootElement.GetProperty("results");
            Assert.Equal(5, results.GetArrayLength()); // the non-initial convs of the VGG
            foreach (var r in results.EnumerateArray())
            {
                Assert.InRange(r.GetProperty("x_zeros").GetDouble(), 0.05, 1.0);
                Assert.True(r.GetProperty("bww_speedup").GetDouble() > 0);
            }
            Assert.True(doc.RootElement.GetProperty("summary").GetProperty("speedup").GetDouble() > 0);
        }

        var bad = Invoke(TrainCommand.Build(), "train", "--data", Path.Combine(_dir, "nowhere"), "--limit", "8");
        Assert.Equal(1, bad.Code);
        Assert.Contains("dataset-fashion-mnist", bad.Err);
        File.WriteAllText(ckpt, "garbage");
        bad = Invoke(TrainCommand.Build(), "train", "--resume", ckpt);
        Assert.Equal(1, bad.Code);
        Assert.Contains("LCNACKPT", bad.Err);
    }
}
