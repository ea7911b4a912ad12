using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.Graph;

namespace Lacuna.Tests.Bench;

/// <summary>
/// A BERT-style ONNX model written without the zoo (<see cref="BertStyleModel"/>: int64 ids and mask, dynamic batch
/// and sequence, decomposed LayerNorm and erf Gelu) imports, fuses and matches ONNX Runtime within 1e-4 relative.
/// </summary>
[Collection(Lacuna.Tests.TestUtil.GlobalThreadsCollection.Name)]
public class BertStyleOnnxRuntimeTests
{
    /// <summary>Ids, type ids and a mask whose later rows are padded, as int64 (for ONNX Runtime) and exact floats (for Lacuna).</summary>
    private static Dictionary<string, long[]> Inputs(int batch, int seq, int seed)
    {
        var rng = new Random(seed);
        long[] ids = new long[batch * seq], types = new long[batch * seq], mask = new long[batch * seq];
        for (int b = 0; b < batch; b++)
        {
            int valid = Math.Max(1, seq - b * 2); // row b has its last 2b positions padded
            for (int s = 0; s < seq; s++)
            {
                ids[b * seq + s] = rng.Next(BertStyleModel.Vocab);
                types[b * seq + s] = s >= seq / 2 ? 1 : 0;
                mask[b * seq + s] = s < valid ? 1 : 0;
            }
        }
        return new() { ["input_ids"] = ids, ["token_type_ids"] = types, ["attention_mask"] = mask };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Bert_style_export_matches_onnx_runtime_at_two_batch_and_sequence_pairs(int threads)
    {
        Assert.True(OnnxRuntime.IsAvailable, OnnxRuntime.InstallHint);
        var model = BertStyleModel.Build(seed: 5);
        var graph = OnnxGraphImporter.ToGraph(model);
        Assert.Equal(GraphElementType.Int64, graph.Inputs.Single(i => i.Name == "input_ids").ElementType);
        Assert.Equal(new[] { GraphValue.Symbolic, GraphValue.Symbolic }, graph.Inputs[0].Shape!);
        int before = Lacuna.Threading.WorkerPool.DefaultThreads;
        Lacuna.Threading.WorkerPool.DefaultThreads = threads;
        try
        {
            var session = InferenceSession.Create(graph);
            // The decomposed forms became one node each: 1 + 2 per layer LayerNorms, 1 Gelu per layer (the epilogue of the
            // intermediate linear layer it follows).
            Assert.Equal(1 + 2 * BertStyleModel.Layers, session.Graph.Nodes.Count(n => n.OpType == "LayerNormalization"));
            Assert.Equal(BertStyleModel.Layers, session.Graph.Nodes.Count(n => n.OpType == "Gelu" || n.FusedGelu is not null));
            Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType is "Erf" or "Sqrt" or "Pow");
            using var ort = OnnxRuntimeSession.Create(model.ToBytes(), threads);
            foreach (var (batch, seq) in new[] { (2, 7), (3, 16) })
            {
                var ids = Inputs(batch, seq, seed: batch * 100 + seq);
                var outputs = ort.RunAll(ids.ToDictionary(kv => kv.Key, kv => ((Array)kv.Value, new long[] { batch, seq })));
                var expected = new[] { outputs["last_hidden_state"], outputs["pooler_output"] };
                var feeds = ids.ToDictionary(kv => kv.Key, kv => Tensor.FromArray(kv.Value.Select(v => (float)v).ToArray(), batch, seq));
                var actual = session.Run(feeds);
                Assert.Equal(new long[] { batch, seq, BertStyleModel.Hidden }, expected[0].Shape);
                AssertClose(expected[0].Data, actual["last_hidden_state"], [batch, seq, BertStyleModel.Hidden], $"hidden ({batch}, {seq})");
                AssertClose(expected[1].Data, actual["pooler_output"], [batch, BertStyleModel.Hidden], $"pooler ({batch}, {seq})");
            }
            // One plan per (batch, sequence) signature, reused on the next call.
            var shapes = new Dictionary<string, int[]> { ["input_ids"] = [2, 7], ["token_type_ids"] = [2, 7], ["attention_mask"] = [2, 7] };
            Assert.Same(session.PlanFor(shapes), session.PlanFor(shapes));
            Assert.NotSame(session.PlanFor(shapes), session.PlanFor(shapes.ToDictionary(kv => kv.Key, _ => new[] { 3, 16 })));
        }
        finally { Lacuna.Threading.WorkerPool.DefaultThreads = before; }
    }

    private static void AssertClose(float[] expected, Tensor actual, int[] shape, string what)
    {
        Assert.Equal(shape, actual.Shape.AsSpan().ToArray());
        var a = actual.ToArray();
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(a[i] - expected[i]) <= 1e-4f * scale, $"{what} element {i}: Lacuna {a[i]} vs ONNX Runtime {expected[i]} (scale {scale})");
    }
}
