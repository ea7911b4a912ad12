using Lacuna.Tensors;

namespace Lacuna.Onnx.Zoo;

/// <summary>
/// Builds a <see cref="TransformerSpec"/> encoder as a standard ONNX graph (opset 17) that ONNX Runtime runs as is:
/// Gather embeddings, Shape/Gather/Unsqueeze/Slice for the position table at the run-time sequence length, MatMul +
/// Add linear layers (weight initializers [in, out]), Reshape/Transpose head split, MatMul/Mul/Add/Softmax(−1)/MatMul
/// attention, LayerNormalization (opset 17), Gelu in the Erf form exporters write (x·½·(1 + erf(x/√2))), Tanh pooler.
/// Batch is the symbol <c>batch</c>; the sequence length is the symbol <c>seq</c> or a fixed number.
/// Linear layers are <see cref="ZooLayer"/>s of kind <see cref="ZooLayerKind.MatMul"/> (Dims [out, in], the layout
/// pruning and DLMC use), transposed into the initializer at <see cref="Finish"/>.
/// </summary>
internal sealed class TransformerGraphBuilder
{
    public const int Opset = 17;
    public const string BatchDim = "batch", SeqDim = "seq";

    private readonly GraphProto _graph;
    private readonly TransformerSpec _spec;
    private readonly object _seq; // "seq" or a fixed length
    private readonly int _tokens; // for FLOP counts: the fixed length or 128
    private DeterministicRandom _rng;
    private readonly List<object> _initializers = []; // TensorProto, or ZooLayer materialized at Finish
    private readonly List<ZooLayer> _layers = [];
    private long _parameters, _attentionMacs;
    private int _constants;
    private readonly bool _withWeights;
    private readonly ZooInitializers _tensors;

    /// <param name="withWeights">false: shape-only, every weight an external-data reference into a file that is never
    /// written (as <see cref="OnnxGraphBuilder"/> does), for listing and counting without generating the values</param>
    public TransformerGraphBuilder(string name, TransformerSpec spec, ulong seed, int? sequenceLength, bool withWeights = true)
    {
        _withWeights = withWeights;
        _graph = new GraphProto { Name = name };
        _tensors = new ZooInitializers(name);
        _spec = spec;
        _seq = sequenceLength is int s ? s : SeqDim;
        _tokens = sequenceLength ?? 128;
        _rng = new DeterministicRandom(seed);
    }

    public IReadOnlyList<ZooLayer> Layers => _layers;

    /// <summary>The whole encoder; returns the model with weights still in the layers (pruning and DLMC come next).</summary>
    public void Build()
    {
        var s = _spec;
        string ids = Input("input_ids");
        string x;
        string? mask = null;
        if (s.Family == TransformerFamily.Bert)
        {
            string tokenTypes = Input("token_type_ids");
            string attention = Input("attention_mask");
            x = Node("Gather", "embeddings.word", [Table("embeddings.word_embeddings.weight", s.Vocab, 0.02f), ids]);
            x = Node("Add", "embeddings.add_position", [x, Positions(ids, Table("embeddings.position_embeddings.weight", s.MaxPositions, 0.02f))]);
            x = Node("Add", "embeddings.add_token_type", [x, Node("Gather", "embeddings.token_type", [Table("embeddings.token_type_embeddings.weight", 2, 0.02f), tokenTypes])]);
            x = LayerNorm(x, "embeddings.LayerNorm");
            // The extended mask of BERT: (1 − mask) · −10000, [batch, 1, 1, seq].
            string m = Node("Cast", "mask.cast", [attention], Attr.Int("to", (long)TensorDataType.Float));
            m = Node("Mul", "mask.scale", [Node("Sub", "mask.invert", [Scalar(1f), m]), Scalar(-10000f)]);
            mask = Node("Unsqueeze", "mask.unsqueeze", [m, Int64s([1, 2])]);
        }
        else
        {
            x = Node("Gather", "embeddings.word", [Table("embeddings.weight", s.Vocab, 1f / MathF.Sqrt(s.Hidden)), ids]);
            x = Node("Mul", "embeddings.scale", [x, Scalar(MathF.Sqrt(s.Hidden))]);
            x = Node("Add", "embeddings.add_position", [x, Positions(ids, Sinusoids("embeddings.sinusoids", s.MaxPositions, s.Hidden))]);
        }
        for (int i = 0; i < s.Layers; i++) x = EncoderLayer(x, i, mask);
        if (s.Family == TransformerFamily.Bert)
        {
            Output(Node("Identity", "last_hidden_state", [x]), "last_hidden_state", BatchDim, _seq, s.Hidden);
            string first = Node("Gather", "pooler.first_token", [x, Int64Scalar(0)], Attr.Int("axis", 1));
            Output(Node("Tanh", "pooler_output", [Linear(first, "pooler.dense", s.Hidden, s.Hidden, 0.02f, tokens: 1)]), "pooler_output", BatchDim, s.Hidden);
        }
        else Output(Node("Identity", "encoder_output", [x]), "encoder_output", BatchDim, _seq, s.Hidden);
    }

    private string EncoderLayer(string x, int i, string? mask)
    {
        var s = _spec;
        bool bert = s.Family == TransformerFamily.Bert;
        string p = bert ? $"encoder.layer.{i}" : $"encoder.layer{i}";
        float std = bert ? 0.02f : 1f / MathF.Sqrt(s.Hidden);
        string q = Linear(x, bert ? $"{p}.attention.self.query" : $"{p}.self_attention.q", s.Hidden, s.Hidden, std);
        string k = Linear(x, bert ? $"{p}.attention.self.key" : $"{p}.self_attention.k", s.Hidden, s.Hidden, std);
        string v = Linear(x, bert ? $"{p}.attention.self.value" : $"{p}.self_attention.v", s.Hidden, s.Hidden, std);
        long[] headShape = [0, 0, s.Heads, s.HeadSize];
        q = Node("Transpose", $"{p}.q_heads", [Node("Reshape", $"{p}.q_split", [q, Int64s(headShape)])], Attr.Ints("perm", 0, 2, 1, 3));
        k = Node("Transpose", $"{p}.k_heads_t", [Node("Reshape", $"{p}.k_split", [k, Int64s(headShape)])], Attr.Ints("perm", 0, 2, 3, 1));
        v = Node("Transpose", $"{p}.v_heads", [Node("Reshape", $"{p}.v_split", [v, Int64s(headShape)])], Attr.Ints("perm", 0, 2, 1, 3));
        string scores = Node("Mul", $"{p}.scores", [Node("MatMul", $"{p}.qk", [q, k]), Scalar(1f / MathF.Sqrt(s.HeadSize))]);
        if (mask is not null) scores = Node("Add", $"{p}.masked", [scores, mask]);
        string probs = Node("Softmax", $"{p}.probs", [scores], Attr.Int("axis", -1));
        string context = Node("MatMul", $"{p}.context", [probs, v]);
        context = Node("Reshape", $"{p}.merge", [Node("Transpose", $"{p}.context_t", [context], Attr.Ints("perm", 0, 2, 1, 3)), Int64s([0, 0, s.Hidden])]);
        _attentionMacs += 2L * _tokens * _tokens * s.Hidden;
        string attn = Linear(context, bert ? $"{p}.attention.output.dense" : $"{p}.self_attention.output_transform", s.Hidden, s.Hidden, std);
        x = LayerNorm(Node("Add", $"{p}.attention_residual", [attn, x]), bert ? $"{p}.attention.output.LayerNorm" : $"{p}.self_attention_norm");
        string h = Linear(x, bert ? $"{p}.intermediate.dense" : $"{p}.ffn.conv1", s.Ffn, s.Hidden, std);
        h = bert ? Gelu(h, $"{p}.intermediate.gelu") : Node("Relu", $"{p}.ffn.relu", [h]);
        string o = Linear(h, bert ? $"{p}.output.dense" : $"{p}.ffn.conv2", s.Hidden, s.Ffn, bert ? std : 1f / MathF.Sqrt(s.Ffn));
        return LayerNorm(Node("Add", $"{p}.ffn_residual", [o, x]), bert ? $"{p}.output.LayerNorm" : $"{p}.ffn_norm");
    }

    /// <summary>MatMul(x, Wᵀ) + b with W [out, in] as a <see cref="ZooLayer"/>, b small uniform.</summary>
    private string Linear(string x, string name, int outFeatures, int inFeatures, float std, int? tokens = null)
    {
        var layer = new ZooLayer(name, ZooLayerKind.MatMul, [outFeatures, inFeatures], 1, tokens ?? _tokens, 1, std);
        if (_withWeights)
        {
            var w = new float[layer.WeightCount];
            for (int i = 0; i < w.Length; i++) w[i] = (float)_rng.NextGaussian() * std;
            layer.Weights = w;
        }
        _layers.Add(layer);
        _initializers.Add(layer);
        _parameters += layer.WeightCount; // the bias counts in Vector
        string y = Node("MatMul", name, [x, layer.WeightName]);
        return Node("Add", name + ".add_bias", [y, Vector(name + ".bias", outFeatures, -0.01f, 0.01f)]);
    }

    private string LayerNorm(string x, string name)
    {
        string gamma = Vector(name + ".weight", _spec.Hidden, 0.9f, 1.1f);
        string beta = Vector(name + ".bias", _spec.Hidden, -0.05f, 0.05f);
        return Node("LayerNormalization", name, [x, gamma, beta], Attr.Int("axis", -1), Attr.Float("epsilon", _spec.LayerNormEpsilon));
    }

    /// <summary>Gelu as exporters write it: x · ½ · (1 + erf(x / √2)).</summary>
    private string Gelu(string x, string name)
    {
        string e = Node("Erf", name + ".erf", [Node("Div", name + ".div", [x, Scalar(MathF.Sqrt(2f))])]);
        return Node("Mul", name, [Node("Mul", name + ".mul", [x, Node("Add", name + ".add", [e, Scalar(1f)])]), Scalar(0.5f)]);
    }

    /// <summary>The first seq rows of a [positions, hidden] table, seq read from the ids' shape at run time.</summary>
    private string Positions(string ids, string table)
    {
        string seq = Node("Gather", "positions.seq_len", [Node("Shape", "positions.ids_shape", [ids]), Int64Scalar(1)], Attr.Int("axis", 0));
        string end = Node("Unsqueeze", "positions.end", [seq, Int64s([0])]);
        return Node("Slice", "positions.rows", [table, Int64s([0]), end, Int64s([0])]);
    }

    private string Table(string name, int rows, float std)
    {
        long count = (long)rows * _spec.Hidden;
        float[]? values = null;
        if (_withWeights)
        {
            values = new float[count];
            for (int i = 0; i < values.Length; i++) values[i] = (float)_rng.NextGaussian() * std;
        }
        _initializers.Add(Floats(name, [rows, _spec.Hidden], values));
        _parameters += count;
        return name;
    }

    /// <summary>The fixed sinusoidal position table of Vaswani et al.: sin on even, cos on odd features.</summary>
    private string Sinusoids(string name, int rows, int hidden)
    {
        var values = new float[(long)rows * hidden];
        for (int pos = 0; pos < rows; pos++)
            for (int i = 0; i < hidden; i++)
            {
                double angle = pos / Math.Pow(10000, 2 * (i / 2) / (double)hidden);
                values[pos * hidden + i] = (float)(i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        _initializers.Add(TensorProto.FromFloats(name, [rows, hidden], values));
        return name;
    }

    private string Vector(string name, int length, float min, float max)
    {
        float[]? values = null;
        if (_withWeights)
        {
            values = new float[length];
            _rng.Fill(values, min, max);
        }
        _initializers.Add(Floats(name, [length], values));
        _parameters += length;
        return name;
    }

    private string Scalar(float value)
    {
        string name = $"const.{_constants++}";
        _initializers.Add(TensorProto.FromFloats(name, [], [value]));
        return name;
    }

    private string Int64Scalar(long value)
    {
        string name = $"const.{_constants++}";
        _initializers.Add(TensorProto.FromInt64s(name, [], [value]));
        return name;
    }

    private string Int64s(long[] values)
    {
        string name = $"const.{_constants++}";
        _initializers.Add(TensorProto.FromInt64s(name, [values.Length], values));
        return name;
    }

    private string Input(string name)
    {
        _graph.Input.Add(ValueInfoProto.Tensor(name, TensorDataType.Int64, BatchDim, _seq));
        return name;
    }

    private void Output(string value, string name, params object[] dims)
    {
        if (value != name) throw new InvalidOperationException($"output '{name}' must be a node of that name.");
        _graph.Output.Add(ValueInfoProto.Tensor(name, TensorDataType.Float, dims));
    }

    /// <summary>Adds a node named <paramref name="name"/> whose one output is also named <paramref name="name"/>.</summary>
    private string Node(string op, string name, string[] inputs, params AttributeProto[] attributes)
    {
        _graph.Node.Add(new NodeProto(op, name, inputs, [name], attributes));
        return name;
    }

    /// <summary>Writes the initializers (linear weights transposed to MatMul's [in, out]) and wraps the graph.</summary>
    public ZooModel Finish(string modelName)
    {
        foreach (var item in _initializers)
        {
            if (item is TensorProto t) { _graph.Initializer.Add(t); continue; }
            var layer = (ZooLayer)item;
            int outF = (int)layer.Dims[0], inF = (int)layer.Dims[1];
            if (layer.Weights is not { } w)
            {
                _graph.Initializer.Add(Floats(layer.WeightName, [inF, outF], null));
                continue;
            }
            var transposed = new float[w.Length];
            for (int o = 0; o < outF; o++)
                for (int i = 0; i < inF; i++) transposed[i * outF + o] = w[o * inF + i];
            _graph.Initializer.Add(TensorProto.FromFloats(layer.WeightName, [inF, outF], transposed));
            layer.Weights = null;
        }
        var proto = new ModelProto { IrVersion = 8, ProducerName = "lacuna-zoo", Graph = _graph };
        proto.OpsetImport.Add(new OperatorSetIdProto("", Opset));
        long flops = 2 * (_layers.Sum(l => l.MacsPerImage) + _attentionMacs);
        return new ZooModel(modelName, new OnnxModel(proto), _layers.ToArray(), _parameters, flops);
    }

    private TensorProto Floats(string name, long[] dims, float[]? values) => _tensors.Floats(name, dims, values);

    /// <summary>Attribute helpers with short names.</summary>
    private static class Attr
    {
        public static AttributeProto Int(string name, long value) => AttributeProto.Int(name, value);
        public static AttributeProto Float(string name, float value) => AttributeProto.Float(name, value);
        public static AttributeProto Ints(string name, params long[] values) => AttributeProto.IntList(name, values);
    }
}
