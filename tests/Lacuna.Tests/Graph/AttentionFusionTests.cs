using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// <see cref="GraphPasses.FuseAttention"/>: exported multi-head attention becomes one fused node that computes what the
/// exported nodes do (masks of every broadcast form, Div or Mul scales, Kᵀ written either way, cross-attention with
/// other key lengths, odd sequence lengths); a pattern whose intermediate is used elsewhere stays; the exporter writes
/// the fused node back as standard ONNX.
/// </summary>
public class AttentionFusionTests
{
    private const int Heads = 3, Size = 5, Width = Heads * Size;

    private static readonly PassOptions Unfused = new() { FuseAttention = false };

    [Theory]
    [InlineData("bert-tiny", 1, 7)]
    [InlineData("bert-tiny", 2, 13)]
    [InlineData("transformer-tiny", 2, 9)]
    public void Zoo_encoders_fuse_every_layer_and_match_the_exported_nodes(string name, int batch, int seq)
    {
        var graph = OnnxGraphImporter.ToGraph(ZooBuilder.Build(name, new ZooOptions(Seed: 4)).Model);
        var fused = InferenceSession.Create(graph);
        var plain = InferenceSession.Create(graph, Unfused);
        Assert.Equal(2, fused.Graph.Nodes.Count(n => n.OpType == GraphPasses.AttentionOp));
        // Q, K and V are one projection of the layer input (FuseQkvProjections).
        Assert.All(fused.Graph.Nodes.Where(n => n.OpType == GraphPasses.AttentionOp), n => Assert.Equal(1, n.Int("packed_qkv", 0)));
        Assert.DoesNotContain(plain.Graph.Nodes, n => n.OpType == GraphPasses.AttentionOp);
        Assert.DoesNotContain(fused.Graph.Nodes, n => n.OpType == "Softmax");
        var rng = new DeterministicRandom(11);
        var feeds = new Dictionary<string, Tensor>();
        foreach (var input in graph.Inputs)
        {
            // Token ids; for BERT the mask drops the last token of every second sequence.
            var data = Enumerable.Range(0, batch * seq).Select(i => input.Name switch
            {
                "attention_mask" => i / seq % 2 == 1 && i % seq == seq - 1 ? 0f : 1f,
                "token_type_ids" => i % 2,
                _ => rng.NextInt(30),
            }).ToArray();
            feeds[input.Name] = Tensor.FromArray(data, batch, seq);
        }
        var expected = plain.Run(feeds);
        var actual = fused.Run(feeds);
        foreach (var (output, y) in expected) KernelAssert.Close(y.ToArray(), actual[output].ToArray(), 64, $"{name} {output}");
    }

    /// <summary>One attention block over graph inputs q [B, Lq, W], k and v [B, Lk, W] (and mask), as exporters write it.</summary>
    private static ModelGraph Block(string scale = "mul", string keys = "direct", int[]? maskShape = null, bool constantMask = false,
        bool probsAsOutput = false, int keyLength = 0)
    {
        var g = new ModelGraph { Opset = 13 };
        int lk = keyLength;
        g.Inputs.Add(new GraphValue("q", [GraphValue.Symbolic, lk == 0 ? GraphValue.Symbolic : 6, Width]));
        g.Inputs.Add(new GraphValue("k", [GraphValue.Symbolic, lk == 0 ? GraphValue.Symbolic : lk, Width]));
        g.Inputs.Add(new GraphValue("v", [GraphValue.Symbolic, lk == 0 ? GraphValue.Symbolic : lk, Width]));
        g.AddInitializer(new GraphTensor("split", [4], new long[] { 0, 0, Heads, Size }));
        g.AddInitializer(new GraphTensor("merge", [3], new long[] { 0, 0, Width }));
        g.AddInitializer(new GraphTensor("s", [], [scale == "div" ? MathF.Sqrt(Size) : 1f / MathF.Sqrt(Size)]));
        int count = 0;
        string N(string op, string[] inputs, params GraphAttribute[] attrs)
        {
            string name = $"{op}_{count++}";
            g.Nodes.Add(new GraphNode(name, op, inputs, [name], attrs, 13));
            return name;
        }
        GraphAttribute Perm(params long[] p) => GraphAttribute.Of("perm", p);
        string qh = N("Transpose", [N("Reshape", ["q", "split"])], Perm(0, 2, 1, 3));
        string kt = keys == "direct" ? N("Transpose", [N("Reshape", ["k", "split"])], Perm(0, 2, 3, 1))
            : N("Transpose", [N("Transpose", [N("Reshape", ["k", "split"])], Perm(0, 2, 1, 3))], Perm(0, 1, 3, 2));
        string vh = N("Transpose", [N("Reshape", ["v", "split"])], Perm(0, 2, 1, 3));
        string scores = N("MatMul", [qh, kt]);
        if (scale != "none") scores = N(scale == "div" ? "Div" : "Mul", [scores, "s"]);
        if (maskShape is not null)
        {
            if (constantMask) g.AddInitializer(new GraphTensor("mask", maskShape, TestData.Random(maskShape.Aggregate(1, (a, b) => a * b), 7, -3f, 0f)));
            else g.Inputs.Add(new GraphValue("mask", maskShape.Select(d => d == -1 ? GraphValue.Symbolic : d).ToArray()));
            scores = N("Add", ["mask", scores]); // mask first: the pass must find the scores either side
        }
        string probs = N("Softmax", [scores], GraphAttribute.Of("axis", -1L));
        string y = N("Reshape", [N("Transpose", [N("MatMul", [probs, vh])], Perm(0, 2, 1, 3)), "merge"]);
        g.Outputs.Add(new GraphValue(y, null));
        if (probsAsOutput) g.Outputs.Add(new GraphValue(probs, null));
        return g;
    }

    private static void AssertFusedMatches(ModelGraph g, int batch, int lq, int lk, Dictionary<string, Tensor>? extra = null, bool expectFused = true)
    {
        var fused = InferenceSession.Create(g);
        var plain = InferenceSession.Create(g, Unfused);
        Assert.Equal(expectFused ? 1 : 0, fused.Graph.Nodes.Count(n => n.OpType == GraphPasses.AttentionOp));
        var feeds = new Dictionary<string, Tensor>
        {
            ["q"] = Tensor.Random(1, [batch, lq, Width], -2f, 2f),
            ["k"] = Tensor.Random(2, [batch, lk, Width], -2f, 2f),
            ["v"] = Tensor.Random(3, [batch, lk, Width], -2f, 2f),
        };
        foreach (var (name, t) in extra ?? []) feeds[name] = t;
        var expected = plain.Run(feeds);
        var actual = fused.Run(feeds);
        foreach (var (output, y) in expected) KernelAssert.Close(y.ToArray(), actual[output].ToArray(), 32, output);
    }

    [Theory]
    [InlineData("mul", "direct")]
    [InlineData("div", "direct")]
    [InlineData("none", "direct")]
    [InlineData("mul", "twice")]
    public void Scale_forms_and_key_transposes_fuse(string scale, string keys)
    {
        foreach (var (b, l) in new[] { (1, 1), (2, 5), (1, 17), (3, 33) })
            AssertFusedMatches(Block(scale, keys), b, l, l);
    }

    [Fact]
    public void Masks_of_every_broadcast_form_fuse()
    {
        const int b = 2, l = 9;
        // BERT's [B, 1, 1, L], a per-query [B, 1, L, L], a causal constant [1, 1, L, L], one value per sequence [B, 1, 1, 1].
        AssertFusedMatches(Block(maskShape: [-1, 1, 1, -1]), b, l, l, new() { ["mask"] = Tensor.Random(4, [b, 1, 1, l], -5f, 0f) });
        AssertFusedMatches(Block(maskShape: [-1, 1, -1, -1]), b, l, l, new() { ["mask"] = Tensor.Random(5, [b, 1, l, l], -5f, 0f) });
        AssertFusedMatches(Block(maskShape: [1, 1, 6, 6], constantMask: true, keyLength: 6), b, 6, 6);
        AssertFusedMatches(Block(maskShape: [-1, 1, 1, 1]), b, l, l, new() { ["mask"] = Tensor.Random(6, [b, 1, 1, 1], -5f, 0f) });
    }

    [Fact]
    public void Cross_attention_reads_keys_of_another_length()
    {
        AssertFusedMatches(Block(keyLength: 11), 2, 6, 11);
        AssertFusedMatches(Block(keyLength: 1), 1, 6, 1);
    }

    [Fact]
    public void Attention_whose_probabilities_are_an_output_is_left_as_it_is()
    {
        AssertFusedMatches(Block(probsAsOutput: true), 2, 5, 5, expectFused: false);
        // A mask with one row per head cannot broadcast over heads in the fused kernel: left unfused as well.
        AssertFusedMatches(Block(maskShape: [-1, Heads, -1, -1]), 2, 5, 5, new() { ["mask"] = Tensor.Random(7, [2, Heads, 5, 5], -5f, 0f) }, expectFused: false);
    }

    [Fact]
    public void Fused_node_exports_as_standard_onnx_that_computes_the_same()
    {
        var g = Block(maskShape: [-1, 1, 1, -1]);
        var fused = InferenceSession.Create(g);
        var model = OnnxGraphExporter.ToModel(fused.Graph);
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == GraphPasses.AttentionOp);
        var reloaded = InferenceSession.Create(OnnxGraphImporter.ToGraph(model), Unfused);
        var feeds = new Dictionary<string, Tensor>
        {
            ["q"] = Tensor.Random(1, [2, 7, Width]), ["k"] = Tensor.Random(2, [2, 7, Width]), ["v"] = Tensor.Random(3, [2, 7, Width]),
            ["mask"] = Tensor.Random(4, [2, 1, 1, 7], -5f, 0f),
        };
        var expected = fused.Run(feeds);
        var actual = reloaded.Run(feeds);
        foreach (var (output, y) in expected) KernelAssert.Close(y.ToArray(), actual[output].ToArray(), 32, output);
    }

    /// <summary>Self-attention over projections of one input x [B, L, 7]: q, k, v = x·W + b each (k's weight pruned).</summary>
    private static ModelGraph Projected(bool crossKeys = false)
    {
        var g = Block();
        g.Inputs.Clear();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, GraphValue.Symbolic, 7]));
        if (crossKeys) g.Inputs.Add(new GraphValue("memory", [GraphValue.Symbolic, GraphValue.Symbolic, 7]));
        ulong seed = 20;
        foreach (string name in new[] { "q", "k", "v" })
        {
            var w = TestData.Random(7 * Width, seed++);
            if (name == "k") Lacuna.Pruning.Pruner.Magnitude(w, 0.9);
            g.AddInitializer(new GraphTensor(name + "_W", [7, Width], w));
            g.AddInitializer(new GraphTensor(name + "_b", [Width], TestData.Random(Width, seed++)));
            string input = crossKeys && name != "q" ? "memory" : "x";
            g.Nodes.Insert(0, new GraphNode(name + "_bias", "Add", [name + "_xw", name + "_b"], [name]));
            g.Nodes.Insert(0, new GraphNode(name + "_proj", "MatMul", [input, name + "_W"], [name + "_xw"]));
        }
        return g;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Projections_of_one_input_become_one_packed_qkv_product(bool crossKeys)
    {
        var g = Projected(crossKeys);
        var fused = InferenceSession.Create(g);
        var plain = InferenceSession.Create(g, Unfused);
        var attention = Assert.Single(fused.Graph.Nodes, n => n.OpType == GraphPasses.AttentionOp);
        // Cross-attention's keys and values come from another input: those projections stay separate.
        Assert.Equal(crossKeys ? 0 : 1, attention.Int("packed_qkv", 0));
        Assert.Equal(crossKeys ? 3 : 1, fused.Graph.Nodes.Count(n => n.OpType == "MatMul"));
        if (!crossKeys) Assert.DoesNotContain(fused.Graph.Initializers.Keys, k => k is "q_W" or "k_W" or "v_W"); // the parts' weights go
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.Random(1, [2, 9, 7], -2f, 2f) };
        if (crossKeys) feeds["memory"] = Tensor.Random(2, [2, 9, 7], -2f, 2f);
        var expected = plain.Run(feeds);
        foreach (var (output, y) in expected) KernelAssert.Close(y.ToArray(), fused.Run(feeds)[output].ToArray(), 32, output);
        // Exported with a Split in front of the heads, the file computes the same on the plain path.
        var reloaded = InferenceSession.Create(OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(fused.Graph)), Unfused);
        foreach (var (output, y) in expected) KernelAssert.Close(y.ToArray(), reloaded.Run(feeds)[output].ToArray(), 32, "re-imported " + output);
    }

    [Fact]
    public void Mismatched_shapes_at_run_time_name_the_node()
    {
        var session = InferenceSession.Create(Block());
        var feeds = new Dictionary<string, Tensor>
        {
            ["q"] = Tensor.Random(1, [1, 6, Width]), ["k"] = Tensor.Random(2, [1, 4, Width]), ["v"] = Tensor.Random(3, [1, 5, Width]),
        };
        var e = Assert.ThrowsAny<ShapeMismatchException>(() => session.Run(feeds));
        Assert.Contains("ScaledDotProductAttention node", e.Message);
        Assert.Contains("k and v of one length", e.Message);
    }
}
