using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;
using Lacuna.Cli.Commands;

using Lacuna.Tests.TestUtil;

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

    private static (int Code, string Out, string Err) Invoke(Command command, params string[] args) => CliRunner.Invoke(command, args);

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
    public void Bench_gs_json_compares_gs_with_csr_and_dense_and_reports_busy_time_per_thread()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "gs", "--m", "40", "--k", "24", "--n", "1,3", "--sparsity", "0.5",
            "--threads", "2", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("gs", doc.RootElement.GetProperty("bench").GetString());
        Assert.Equal("gs:16", doc.RootElement.GetProperty("pattern").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
        {
            foreach (var key in new[] { "m", "k", "n", "gs_ms", "csr_ms", "dense_ms", "speedup_vs_csr", "speedup_vs_dense", "max_rel_diff_vs_csr" })
                Assert.True(r.TryGetProperty(key, out _), $"missing {key}");
            Assert.True(r.GetProperty("max_rel_diff_vs_csr").GetDouble() < 1e-4);
            Assert.Equal(2, r.GetProperty("busy_ms").GetArrayLength());
        }
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("geomean_speedup_vs_csr").GetDouble() > 0);
        var bad = Invoke(BenchCommand.Build(), "bench", "gs", "--m", "4", "--k", "4", "--pattern", "block:4x1");
        Assert.Equal(2, bad.Code);
        Assert.Contains("GS pattern", bad.Err);
        Assert.Equal(2, Invoke(BenchCommand.Build(), "bench", "gs", "--n", "1,x").Code);
    }

    [Fact]
    public void Bench_block_json_compares_each_block_shape_with_csr_and_dense()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "block", "--m", "33", "--k", "20", "--n", "17",
            "--patterns", "block:16x1,block:4x4", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("block", doc.RootElement.GetProperty("bench").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
        {
            Assert.True(r.GetProperty("block_ms").GetDouble() > 0);
            Assert.True(r.GetProperty("max_rel_diff_vs_csr").GetDouble() < 1e-4);
        }
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("block:4x4").GetProperty("geomean_speedup_vs_dense").GetDouble() > 0);
        Assert.Equal(2, Invoke(BenchCommand.Build(), "bench", "block", "--patterns", "gs:16").Code);
    }

    [Fact]
    public void Bench_block_conv_json_times_the_planner_candidates_and_they_agree()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "block-conv", "--layer", "3x3 512@7", "--patterns", "block:8x1",
            "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("block-conv", doc.RootElement.GetProperty("bench").GetString());
        var r = Assert.Single(doc.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("rn50 3x3 512@7", r.GetProperty("layer").GetString());
        foreach (string key in new[] { "direct_ms", "im2col_ms", "csr_direct_ms", "dense_ms" }) Assert.True(r.GetProperty(key).GetDouble() > 0, key);
        Assert.True(r.GetProperty("max_rel_diff").GetDouble() < 1e-3);
        Assert.Contains("BlockDirect", r.GetProperty("direct_plan").GetString());
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("block:8x1").GetProperty("geomean_speedup_vs_im2col").GetDouble() > 0);
        Assert.Equal(2, Invoke(BenchCommand.Build(), "bench", "block-conv", "--patterns", "block:4x4").Code);
        Assert.Equal(2, Invoke(BenchCommand.Build(), "bench", "block-conv", "--layer", "no such layer").Code);
    }

    [Fact]
    public void Bench_block_conv_takes_nm_patterns_and_times_the_nm_direct_conv()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "block-conv", "--layer", "3x3 512@7", "--patterns", "nm:2:4:r8,nm:1:8",
            "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
        {
            foreach (string key in new[] { "direct_ms", "im2col_ms", "csr_direct_ms", "dense_ms" }) Assert.True(r.GetProperty(key).GetDouble() > 0, key);
            Assert.True(r.GetProperty("max_rel_diff").GetDouble() < 1e-3);
            Assert.Contains("NmDirect", r.GetProperty("direct_plan").GetString());
        }
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("nm:2:4:r8").GetProperty("geomean_speedup_vs_csr_direct").GetDouble() > 0);
        Assert.Contains("nm:N:M", Invoke(BenchCommand.Build(), "bench", "block-conv", "--patterns", "gs:16").Err);
    }

    [Fact]
    public void Bench_gs_bodies_times_every_body_against_csr()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "gs", "--m", "40", "--k", "24", "--n", "8", "--sparsity", "0.5",
            "--threads", "1", "--repeat", "1", "--warmup", "0", "--bodies", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var bodies = Assert.Single(doc.RootElement.GetProperty("results").EnumerateArray()).GetProperty("bodies");
        Assert.True(bodies.GetProperty("csr_ms").GetDouble() > 0);
        Assert.True(bodies.GetProperty("csr_min_ms").GetDouble() > 0);
        var timed = bodies.EnumerateObject().Where(p => !p.Name.StartsWith("csr_", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(timed);
        foreach (var body in timed) Assert.True(body.Value.GetProperty("speedup_vs_csr").GetDouble() > 0, body.Name);
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
    public void Bench_spmm_on_a_folder_the_batch_size_file_does_not_name_runs_at_n_equal_to_batch_tokens()
    {
        // As the DLMC Transformer folders: dlmc/rn50_batchsizes.txt is a parent's file, naming none of these matrices.
        File.WriteAllText(Path.Combine(_dir, "rn50_batchsizes.txt"), "other,20\n");
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "transformer", "magnitude_pruning", "0.9")).FullName;
        File.WriteAllText(Path.Combine(sub, "ffn_conv1.smtx"), "3, 8, 4\n0 2 2 4\n1 5 0 7\n");
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "spmm", "--dlmc", sub, "--batch", "40", "--peers", "none",
            "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(40, doc.RootElement.GetProperty("results")[0].GetProperty("n").GetInt32());
        Assert.StartsWith("--batch", doc.RootElement.GetProperty("n_from").GetString());
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
        // The JSON rounds every figure to 4 significant digits (relative error ≤ 5e-4 each): the steps' sum and the total
        // agree within the two roundings, not to a fixed number of decimals (a 12.345 ms total failed that way).
        double stepsSum = steps.Sum(x => x.GetProperty("ms").GetDouble()), total = doc.RootElement.GetProperty("steps_total_ms").GetDouble();
        Assert.True(Math.Abs(stepsSum - total) <= 1.5e-3 * total + 1e-9, $"steps sum {stepsSum} vs steps_total_ms {total}");
    }

    [Fact]
    public void Run_json_reports_time_outputs_and_resident_memory_for_lacuna_and_onnx_runtime_alike()
    {
        string model = Path.Combine(_dir, "mini.onnx");
        var export = Invoke(ZooCommand.Build(), "zoo", "export", "resnet-mini", "-o", model, "--sparsity", "0.8");
        Assert.True(export.Code == 0, export.Err);
        var sums = new List<double>();
        foreach (var extra in new[] { Array.Empty<string>(), ["--onnxruntime"], ["--onnxruntime", "--shape", "1,3,32,32"] })
        {
            var (code, output, err) = Invoke(RunCommand.Build(), ["run", model, "--repeat", "2", "--json", .. extra]);
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            Assert.Equal(extra.Length == 0 ? "lacuna" : "onnxruntime", root.GetProperty("engine").GetString());
            Assert.True(root.GetProperty("median_ms").GetDouble() > 0);
            var mem = root.GetProperty("memory");
            double steady = mem.GetProperty("steady_rss_mb").GetDouble(), peak = mem.GetProperty("peak_rss_mb").GetDouble();
            Assert.InRange(steady, 1, peak);
            sums.Add(root.GetProperty("outputs")[0].GetProperty("sum").GetDouble());
        }
        Assert.Equal(sums[0], sums[1], 3); // the same random input reaches the same logits on both engines
        Assert.Equal(sums[1], sums[2], 6);
        var badShape = Invoke(RunCommand.Build(), "run", model, "--onnxruntime", "--shape", "1,x");
        Assert.Equal(2, badShape.Code);
        Assert.Contains("--shape", badShape.Err);
    }

    [Fact]
    public void Zoo_lists_the_new_models_and_exports_them_at_a_chosen_size()
    {
        var list = Invoke(ZooCommand.Build(), "zoo", "list");
        Assert.True(list.Code == 0, list.Err);
        Assert.Contains("7,978,856", list.Out.Split('\n').Single(l => l.StartsWith("densenet121 ")));
        Assert.Contains("3,504,872", list.Out.Split('\n').Single(l => l.StartsWith("mobilenetv2 ")));
        Assert.Contains("6,624,904", list.Out.Split('\n').Single(l => l.StartsWith("googlenet ")));

        string model = Path.Combine(_dir, "v2.onnx");
        var export = Invoke(ZooCommand.Build(), "zoo", "export", "mobilenetv2", "-o", model, "--sparsity", "0.5", "--image-size", "32");
        Assert.True(export.Code == 0, export.Err);
        var input = Assert.Single(Lacuna.Onnx.OnnxModel.Load(model).Graph.Input);
        Assert.Equal("[N, 3, 32, 32]", input.Type!.TensorType!.Shape!.ToString());

        var tooSmall = Invoke(ZooCommand.Build(), "zoo", "export", "densenet121", "-o", model, "--image-size", "16");
        Assert.Equal(2, tooSmall.Code);
        Assert.Contains("at least 32", tooSmall.Err);
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
    public void Bench_model_and_demo_run_a_sequence_model_with_int64_inputs()
    {
        Assert.True(Lacuna.Bench.Baselines.OnnxRuntime.IsAvailable, Lacuna.Bench.Baselines.OnnxRuntime.InstallHint);
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "bert-tiny", "--sparsity", "0.9",
            "--seq", "9", "--batch", "2", "--threads", "1", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("sequence length 9", err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(9, r.GetProperty("seq").GetInt32());
        Assert.Equal(2, r.GetProperty("batch").GetInt32());
        Assert.InRange(r.GetProperty("max_rel_diff_vs_onnxruntime").GetDouble(), 0, 1e-4);
        Assert.InRange(r.GetProperty("dense_max_rel_diff_vs_onnxruntime").GetDouble(), 0, 1e-4);
        // Every linear layer of bert-tiny (13) is a token-linear kernel, whichever candidate won; each of its 2 layers'
        // Q, K and V projections run as one (GraphPasses.FuseQkvProjections): 13 - 2·2 kernels.
        Assert.Equal(9, r.GetProperty("linear_kernels_chosen").EnumerateObject().Sum(p => p.Value.GetInt32()));
        var bad = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "bert-tiny", "--seq", "0");
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("--seq", bad.Err);

        var demo = Invoke(DemoCommand.Build(), "demo", "--model", "bert-tiny", "--seq", "16", "--repeat", "1", "--threads", "1");
        Assert.True(demo.Code == 0, demo.Err + demo.Out); // its tables go through AnsiConsole, which the suite's other tests may have bound elsewhere
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

    [Fact]
    public void A_directory_a_negative_batch_and_an_unknown_openblas_core_get_one_line_errors()
    {
        foreach (var cmd in new[] { RunCommand.Build(), InspectCommand.Build() })
        {
            var dir = Invoke(cmd, cmd.Name, _dir);
            Assert.Equal(1, dir.Code);
            Assert.Contains("is a directory", dir.Err);
            Assert.Single(dir.Err.Trim().Split('\n')); // one line, no stack trace
        }
        var batch = Invoke(RunCommand.Build(), "run", Path.Combine(_dir, "m.onnx"), "--batch", "-2");
        Assert.Equal(2, batch.Code);
        Assert.Contains("--batch must be at least 0", batch.Err);
        batch = Invoke(InspectCommand.Build(), "inspect", Path.Combine(_dir, "m.onnx"), "--batch", "0");
        Assert.Equal(2, batch.Code);
        Assert.True(Lacuna.Cli.Commands.CliErrors.IsUserError(new Lacuna.LacunaFormatException("x", "y")));
        Assert.False(Lacuna.Cli.Commands.CliErrors.IsUserError(new NullReferenceException()));
    }

    [Fact]
    public void Run_feeds_valid_random_ids_to_int64_inputs_with_a_symbolic_sequence()
    {
        string model = Path.Combine(_dir, "bert-style.onnx");
        File.WriteAllBytes(model, Lacuna.Tests.Graph.BertStyleModel.Build(seed: 4).ToBytes());
        var (code, output, err) = Invoke(RunCommand.Build(), "run", model, "--batch", "2", "--seq", "5", "--max-id", "1", "--repeat", "1", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var outs = doc.RootElement.GetProperty("outputs");
        Assert.Equal("[2, 5, 32]", outs[0].GetProperty("shape").GetString());
        Assert.Equal("[2, 32]", outs[1].GetProperty("shape").GetString());
        // Ids beyond the 50-row embedding table are an error naming the node, not a crash.
        var (badCode, _, badErr) = Invoke(RunCommand.Build(), "run", model, "--seq", "3", "--max-id", "1000", "--repeat", "1");
        Assert.NotEqual(0, badCode);
        Assert.Contains("out of range for axis size 50", badErr);
        Assert.Contains("--seq must be at least 1", Invoke(RunCommand.Build(), "run", model, "--seq", "0").Err);
    }

    [Fact]
    public void Ops_lists_every_registered_definition_with_its_cases()
    {
        var (code, output, err) = Invoke(OpsCommand.Build(), "ops", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var ops = doc.RootElement.GetProperty("ops");
        Assert.Equal(Lacuna.Graph.Ops.OpRegistry.All.Count, ops.GetArrayLength());
        var softmax = ops.EnumerateArray().Where(o => o.GetProperty("op").GetString() == "Softmax").ToList();
        Assert.Equal([1, 13], softmax.Select(o => o.GetProperty("from").GetInt32()));
        // Every ONNX operator owns node tests; internal ones (created by passes) are tested against their unfused graphs.
        Assert.All(ops.EnumerateArray(), o => Assert.True(o.GetProperty("cases").GetInt32() > 0 || o.GetProperty("traits").GetString()!.Contains("Internal")
            || Lacuna.Graph.Ops.OpRegistry.Named(o.GetProperty("op").GetString()!).Any(d => d.NoNodeTests is not null),
            o.GetProperty("op").GetString()));
    }

    [Fact]
    public void Conformance_by_op_counts_each_operator()
    {
        const string node = "/usr/share/libonnx-testdata/data/node";
        foreach (var name in new[] { "test_relu", "test_sigmoid", "test_add_uint8", "test_cast_FLOAT_to_STRING", "test_acos" })
            CopyDirectory(Path.Combine(node, name), Path.Combine(_dir, name));
        var (code, output, err) = Invoke(ConformanceCommand.Build(), "conformance", _dir, "--by-op", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(3, doc.RootElement.GetProperty("passed").GetInt32());
        var byOp = doc.RootElement.GetProperty("by_op").EnumerateArray().ToDictionary(o => o.GetProperty("op").GetString()!);
        Assert.Equal(1, byOp["Relu"].GetProperty("passed").GetInt32());
        Assert.Equal(1, byOp["Sigmoid"].GetProperty("passed").GetInt32());
        Assert.Equal(1, byOp["Add"].GetProperty("passed").GetInt32()); // uint8, folded with wrap-around
        Assert.Equal(1, byOp["Cast"].GetProperty("unsupported").GetInt32()); // to STRING
        Assert.Equal(1, byOp["(other)"].GetProperty("unsupported").GetInt32());
        Assert.Equal(0, byOp["Conv"].GetProperty("passed").GetInt32());
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    [Fact]
    public void Bench_elementwise_json_has_the_documented_fields()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "elementwise", "--hw", "3", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("elementwise", doc.RootElement.GetProperty("bench").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.True(results.GetArrayLength() >= 8);
        foreach (var r in results.EnumerateArray())
        {
            foreach (var key in new[] { "case", "elements", "fast_ms", "reference_ms", "speedup_vs_reference", "fast_gbps", "max_rel_diff" })
                Assert.True(r.TryGetProperty(key, out _), $"missing {key}");
            Assert.InRange(r.GetProperty("max_rel_diff").GetDouble(), 0, 1e-5);
            Assert.True(r.GetProperty("fast_ms").GetDouble() > 0);
        }
    }

    [Fact]
    public void Bench_model_runs_the_sparse_plan_at_bf16_activations_and_reports_the_error_against_onnx_runtime()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--sparsity", "0.9",
            "--precision", "bf16", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("bf16", doc.RootElement.GetProperty("precision").GetString());
        Assert.InRange(doc.RootElement.GetProperty("max_rel_diff_vs_onnxruntime").GetDouble(), 0, 1e-2);
        var bad = Invoke(BenchCommand.Build(), "bench", "model", "--zoo", "resnet-mini", "--precision", "fp16");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--precision must be fp32 or bf16", bad.Err);
    }

    [Fact]
    public void Inspect_lists_every_unsupported_node_and_run_stops_at_the_first_with_one_line()
    {
        string model = Path.Combine(_dir, "three_problems.onnx");
        Lacuna.Tests.Graph.ModelValidationTests.ThreeProblems().Save(model);
        var (code, _, err) = Invoke(InspectCommand.Build(), "inspect", model);
        Assert.NotEqual(0, code);
        Assert.Contains("3 problem(s)", err);
        foreach (var name in new[] { "'my_acos'", "'r_mystery'", "'drop_train'" }) Assert.Contains(name, err);
        Assert.DoesNotContain("'after_acos'", err);
        Assert.DoesNotContain("   at ", err); // no stack trace

        var json = Invoke(InspectCommand.Build(), "inspect", model, "--json");
        Assert.NotEqual(0, json.Code);
        var listed = JsonDocument.Parse(json.Out).RootElement.GetProperty("unsupported");
        Assert.Equal(["my_acos", "r_mystery", "drop_train"], listed.EnumerateArray().Select(p => p.GetProperty("node").GetString()));

        var run = Invoke(RunCommand.Build(), "run", model, "--repeat", "1");
        Assert.NotEqual(0, run.Code);
        Assert.Contains("'my_acos'", run.Err);
        Assert.DoesNotContain("'r_mystery'", run.Err);
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
