using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.Bench;

/// <summary>
/// Lacuna against ONNX Runtime 1.30 on the same model. ONNX Runtime is installed by scripts/install-deps.sh
/// (which the test script runs), so these tests fail, rather than skip, when it is missing.
/// </summary>
public class OnnxRuntimeComparisonTests
{
    private static void RequireOnnxRuntime() =>
        Assert.True(OnnxRuntime.IsAvailable, $"{OnnxRuntime.InstallHint}. Tried: {string.Join(", ", OnnxRuntime.Candidates())}");

    [Fact]
    public void Library_is_the_expected_version()
    {
        RequireOnnxRuntime();
        Assert.Equal(OnnxRuntime.ExpectedVersion, OnnxRuntime.Version);
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.9, 2)]
    public void Pruned_resnet_mini_agrees_with_onnx_runtime_within_1e4_relative(double sparsity, int threads)
    {
        RequireOnnxRuntime();
        var zoo = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 11, Sparsity: sparsity));
        const int batch = 3;
        using var x = Tensor.Random(23, new[] { batch, 3, 32, 32 });
        using var ort = OnnxRuntimeSession.Create(zoo.Model.ToBytes(), threads);
        Assert.Equal(new[] { "input" }, ort.InputNames);
        Assert.Equal("logits", ort.OutputNames[0]);
        var (expected, shape) = ort.Run(x.Span, new long[] { batch, 3, 32, 32 });
        Assert.Equal(new long[] { batch, 10 }, shape);

        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        foreach (var options in new[] { new PassOptions(), PassOptions.Dense })
        {
            var session = InferenceSession.Create(graph, options);
            var actual = session.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"].ToArray();
            Assert.Equal(expected.Length, actual.Length);
            float scale = expected.Max(MathF.Abs);
            Assert.True(scale > 0);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-4f * scale,
                    $"{(options.SparseKernels ? "sparse" : "dense")} plan, logit {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]} (scale {scale})");
        }
    }

    [Fact]
    public void A_malformed_model_is_a_clear_onnx_runtime_error()
    {
        RequireOnnxRuntime();
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntimeSession.Create([0x08, 0x07, 0x3a, 0x05, 0xff], threads: 1));
        Assert.Equal("CreateSessionFromArray", e.Call);
        Assert.Contains("CreateSessionFromArray", e.Message);
    }

    [Fact]
    public void Spinning_can_be_switched_off_and_inputs_are_checked()
    {
        RequireOnnxRuntime();
        var zoo = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 3));
        using var ort = OnnxRuntimeSession.Create(zoo.Model.ToBytes(), threads: 1, allowSpinning: false);
        var ex = Assert.Throws<ArgumentException>(() => ort.Run(new float[5], new long[] { 1, 3, 32, 32 }));
        Assert.Contains("3072", ex.Message);
    }
}
