using System.CommandLine;
using System.Text.Json;
using Lacuna.Cli.Commands;
using Lacuna.Onnx;

using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Cli;

/// <summary>`zoo export` of the transformer entries and `bench attention` / `bench linear`.</summary>
[Collection("Console")]
public sealed class CliTransformerCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-cli-tf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(Command command, params string[] args) => CliRunner.Invoke(command, args);

    [Fact]
    public void Zoo_export_bert_tiny_with_a_fixed_sequence_length_and_sparsity()
    {
        string path = Path.Combine(_dir, "bert-tiny.onnx");
        var (code, output, err) = Invoke(ZooCommand.Build(), "zoo", "export", "bert-tiny", "-o", path, "--seq", "9", "--sparsity", "0.8");
        Assert.True(code == 0, err);
        Assert.Matches(@"weight sparsity (79\.9\d|80\.00) % over 13 ", output);
        var model = OnnxModel.Load(path);
        Assert.Equal(9, model.Graph.Input[0].Type!.TensorType!.Shape!.Dims[1].Value);

        var (badCode, _, badErr) = Invoke(ZooCommand.Build(), "zoo", "export", "bert-tiny", "-o", path, "--seq", "100");
        Assert.Equal(2, badCode);
        Assert.Contains("1..64", badErr);
        Assert.Single(badErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Bench_attention_json_has_the_documented_fields()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "attention", "--seq", "17", "--heads", "2", "--dhead", "8", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("attention", r.GetProperty("bench").GetString());
        foreach (var key in new[] { "fused_ms", "unfused_ms", "speedup_vs_unfused", "fused_gflops", "kernel" })
            Assert.True(r.TryGetProperty(key, out _), $"missing {key}");
        Assert.InRange(r.GetProperty("fused_max_abs_diff_vs_reference").GetDouble(), 0, 1e-5);
    }

    [Fact]
    public void Bench_linear_json_has_the_documented_fields()
    {
        var (code, output, err) = Invoke(BenchCommand.Build(), "bench", "linear", "--tokens", "7", "--in", "40", "--out", "24", "--sparsity", "0.9", "--gelu", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("linear", r.GetProperty("bench").GetString());
        foreach (var key in new[] { "dense_ms", "sparse_ms", "spmm_only_ms", "speedup_sparse_vs_dense", "chosen", "planner_ms" })
            Assert.True(r.TryGetProperty(key, out _), $"missing {key}");
        Assert.InRange(r.GetProperty("sparse_max_rel_diff_vs_dense").GetDouble(), 0, 1e-5);
    }
}
