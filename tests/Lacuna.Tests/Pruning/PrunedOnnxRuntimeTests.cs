using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tensors;

namespace Lacuna.Tests.Pruning;

/// <summary>
/// A pruned model is standard ONNX: ONNX Runtime runs it (pattern metadata and all) and agrees with Lacuna's sparse
/// plan. ONNX Runtime is installed by scripts/install-deps.sh, so these fail, rather than skip, when it is missing.
/// </summary>
public class PrunedOnnxRuntimeTests
{
    [Theory]
    [InlineData("nm:2:4", 0)]
    [InlineData("tasd:2:4+1:8", 0)]
    [InlineData("block:4x1", 0.6)]
    [InlineData("magnitude", 0.8)]
    public void Pruned_model_runs_in_onnx_runtime_with_lacunas_outputs(string method, double sparsity)
    {
        Assert.True(OnnxRuntime.IsAvailable, OnnxRuntime.InstallHint);
        var outcome = ModelPruning.Prune(TinyNets.ConvBnNet(), method, sparsity);
        Compare(outcome.Graph);
    }

    [Fact]
    public void Channel_shrunk_model_runs_in_onnx_runtime_with_lacunas_outputs()
    {
        Assert.True(OnnxRuntime.IsAvailable, OnnxRuntime.InstallHint);
        var g = TinyNets.ConvBnNet();
        foreach (var (name, channels) in new[] { ("conv2", new[] { 0, 4, 5 }), ("conv3", new[] { 1, 2, 3, 8 }) })
        {
            var layer = PrunableLayer.Find(g).Single(l => l.Name == name);
            ChannelShrinker.Shrink(g, ChannelShrinker.Follow(g, layer), channels);
        }
        Compare(g);
    }

    private static void Compare(ModelGraph g)
    {
        var bytes = OnnxGraphExporter.ToModel(g).ToBytes();
        const int batch = 3;
        using var x = Tensor.Random(31, [batch, 1, 8, 8]);
        using var ort = OnnxRuntimeSession.Create(bytes, 1);
        var (expected, shape) = ort.Run(x.Span, [batch, 1, 8, 8]);
        Assert.Equal(new long[] { batch, TinyNets.Classes }, shape);
        var actual = TinyNets.Run(OnnxGraphImporter.ToGraph(Lacuna.Onnx.OnnxModel.Parse(bytes)), x, new PassOptions());
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-4f * scale, $"logit {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]}");
    }
}
