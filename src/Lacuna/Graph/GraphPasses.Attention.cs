namespace Lacuna.Graph;

public static partial class GraphPasses
{
    /// <summary>Op type of the fused attention node (internal: the exporter writes the ONNX nodes back).</summary>
    public const string AttentionOp = "ScaledDotProductAttention";

    /// <summary>
    /// Multi-head attention as exporters write it, over token-major projections q, k, v [B, L, H·D]:
    /// <code>
    /// qh = Transpose(Reshape(q, [., ., H, D]), 0 2 1 3)          kt = Transpose(Reshape(k, ..), 0 2 3 1)
    ///                                                            (or Transpose(Transpose(Reshape(k, ..), 0 2 1 3), 0 1 3 2))
    /// p  = Softmax(MatMul(qh, kt) · s  [+ mask], axis −1)       (· s as Mul by s or Div by 1/s, or absent)
    /// y  = Reshape(Transpose(MatMul(p, vh), 0 2 1 3), [., ., H·D])   with vh like qh
    /// </code>
    /// becomes one <see cref="AttentionOp"/>(q, k, v, mask) node with num_heads H, head_size D and scale s, compiled to
    /// the fused per-head kernel reading the projections where they are: the four head transposes, the scale and mask
    /// passes and the score tensor's round trips through memory go. In a profiled BERT-base run at 1 thread (on a loaded
    /// machine) the 48 head transposes took 0.9 ms and scale and mask 1.2 ms of 76 ms. The mask must be rank 4 with one head ([B or 1, 1, Lq or 1, Lk]); the
    /// reshapes' target shapes constant, checked against the inferred shapes. Every intermediate must feed the next step
    /// alone and not be a graph output. Returns the number fused.
    /// </summary>
    public static int FuseAttention(ModelGraph g)
    {
        int fused = 0;
        Dictionary<string, int[]>? shapes = null;
        foreach (var softmax in g.Nodes.Where(n => n.OpType == "Softmax").ToList())
        {
            var m = new Matcher(g);
            if (softmax.Int("axis", softmax.Opset < 13 ? 1 : -1) is not (-1 or 3)) continue;
            var nodes = new List<GraphNode> { softmax };
            string scores = softmax.Inputs[0];
            string? mask = null;
            if (m.Producer(scores) is { OpType: "Add", Inputs.Count: 2 } add && m.Only(scores) == softmax)
            {
                int s = IsScores(m, add.Inputs[0]) ? 0 : 1;
                mask = add.Inputs[1 - s];
                scores = add.Inputs[s];
                nodes.Add(add);
            }
            float scale = 1f;
            if (m.Producer(scores) is { OpType: "Mul" or "Div", Inputs.Count: 2 } sc && m.Only(scores) == nodes[^1])
            {
                string product = sc.OpType == "Div" || m.Scalar(sc.Inputs[1]) is not null ? sc.Inputs[0] : sc.Inputs[1];
                if (m.OtherScalar(sc, product) is not { } factor || sc.OpType == "Div" && sc.Inputs[0] != product) continue;
                scale = sc.OpType == "Mul" ? factor : 1f / factor;
                scores = product;
                nodes.Add(sc);
            }
            if (m.Producer(scores) is not { OpType: "MatMul", Inputs.Count: 2 } qk || m.Only(scores) != nodes[^1]) continue;
            nodes.Add(qk);
            if (m.Only(softmax.Outputs[0]) is not { OpType: "MatMul", Inputs.Count: 2 } pv || pv.Inputs[0] != softmax.Outputs[0]) continue;
            if (m.Only(pv.Outputs[0]) is not { OpType: "Transpose" } back || back.Ints("perm") is not [0, 2, 1, 3]) continue;
            if (m.Only(back.Outputs[0]) is not { OpType: "Reshape" } merge || !IsConstantReshape(g, merge)) continue;
            nodes.AddRange([pv, back, merge]);
            var q = HeadSplit(g, m, qk.Inputs[0], qk, [0, 2, 1, 3], nodes);
            var k = HeadSplit(g, m, qk.Inputs[1], qk, [0, 2, 3, 1], nodes) ?? TransposedHeads(g, m, qk.Inputs[1], qk, nodes);
            var v = HeadSplit(g, m, pv.Inputs[1], pv, [0, 2, 1, 3], nodes);
            if (q is not { } qs || k is not { } ks || v is not { } vs) continue;
            if (ks.Count != qs.Count || vs.Count != qs.Count || ks.Size != qs.Size || vs.Size != qs.Size) continue;
            shapes ??= ConstantFolder.InferShapes(g);
            int width = qs.Count * qs.Size;
            if (!TokenMajor(shapes, qs, width, out var qShape) || !TokenMajor(shapes, ks, width, out var kShape) || !TokenMajor(shapes, vs, width, out var vShape)) continue;
            if (kShape[0] != qShape[0] || vShape[0] != qShape[0] || vShape[1] != kShape[1]) continue;
            if (!shapes.TryGetValue(merge.Outputs[0], out var y) || !y.SequenceEqual([qShape[0], qShape[1], width])) continue;
            int[]? ms = mask is null ? null : g.Initializers.TryGetValue(mask, out var mt) ? mt.Dims : shapes.GetValueOrDefault(mask);
            if (mask is not null && (ms is not [_, 1, _, _] || g.Initializers.TryGetValue(mask, out var c) && c.ElementType != GraphElementType.Float)) continue;
            if (nodes.Any(n => n != merge && m.IsGraphOutput(n.Outputs[0]))) continue;
            var attention = new GraphNode(softmax.Name + "/Attention", AttentionOp, [qs.Tokens, ks.Tokens, vs.Tokens, mask ?? ""], [merge.Outputs[0]],
                [GraphAttribute.Of("num_heads", (long)qs.Count), GraphAttribute.Of("head_size", (long)qs.Size), GraphAttribute.Of("scale", scale)], opset: 13);
            // Where the last node was: q, k, v and the mask are all computed before it.
            int at = g.Nodes.IndexOf(merge);
            g.Nodes.Insert(at, attention);
            foreach (var n in nodes) g.Nodes.Remove(n);
            fused++;
        }
        return fused;
    }

    /// <summary>
    /// The Q, K and V projections of a fused attention node, when they are token-linear MatMuls (bias fused, no
    /// epilogue) of one input X with weights of one shape [K, N] read by the attention alone, become one MatMul with
    /// the weights side by side [K, 3N] and the biases [3N]; the attention node reads Q, K and V as thirds of its
    /// rows (attribute packed_qkv). X is transposed once for the sparse product instead of three times, and the three
    /// planned layers are one. The unused weights go. Returns the number fused.
    /// </summary>
    public static int FuseQkvProjections(ModelGraph g)
    {
        int fused = 0;
        foreach (var a in g.Nodes.Where(n => n.OpType == AttentionOp && n.Int("packed_qkv", 0) == 0).ToList())
        {
            var m = new Matcher(g);
            if (a.Inputs.Take(3).Distinct().Count() != 3) continue;
            var p = a.Inputs.Take(3).Select(i => m.Producer(i)).ToArray();
            if (p.Any(n => n is not { OpType: "MatMul", Inputs.Count: 3 } || n.FusedActivation.Kind != Kernels.ActivationKind.None || n.FusedGelu is not null)) continue;
            if (p.Any(n => n!.Inputs[0] != p[0]!.Inputs[0] || m.Only(n.Outputs[0]) != a)) continue;
            var w = p.Select(n => g.Initializers.GetValueOrDefault(n!.Inputs[1])).ToArray();
            var b = p.Select(n => g.Initializers.GetValueOrDefault(n!.Inputs[2])).ToArray();
            if (w.Any(t => t is not { ElementType: GraphElementType.Float, Dims: [_, _] } || !t.Dims.SequenceEqual(w[0]!.Dims))) continue;
            int k = w[0]!.Dims[0], n3 = w[0]!.Dims[1];
            if (b.Any(t => t is not { ElementType: GraphElementType.Float } || t.Length != n3)) continue;
            var weights = new float[(long)k * 3 * n3];
            var bias = new float[3 * n3];
            for (int part = 0; part < 3; part++)
            {
                float[] src = w[part]!.AsFloats();
                for (int row = 0; row < k; row++) Array.Copy(src, (long)row * n3, weights, (long)row * 3 * n3 + part * n3, n3);
                Array.Copy(b[part]!.AsFloats(), 0, bias, part * n3, n3);
            }
            string wName = Unique(g, p[0]!.Name + "_qkv_W"), bName = Unique(g, p[0]!.Name + "_qkv_B");
            g.AddInitializer(new GraphTensor(wName, [k, 3 * n3], weights));
            g.AddInitializer(new GraphTensor(bName, [3 * n3], bias));
            var qkv = new GraphNode(p[0]!.Name + "/qkv", "MatMul", [p[0]!.Inputs[0], wName, bName], [p[0]!.Outputs[0] + "_qkv"], p[0]!.Attributes, p[0]!.Opset);
            g.Nodes.Insert(p.Min(n => g.Nodes.IndexOf(n!)), qkv);
            foreach (var n in p) g.Nodes.Remove(n!);
            for (int i = 0; i < 3; i++) a.Inputs[i] = qkv.Outputs[0];
            a.Set(GraphAttribute.Of("packed_qkv", 1L));
            fused++;
        }
        if (fused > 0) RemoveUnusedInitializers(g);
        return fused;
    }

    /// <summary>A projection [B, L, H·D] (<paramref name="Tokens"/>) split into H = <paramref name="Count"/> heads of D = <paramref name="Size"/>.</summary>
    private readonly record struct SplitHeads(string Tokens, int Count, int Size);

    /// <summary>Q·Kᵀ, or Q·Kᵀ scaled by a constant: the operand of the mask's Add that is not the mask.</summary>
    private static bool IsScores(Matcher m, string value) => m.Producer(value) switch
    {
        { OpType: "MatMul" } => true,
        { OpType: "Mul" or "Div", Inputs.Count: 2 } sc => sc.Inputs.Any(i => m.Producer(i) is { OpType: "MatMul" }) && sc.Inputs.Any(i => m.Scalar(i) is not null),
        _ => false,
    };

    /// <summary><paramref name="value"/> = Transpose(Reshape(tokens, [., ., H, D]), perm), read by <paramref name="user"/> alone.</summary>
    private static SplitHeads? HeadSplit(ModelGraph g, Matcher m, string value, GraphNode user, int[] perm, List<GraphNode> nodes)
    {
        if (m.Producer(value) is not { OpType: "Transpose" } t || m.Only(value) != user || t.Ints("perm") is not { } tp || !tp.SequenceEqual(perm.Select(p => (long)p))) return null;
        if (m.Producer(t.Inputs[0]) is not { OpType: "Reshape" } r || m.Only(t.Inputs[0]) != t || !IsConstantReshape(g, r)) return null;
        if (g.Initializers[r.Inputs[1]].AsInt64s() is not [_, _, > 0 and var h, > 0 and var d]) return null;
        nodes.AddRange([t, r]);
        return new SplitHeads(r.Inputs[0], (int)h, (int)d);
    }

    /// <summary>Kᵀ written as the head-major keys transposed again: Transpose(Transpose(Reshape(k), 0 2 1 3), 0 1 3 2).</summary>
    private static SplitHeads? TransposedHeads(ModelGraph g, Matcher m, string value, GraphNode user, List<GraphNode> nodes)
    {
        if (m.Producer(value) is not { OpType: "Transpose" } t || m.Only(value) != user || t.Ints("perm") is not [0, 1, 3, 2]) return null;
        var found = new List<GraphNode>();
        if (HeadSplit(g, m, t.Inputs[0], t, [0, 2, 1, 3], found) is not { } heads) return null;
        nodes.Add(t);
        nodes.AddRange(found);
        return heads;
    }

    /// <summary>The projection is [B, L, width] and its head split gives [B, L, H, D] (at the inferred shapes).</summary>
    private static bool TokenMajor(Dictionary<string, int[]> shapes, SplitHeads h, int width, out int[] shape)
    {
        shape = shapes.GetValueOrDefault(h.Tokens) ?? [];
        return shape.Length == 3 && shape[2] == width;
    }
}
