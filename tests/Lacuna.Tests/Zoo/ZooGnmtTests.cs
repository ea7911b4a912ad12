using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// The GNMT encoder (embedding + bidirectional LSTM + 3 LSTMs with residuals): layout at full size (shape-only), and
/// gnmt-tiny dense and pruned to 0.9 run by Lacuna's sparse and dense plans and by ONNX Runtime on the same bytes.
/// </summary>
public sealed class ZooGnmtTests
{
    [Fact]
    public void FullSizeLayout()
    {
        var m = ZooBuilder.Build("gnmt-encoder", new ZooOptions(WithWeights: false));
        var g = m.Model.Graph;
        Assert.Equal(4, g.Node.Count(n => n.OpType == "LSTM"));
        Assert.Equal(8, m.Layers.Count); // W and R per layer
        Assert.Equal([2L, 4096, 1024], g.FindInitializer("rnn_layers.0.W.weight")!.Dims);
        Assert.Equal([1L, 4096, 2048], g.FindInitializer("rnn_layers.1.W.weight")!.Dims);
        Assert.Equal([1L, 4096, 1024], g.FindInitializer("rnn_layers.3.R.weight")!.Dims);
        Assert.Equal([32320L, 1024], g.FindInitializer("embedder.weight")!.Dims);
        Assert.Equal(2, g.Node.Count(n => n.OpType == "Add")); // residuals on layers 2 and 3
        Assert.Equal("[batch, seq, 1024]", Assert.Single(g.Output).Type!.TensorType!.Shape!.ToString());
    }

    [Theory]
    [InlineData(0.0, 1, 5)]
    [InlineData(0.9, 2, 9)]
    public void TinyRunsLikeOnnxRuntimeDenseAndSparse(double sparsity, int batch, int seq)
    {
        Assert.True(OnnxRuntime.IsAvailable, $"{OnnxRuntime.InstallHint}. Tried: {string.Join(", ", OnnxRuntime.Candidates())}");
        var zoo = ZooBuilder.Build("gnmt-tiny", new ZooOptions(Seed: 3, Sparsity: sparsity));
        var ids = Enumerable.Range(0, batch * seq).Select(i => (long)((i * 37 + 11) % 100)).ToArray();
        using var ort = OnnxRuntimeSession.Create(zoo.Model.ToBytes(), 1);
        var (expected, shape) = ort.RunAll(new Dictionary<string, (Array, long[])> { ["input_ids"] = (ids, [batch, seq]) })["encoder_output"];
        Assert.Equal(new long[] { batch, seq, 32 }, shape);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0);
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        using var x = Tensor.FromArray(ids.Select(v => (float)v).ToArray(), [batch, seq]);
        foreach (var options in new[] { new PassOptions(), PassOptions.Dense })
        {
            var y = InferenceSession.Create(graph, options).Run(new Dictionary<string, Tensor> { ["input_ids"] = x })["encoder_output"];
            Assert.Equal(new[] { batch, seq, 32 }, y.Shape.Dims.ToArray());
            var actual = y.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-4f * scale,
                    $"{(options.SparseKernels ? "sparse" : "dense")} plan, element {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]}");
        }
    }
}
