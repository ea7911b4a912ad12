using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Cli.Commands;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tests.Pruning;

namespace Lacuna.Tests.Cli;

/// <summary><c>lacuna prune</c>: the JSON report's schema, the written model and its metadata, and one-line errors.</summary>
[Collection("Console")]
public sealed class PruneCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-prune-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var root = new RootCommand { PruneCommand.Build() };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    private string TinyModel()
    {
        string path = Path.Combine(_dir, "tiny.onnx");
        OnnxGraphExporter.ToModel(TinyNets.ConvBnNet()).Save(path);
        return path;
    }

    [Fact]
    public void Json_report_has_the_documented_schema_and_the_model_carries_its_patterns()
    {
        string input = TinyModel(), output = Path.Combine(_dir, "out.onnx");
        var r = Invoke("prune", input, "--method", "nm:2:4", "--batch", "2", "--repeat", "1", "--json", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        var doc = JsonNode.Parse(r.Out)!.AsObject();
        foreach (var key in new[] { "command", "model", "output", "method", "sparsity", "threads", "batch", "cpu", "isa", "dense_accuracy", "accuracy",
                     "relative_output_error", "macs_dense", "macs_kept", "accelerator", "layers" })
            Assert.True(doc.ContainsKey(key), key);
        Assert.Equal("prune", (string)doc["command"]!);
        Assert.Equal("nm:2:4", (string)doc["method"]!);
        Assert.Equal(0.5, (double)doc["sparsity"]!, 3);
        Assert.Null(doc["accuracy"]);
        Assert.True((double)doc["macs_kept"]! < (double)doc["macs_dense"]!);
        var acc = doc["accelerator"]!.AsObject();
        foreach (var key in new[] { "dense_time", "time", "speedup", "dense_energy", "energy", "params" }) Assert.True(acc.ContainsKey(key), key);
        Assert.True((double)acc["speedup"]! > 1);
        var layers = doc["layers"]!.AsArray();
        Assert.Equal(5, layers.Count);
        foreach (var l in layers)
            foreach (var key in new[] { "name", "op", "rows", "cols", "pattern", "sparsity", "kept_norm", "estimated_speedup", "accelerator_speedup", "measured_speedup", "kernel" })
                Assert.True(l!.AsObject().ContainsKey(key), key);
        var conv2 = layers.Single(l => (string)l!["name"]! == "conv2")!;
        Assert.Equal("nm:2:4", (string)conv2["pattern"]!);
        Assert.Equal(2.0, (double)conv2["accelerator_speedup"]!, 3);
        Assert.Contains("2:4", (string)conv2["kernel"]!);
        Assert.True((double)conv2["measured_speedup"]! > 0);

        // Written atomically (no temporary file left) and read back with the per-layer patterns.
        Assert.Equal(["out.onnx", "tiny.onnx"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
        var g = OnnxGraphImporter.Load(output);
        Assert.Equal("nm:2:4", PruningMetadata.Read(g.Metadata)!["fc1"].Name);
    }

    [Fact]
    public void Table_reports_accuracy_when_calibrated_on_labelled_images()
    {
        string input = Path.Combine(_dir, "vgg.onnx"), output = Path.Combine(_dir, "out.onnx");
        OnnxGraphExporter.ToModel(Lacuna.Training.FashionNets.Vgg(width: 2).ToGraph()).Save(input);
        var r = Invoke("prune", input, "--method", "magnitude", "--sparsity", "0.5", "--calibration", "fashion-mnist", "--images", "40",
            "--repeat", "1", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("dense accuracy", r.Err);
        Assert.Contains("accuracy ", r.Out);
        Assert.Contains("first layer, kept dense", r.Out);
        Assert.Contains("conv2_1", r.Out);
    }

    [Theory]
    [InlineData("diagonal", null, "unknown pruning method 'diagonal'")]
    [InlineData("magnitude", "1.5", "--sparsity must be in (0, 1)")]
    [InlineData("tasder", null, "tasder needs --calibration")]
    public void Bad_options_are_one_line_errors(string method, string? sparsity, string expected)
    {
        string input = TinyModel();
        var args = new List<string> { "prune", input, "--method", method, "-o", Path.Combine(_dir, "x.onnx") };
        if (sparsity is not null) args.AddRange(["--sparsity", sparsity]);
        var r = Invoke([.. args]);
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "x.onnx")));
    }

    [Fact]
    public void Gradual_schedule_points_to_lacuna_train()
    {
        var r = Invoke("prune", TinyModel(), "--method", "magnitude", "--sparsity", "0.5", "--schedule", "gradual", "-o", Path.Combine(_dir, "x.onnx"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--prune-schedule gradual", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void Missing_model_or_calibration_folder_is_a_one_line_error()
    {
        var r = Invoke("prune", Path.Combine(_dir, "none.onnx"), "--method", "nm:2:4", "-o", Path.Combine(_dir, "x.onnx"));
        Assert.Equal(2, r.Code);
        Assert.Contains("does not exist", r.Err);
        var c = Invoke("prune", TinyModel(), "--method", "tasder", "--calibration", Path.Combine(_dir, "nowhere"), "-o", Path.Combine(_dir, "x.onnx"));
        Assert.Equal(1, c.Code);
        Assert.Contains("neither fashion-mnist nor a folder", c.Err);
        Assert.Single(c.Err.Trim().Split('\n'));
    }

    [Fact]
    public void Tasder_with_a_folder_of_inputs_bounds_the_output_error()
    {
        string input = TinyModel(), output = Path.Combine(_dir, "out.onnx"), data = Path.Combine(_dir, "cal");
        Directory.CreateDirectory(data);
        using (var x = Lacuna.Tensors.Tensor.Random(4, [6, 1, 8, 8]))
            File.WriteAllBytes(Path.Combine(data, "input_0.pb"), OnnxSerializer.ToBytes(TensorProto.FromFloats("input", [6, 1, 8, 8], x.ToArray())));
        var r = Invoke("prune", input, "--method", "tasder", "--calibration", data, "--max-error", "0.3", "--repeat", "1", "--json", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("tasder", r.Err);
        var doc = JsonNode.Parse(r.Out)!;
        Assert.InRange((double)doc["relative_output_error"]!, 0, 0.3);
        Assert.Null(doc["accuracy"]);
    }
}
