using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Kernels.Elementwise;

namespace Lacuna.Onnx.Import;

/// <summary>
/// Writes a <see cref="ModelGraph"/> as a standard ONNX model (float initializers as raw little-endian bytes).
/// A fused epilogue is written back as its own Relu/Clip node, a fused residual as an Add, and a fused channel shuffle as its three nodes, so any
/// ONNX runtime can read the result.
/// </summary>
public static class OnnxGraphExporter
{
    public static OnnxModel ToModel(ModelGraph g, string producer = "lacuna")
    {
        if (g is null) throw new ArgumentNullException(nameof(g));
        var graph = new GraphProto { Name = g.Name };
        foreach (var v in g.Inputs) graph.Input.Add(ToValueInfo(v));
        foreach (var v in g.Outputs) graph.Output.Add(ToValueInfo(v));
        foreach (var t in g.Initializers.Values) graph.Initializer.Add(ToProto(t));
        foreach (var node in g.Nodes)
        {
            var n = node;
            if (n.OpType == "ChannelShuffle")
            {
                // Lacuna's fused shuffle is not an ONNX operator: written back as the Reshape-Transpose-Reshape it came from.
                string split = n.Name + "_split", shuffled = n.Name + "_shuffled";
                graph.Node.Add(new NodeProto("Reshape", n.Name + "_reshape_split", [n.Inputs[0], n.Inputs[1]], [split]));
                graph.Node.Add(new NodeProto("Transpose", n.Name, [split], [shuffled], AttributeProto.IntList("perm", [0, 2, 1, 3, 4])));
                graph.Node.Add(new NodeProto("Reshape", n.Name + "_reshape_merge", [shuffled, n.Inputs[2]], [.. n.Outputs]));
                continue;
            }
            if (n.OpType == GraphPasses.AttentionOp)
            {
                WriteAttention(graph, n, g.Opset);
                continue;
            }
            var attributes = n.Attributes.Select(ToProto).ToArray();
            NodeProto? trailer = null;
            if (n.FusedGelu is { } gelu)
            {
                // A fused Gelu (GraphPasses.FuseGeluIntoMatMul, always on a MatMul with its bias fused): MatMul, Add, Gelu.
                string product = n.Outputs[0] + "_matmul", biased = n.Outputs[0] + "_pregelu";
                graph.Node.Add(new NodeProto("MatMul", n.Name, [n.Inputs[0], n.Inputs[1]], [product], attributes));
                graph.Node.Add(new NodeProto("Add", n.Name + "_bias", [product, n.Inputs[2]], [biased]));
                WriteGelu(graph, n.Name + "_gelu", biased, n.Outputs[0], gelu == GeluApproximation.Tanh, g.Opset);
                continue;
            }
            if (n.OpType == "Gelu" && g.Opset < 20)
            {
                WriteGelu(graph, n.Name, n.Inputs[0], n.Outputs[0], n.String("approximate", "none") == "tanh", g.Opset);
                continue;
            }
            if (n.OpType == "MatMul" && n.Inputs.Count == 3)
            {
                // A fused bias (GraphPasses.FuseMatMulBias) is not ONNX MatMul's: written back as MatMul + Add.
                string product = n.Outputs[0] + "_matmul";
                graph.Node.Add(new NodeProto("MatMul", n.Name, [n.Inputs[0], n.Inputs[1]], [product], attributes));
                n = new GraphNode(n.Name + "_bias", "Add", [product, n.Inputs[2]], [.. n.Outputs]) { FusedActivation = n.FusedActivation };
                attributes = [];
            }
            if (n.FusedPost is { Kind: not PostActivationKind.None } post)
            {
                // A fused post-activation (GraphPasses.FuseActivations) is written back as the node after the Conv (and its Relu/Clip).
                string before = n.Outputs[0] + "_prepost";
                var postAttributes = post.Kind == PostActivationKind.HardSigmoid
                    ? new[] { AttributeProto.Float("alpha", post.Alpha), AttributeProto.Float("beta", post.Beta) } : [];
                trailer = new NodeProto(post.OpType, n.Name + "_" + post.OpType.ToLowerInvariant(), [before], [n.Outputs[0]], postAttributes);
                n = new GraphNode(n.Name, n.OpType, [.. n.Inputs], [before, .. n.Outputs.Skip(1)], n.Attributes, n.Opset) { FusedActivation = n.FusedActivation };
            }
            if (GraphPasses.HasResidual(n))
            {
                // A fused residual (GraphPasses.FuseResidualAdds) is not ONNX Conv's: written back as Conv + Add.
                string conv = n.Outputs[0] + "_conv";
                graph.Node.Add(new NodeProto("Conv", n.Name, [.. n.Inputs.Take(GraphPasses.ConvResidualInput)], [conv], attributes));
                n = new GraphNode(n.Name + "_residual", "Add", [conv, n.Inputs[GraphPasses.ConvResidualInput]], [.. n.Outputs]) { FusedActivation = n.FusedActivation };
                attributes = [];
            }
            if (n.FusedActivation.Kind == ActivationKind.None)
                graph.Node.Add(new NodeProto(n.OpType, n.Name, [.. n.Inputs], [.. n.Outputs], attributes));
            else
            {
                string pre = n.Outputs[0] + "_prefused";
                graph.Node.Add(new NodeProto(n.OpType, n.Name, [.. n.Inputs], [pre, .. n.Outputs.Skip(1)], attributes));
                var a = n.FusedActivation;
                if (a.Kind == ActivationKind.Relu)
                    graph.Node.Add(new NodeProto("Relu", n.Name + "_relu", [pre], [n.Outputs[0]]));
                else
                {
                    string min = n.Name + "_clip_min", max = n.Name + "_clip_max";
                    graph.Initializer.Add(TensorProto.FromFloats(min, [], [a.Min]));
                    graph.Initializer.Add(TensorProto.FromFloats(max, [], [a.Max]));
                    graph.Node.Add(new NodeProto("Clip", n.Name + "_clip", [pre, min, max], [n.Outputs[0]]));
                }
            }
            if (trailer is not null) graph.Node.Add(trailer); // after the nodes that produce its input
        }
        var model = new ModelProto { IrVersion = 8, ProducerName = producer, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto("", g.Opset));
        foreach (var kv in g.Metadata) model.MetadataProps.Add(new StringStringEntryProto(kv.Key, kv.Value));
        return new OnnxModel(model);
    }

    /// <summary>
    /// The fused attention node (<see cref="GraphPasses.FuseAttention"/>) as the ONNX nodes it stands for: each projection
    /// reshaped to [., ., H, D] and transposed into heads (keys straight to Kᵀ), MatMul, Mul by the scale, Add of the mask,
    /// Softmax on the last axis, MatMul by V, and the heads merged back to [., ., H·D].
    /// </summary>
    private static void WriteAttention(GraphProto graph, GraphNode n, long opset)
    {
        long heads = n.Int("num_heads", 0), size = n.Int("head_size", 0);
        string P(string part) => n.Name + "_" + part;
        graph.Initializer.Add(TensorProto.FromInt64s(P("head_shape"), [4], [0, 0, heads, size]));
        graph.Initializer.Add(TensorProto.FromInt64s(P("merge_shape"), [3], [0, 0, heads * size]));
        graph.Initializer.Add(TensorProto.FromFloats(P("scale"), [], [n.Float("scale", 1f)]));
        string Add(string op, string name, string[] inputs, params AttributeProto[] attributes)
        {
            graph.Node.Add(new NodeProto(op, P(name), inputs, [P(name)], attributes));
            return P(name);
        }
        string Heads(string x, string tag, params long[] perm) =>
            Add("Transpose", tag + "_heads", [Add("Reshape", tag + "_split", [x, P("head_shape")])], AttributeProto.IntList("perm", perm));
        string[] qkv = [n.Inputs[0], n.Inputs[1], n.Inputs[2]];
        if (n.Int("packed_qkv", 0) == 1)
        {
            // One [., ., 3·H·D] projection (GraphPasses.FuseQkvProjections): split into Q, K and V first.
            long width = heads * size;
            qkv = [P("q_part"), P("k_part"), P("v_part")];
            if (opset >= 13)
            {
                graph.Initializer.Add(TensorProto.FromInt64s(P("qkv_split"), [3], [width, width, width]));
                graph.Node.Add(new NodeProto("Split", P("qkv"), [n.Inputs[0], P("qkv_split")], qkv, [AttributeProto.Int("axis", -1)]));
            }
            else graph.Node.Add(new NodeProto("Split", P("qkv"), [n.Inputs[0]], qkv, [AttributeProto.Int("axis", -1), AttributeProto.IntList("split", width, width, width)]));
        }
        string q = Heads(qkv[0], "q", 0, 2, 1, 3), kt = Heads(qkv[1], "k", 0, 2, 3, 1), v = Heads(qkv[2], "v", 0, 2, 1, 3);
        string scores = Add("Mul", "scores", [Add("MatMul", "qk", [q, kt]), P("scale")]);
        if (n.Inputs.Count > 3 && n.Inputs[3].Length > 0) scores = Add("Add", "masked", [scores, n.Inputs[3]]);
        string context = Add("MatMul", "context", [Add("Softmax", "probs", [scores], AttributeProto.Int("axis", -1)), v]);
        string merged = Add("Transpose", "context_t", [context], AttributeProto.IntList("perm", 0, 2, 1, 3));
        graph.Node.Add(new NodeProto("Reshape", P("merge"), [merged, P("merge_shape")], [.. n.Outputs]));
    }

    /// <summary>
    /// Gelu (a fused node's, or one <see cref="GraphPasses.FuseGelu"/> made) as a model of this opset can hold it: the
    /// Gelu operator from opset 20, before that the form exporters write, x·0.5·(1 + erf(x/√2)) or
    /// x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    /// </summary>
    private static void WriteGelu(GraphProto graph, string name, string x, string y, bool tanh, long opset)
    {
        if (opset >= 20)
        {
            graph.Node.Add(new NodeProto("Gelu", name, [x], [y], [AttributeProto.String("approximate", tanh ? "tanh" : "none")]));
            return;
        }
        string Constant(string part, float value)
        {
            graph.Initializer.Add(TensorProto.FromFloats(name + "_" + part, [], [value]));
            return name + "_" + part;
        }
        string Add(string op, string part, params string[] inputs)
        {
            graph.Node.Add(new NodeProto(op, name + "_" + part, inputs, [name + "_" + part]));
            return name + "_" + part;
        }
        string f = tanh
            ? Add("Tanh", "tanh", Add("Mul", "inner", Constant("c", MathF.Sqrt(2f / MathF.PI)),
                Add("Add", "cubic_sum", x, Add("Mul", "cubic_term", Constant("k", 0.044715f), Add("Pow", "cube", x, Constant("three", 3f))))))
            : Add("Erf", "erf", Add("Div", "scaled", x, Constant("sqrt2", MathF.Sqrt(2f))));
        string half = Add("Mul", "half", x, Constant("half_c", 0.5f));
        graph.Node.Add(new NodeProto("Mul", name + "_out", [half, Add("Add", "one_plus", f, Constant("one", 1f))], [y]));
    }

    private static ValueInfoProto ToValueInfo(GraphValue v)
    {
        var type = v.ElementType switch { GraphElementType.Int64 => TensorDataType.Int64, GraphElementType.Bool => TensorDataType.Bool, _ => TensorDataType.Float };
        if (v.Shape is null)
            return new ValueInfoProto { Name = v.Name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = type } } };
        // Each symbolic dimension keeps its name (batch, sequence); unnamed ones after the first get d1, d2, ...
        return ValueInfoProto.Tensor(v.Name, type, v.Shape.Select((d, i) => d == GraphValue.Symbolic
            ? (object)(v.DimParams is { } p && i < p.Length && p[i] is { } name ? name : i == 0 ? v.BatchParam ?? "N" : $"d{i}") : d).ToArray());
    }

    public static TensorProto ToProto(GraphTensor t)
    {
        long[] dims = t.Dims.Select(d => (long)d).ToArray();
        return t.Floats is not null ? TensorProto.FromFloats(t.Name, dims, t.Floats) : TensorProto.FromInt64s(t.Name, dims, t.Int64s!);
    }

    private static AttributeProto ToProto(GraphAttribute a) => a.Kind switch
    {
        GraphAttributeKind.Int => AttributeProto.Int(a.Name, a.Int),
        GraphAttributeKind.Float => AttributeProto.Float(a.Name, a.Float),
        GraphAttributeKind.String => AttributeProto.String(a.Name, a.String),
        GraphAttributeKind.Ints => AttributeProto.IntList(a.Name, a.Ints!),
        GraphAttributeKind.Floats => AttributeProto.FloatList(a.Name, a.Floats!),
        GraphAttributeKind.Strings => AttributeProto.StringList(a.Name, a.Strings!),
        _ => AttributeProto.Tensor(a.Name, ToProto(a.Tensor!)),
    };
}
