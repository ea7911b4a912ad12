using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// jasper-mini (1-D conv + BN + ReLU blocks with residuals): layer shapes and counts, and a short input (48 frames)
/// pruned to 0.9 run by Lacuna's sparse and dense plans and by ONNX Runtime on the same bytes.
/// </summary>
public sealed class ZooJasperTests
{
    [Fact]
    public void LayersFollowTheArchitecture()
    {
        var m = ZooBuilder.Build("jasper-mini", new ZooOptions(WithWeights: false));
        var g = m.Model.Graph;
        // prologue + 5 blocks × (2 sub-blocks + residual 1x1) + 3 epilogue convs
        Assert.Equal(1 + 5 * 3 + 3, m.Layers.Count);
        Assert.Equal(m.Layers.Count, g.Node.Count(n => n.OpType == "Conv"));
        Assert.Equal(5, g.Node.Count(n => n.OpType == "Add"));
        Assert.Equal([128L, 64, 11], g.FindInitializer("prologue.conv.weight")!.Dims);
        Assert.Equal([256L, 256, 25], g.FindInitializer("block5.1.conv.weight")!.Dims);
        Assert.Equal([384L, 256, 29], g.FindInitializer("epilogue.0.conv.weight")!.Dims);
        Assert.Equal([2L], g.Node.Single(n => n.Name == "epilogue.0.conv").FindAttribute("dilations")!.Ints);
        Assert.Equal("[N, 64, 256]", Assert.Single(g.Input).Type!.TensorType!.Shape!.ToString());
        Assert.Equal("[N, 29, 128]", Assert.Single(g.Output).Type!.TensorType!.Shape!.ToString());
    }

    [Fact]
    public void PrunedShortInputRunsLikeOnnxRuntimeDenseAndSparse()
    {
        Assert.True(OnnxRuntime.IsAvailable, $"{OnnxRuntime.InstallHint}. Tried: {string.Join(", ", OnnxRuntime.Candidates())}");
        const int frames = 48, batch = 2;
        var zoo = ZooBuilder.Build("jasper-mini", new ZooOptions(Seed: 5, Sparsity: 0.9, ImageSize: frames));
        Assert.InRange(zoo.WeightSparsity, 0.85, 0.9);
        using var x = Tensor.Random(41, new[] { batch, 64, frames });
        using var ort = OnnxRuntimeSession.Create(zoo.Model.ToBytes(), 1);
        var (expected, shape) = ort.Run(x.Span, new long[] { batch, 64, frames });
        Assert.Equal(new long[] { batch, 29, frames / 2 }, shape);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0);
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        foreach (var options in new[] { new PassOptions(), PassOptions.Dense })
        {
            var y = InferenceSession.Create(graph, options).Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"];
            Assert.Equal(new[] { batch, 29, frames / 2 }, y.Shape.Dims.ToArray());
            var actual = y.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-3f * scale,
                    $"{(options.SparseKernels ? "sparse" : "dense")} plan, element {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]} (scale {scale})");
        }
    }
}
