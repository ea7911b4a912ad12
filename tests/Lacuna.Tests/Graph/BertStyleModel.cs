using Lacuna.Onnx;

namespace Lacuna.Tests.Graph;

/// <summary>
/// A small BERT-style encoder written node by node as a PyTorch/Hugging Face export would write it (opset 13), not
/// through Lacuna's zoo: int64 input_ids, token_type_ids and attention_mask with symbolic batch and sequence axes;
/// word, position (Range over the run-time sequence length) and token-type embeddings; the extended attention mask
/// built with Unsqueeze, Cast, Sub and Mul; decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
/// Mul, Add); heads split with Reshape to Concat(Slice(Shape), [heads, d]) and Transpose; the erf form of Gelu (two
/// orders of the 0.5); layer 0 with separate Q, K, V projections, layer 1 with one fused QKV MatMul and Split; a Tanh
/// pooler on the first token. Outputs: last_hidden_state [B, S, H], pooler_output [B, H].
/// </summary>
internal static class BertStyleModel
{
    public const int Hidden = 32, Heads = 4, HeadDim = Hidden / Heads, Ffn = 64, Layers = 2, Vocab = 50, MaxPositions = 64, TypeVocab = 2;

    public static OnnxModel Build(int seed)
    {
        var b = new Writer(seed);
        var g = b.Graph;
        g.Input.Add(ValueInfoProto.Tensor("input_ids", TensorDataType.Int64, "batch", "sequence"));
        g.Input.Add(ValueInfoProto.Tensor("token_type_ids", TensorDataType.Int64, "batch", "sequence"));
        g.Input.Add(ValueInfoProto.Tensor("attention_mask", TensorDataType.Int64, "batch", "sequence"));

        // Embeddings: positions 0..S-1 from the run-time sequence length.
        string word = b.Node("Gather", [b.Weight("emb.word", Vocab, Hidden), "input_ids"]);
        string shape = b.Node("Shape", ["input_ids"]);
        string seqLen = b.Node("Gather", [shape, b.Int64s("one_scalar", [], 1)], AttributeProto.Int("axis", 0));
        string positions = b.Node("Range", [b.Int64s("zero", [], 0), seqLen, b.Int64s("step", [], 1)]);
        string posIds = b.Node("Unsqueeze", [positions, b.Int64s("axes0", [1], 0)]);
        string pos = b.Node("Gather", [b.Weight("emb.position", MaxPositions, Hidden), posIds]);
        string type = b.Node("Gather", [b.Weight("emb.type", TypeVocab, Hidden), "token_type_ids"]);
        string h = b.LayerNorm(b.Node("Add", [b.Node("Add", [word, pos]), type]), "emb.ln");

        // Extended mask [B, 1, 1, S]: (1 - mask) · -10000.
        string m = b.Node("Unsqueeze", [b.Node("Unsqueeze", ["attention_mask", b.Int64s("axes1", [1], 1)]), b.Int64s("axes2", [1], 2)]);
        string mf = b.Node("Cast", [m], AttributeProto.Int("to", (long)TensorDataType.Float));
        string mask = b.Node("Mul", [b.Node("Sub", [b.Scalar("one", 1f), mf]), b.Scalar("neg", -10000f)]);

        for (int l = 0; l < Layers; l++) h = b.EncoderLayer(h, mask, $"layer{l}", fusedQkv: l == 1);

        g.Output.Add(ValueInfoProto.Tensor("last_hidden_state", TensorDataType.Float, "batch", "sequence", Hidden));
        g.Output.Add(ValueInfoProto.Tensor("pooler_output", TensorDataType.Float, "batch", Hidden));
        g.Node.Add(new NodeProto("Identity", "out.hidden", [h], ["last_hidden_state"]));
        string first = b.Node("Gather", [h, b.Int64s("zero_index", [], 0)], AttributeProto.Int("axis", 1));
        string pooled = b.Node("Gemm", [first, b.Weight("pooler.w", Hidden, Hidden), b.Bias("pooler.b", Hidden)], AttributeProto.Int("transB", 1));
        g.Node.Add(new NodeProto("Tanh", "pooler.tanh", [pooled], ["pooler_output"]));
        var proto = new ModelProto { IrVersion = 7, ProducerName = "bert-style-test", Graph = g };
        proto.OpsetImport.Add(new OperatorSetIdProto("", 13));
        return new OnnxModel(proto);
    }

    private sealed class Writer(int seed)
    {
        private readonly Random _rng = new(seed);
        private int _count;
        public GraphProto Graph { get; } = new() { Name = "bert_style" };

        public string Node(string op, string[] inputs, params AttributeProto[] attributes)
        {
            string name = $"{op}_{_count++}";
            Graph.Node.Add(new NodeProto(op, name, inputs, [name], attributes));
            return name;
        }

        private float[] Random(int count, double scale, double offset = 0) =>
            Enumerable.Range(0, count).Select(_ => (float)(offset + scale * (2 * _rng.NextDouble() - 1))).ToArray();

        public string Weight(string name, int rows, int cols)
        {
            Graph.Initializer.Add(TensorProto.FromFloats(name, [rows, cols], Random(rows * cols, 0.3)));
            return name;
        }

        public string Bias(string name, int n, double offset = 0, double scale = 0.1)
        {
            Graph.Initializer.Add(TensorProto.FromFloats(name, [n], Random(n, scale, offset)));
            return name;
        }

        public string Scalar(string name, float v)
        {
            if (!Graph.Initializer.Any(t => t.Name == name)) Graph.Initializer.Add(TensorProto.FromFloats(name, [], [v]));
            return name;
        }

        public string Int64s(string name, long[] dims, params long[] values)
        {
            if (!Graph.Initializer.Any(t => t.Name == name)) Graph.Initializer.Add(TensorProto.FromInt64s(name, dims, values));
            return name;
        }

        /// <summary>PyTorch's pre-opset-17 LayerNorm: mean, centre, variance, ε, sqrt, divide, scale, shift.</summary>
        public string LayerNorm(string x, string name)
        {
            string mean = Node("ReduceMean", [x], AttributeProto.IntList("axes", -1));
            string d = Node("Sub", [x, mean]);
            string var = Node("ReduceMean", [Node("Pow", [d, Scalar("two", 2f)])], AttributeProto.IntList("axes", -1));
            string std = Node("Sqrt", [Node("Add", [var, Scalar("eps", 1e-12f)])]);
            string n = Node("Div", [d, std]);
            return Node("Add", [Node("Mul", [n, Bias(name + ".gamma", Hidden, 1, 0.2)]), Bias(name + ".beta", Hidden)]);
        }

        private string Linear(string x, string name, int k, int n) =>
            Node("Add", [Node("MatMul", [x, Weight(name + ".w", k, n)]), Bias(name + ".b", n)]);

        /// <summary>[B, S, H] → [B, heads, S, d] (or [B, heads, d, S] for keys) via Reshape to Concat(Slice(Shape(x), 0, 2), [heads, d]).</summary>
        private string SplitHeads(string x, bool keys)
        {
            string bs = Node("Slice", [Node("Shape", [x]), Int64s("start0", [1], 0), Int64s("end2", [1], 2)]);
            string target = Node("Concat", [bs, Int64s("heads_dims", [2], Heads, HeadDim)], AttributeProto.Int("axis", 0));
            return Node("Transpose", [Node("Reshape", [x, target])], AttributeProto.IntList("perm", keys ? [0, 2, 3, 1] : [0, 2, 1, 3]));
        }

        public string EncoderLayer(string h, string mask, string name, bool fusedQkv)
        {
            string q, k, v;
            if (fusedQkv)
            {
                string qkv = Linear(h, name + ".qkv", Hidden, 3 * Hidden);
                string s = $"{name}.split";
                Graph.Node.Add(new NodeProto("Split", s, [qkv, Int64s("split3", [3], Hidden, Hidden, Hidden)], [s + ".q", s + ".k", s + ".v"], AttributeProto.Int("axis", 2)));
                (q, k, v) = (s + ".q", s + ".k", s + ".v");
            }
            else (q, k, v) = (Linear(h, name + ".q", Hidden, Hidden), Linear(h, name + ".k", Hidden, Hidden), Linear(h, name + ".v", Hidden, Hidden));
            string scores = Node("Div", [Node("MatMul", [SplitHeads(q, false), SplitHeads(k, true)]), Scalar("sqrt_d", MathF.Sqrt(HeadDim))]);
            string probs = Node("Softmax", [Node("Add", [scores, mask])], AttributeProto.Int("axis", -1));
            string ctx = Node("Transpose", [Node("MatMul", [probs, SplitHeads(v, false)])], AttributeProto.IntList("perm", 0, 2, 1, 3));
            string bs = Node("Slice", [Node("Shape", [ctx]), Int64s("start0", [1], 0), Int64s("end2", [1], 2)]);
            string merged = Node("Reshape", [ctx, Node("Concat", [bs, Int64s("hidden_dim", [1], Hidden)], AttributeProto.Int("axis", 0))]);
            string attn = LayerNorm(Node("Add", [Linear(merged, name + ".o", Hidden, Hidden), h]), name + ".ln1");
            string up = Linear(attn, name + ".ffn1", Hidden, Ffn);
            string u = Node("Add", [Node("Erf", [Node("Div", [up, Scalar("sqrt2", MathF.Sqrt(2))])]), Scalar("one", 1f)]);
            // Layer 0: (x·u)·0.5 (PyTorch's F.gelu written out); layer 1: (x·0.5)·u (Hugging Face's gelu).
            string gelu = fusedQkv ? Node("Mul", [Node("Mul", [up, Scalar("half", 0.5f)]), u]) : Node("Mul", [Node("Mul", [up, u]), Scalar("half", 0.5f)]);
            string down = Linear(gelu, name + ".ffn2", Ffn, Hidden);
            return LayerNorm(Node("Add", [down, attn]), name + ".ln2");
        }
    }
}
