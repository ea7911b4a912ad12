using Lacuna.Tensors;

namespace Lacuna.Onnx.Zoo;

/// <summary>Sizes of a GNMT-style LSTM encoder.</summary>
/// <param name="Layers">LSTM layers; the first is bidirectional, residual connections from the third on.</param>
public sealed record GnmtSpec(int Layers, int Hidden, int Vocab, int MaxLength)
{
    /// <summary>GNMT's encoder as MLPerf's reference trains it (Wu et al. 2016): 4 layers of 1024, vocabulary 32,320.</summary>
    public static readonly GnmtSpec Encoder = new(4, 1024, 32320, 1024);

    /// <summary>The same layout at hidden 32, vocabulary 100, for tests.</summary>
    public static readonly GnmtSpec Tiny = new(4, 32, 100, 64);
}

/// <summary>
/// The GNMT encoder as a standard ONNX graph (opset 14) that ONNX Runtime runs as is: int64 <c>input_ids</c> [batch, seq]
/// → Gather embeddings → Transpose to [seq, batch, hidden] → a bidirectional LSTM (its two directions concatenated to
/// 2·hidden) → unidirectional LSTMs, each from the third on with a residual Add → Transpose back to
/// <c>encoder_output</c> [batch, seq, hidden]. LSTM weights W [D, 4H, in] and R [D, 4H, H] are <see cref="ZooLayer"/>s
/// of kind <see cref="ZooLayerKind.Recurrent"/> (Dims [D·4H, in], the matrix the pruners see, as the SpMM candidates
/// multiply it), so <c>--sparsity</c> and <c>--pattern</c> prune them; embeddings and biases stay dense.
/// </summary>
internal sealed class GnmtGraphBuilder
{
    public const int Opset = 14;
    public const string BatchDim = "batch", SeqDim = "seq";

    private readonly GraphProto _graph;
    private readonly GnmtSpec _spec;
    private readonly object _seq;
    private readonly int _tokens;
    private readonly bool _withWeights;
    private DeterministicRandom _rng;
    private readonly List<object> _initializers = [];
    private readonly List<ZooLayer> _layers = [];
    private readonly Dictionary<ZooLayer, long[]> _onnxDims = [];
    private readonly ZooInitializers _tensors;
    private long _parameters;
    private int _constants;

    public GnmtGraphBuilder(string name, GnmtSpec spec, ulong seed, int? sequenceLength, bool withWeights = true)
    {
        _graph = new GraphProto { Name = name };
        _tensors = new ZooInitializers(name);
        _spec = spec;
        _seq = sequenceLength is int s ? s : SeqDim;
        _tokens = sequenceLength ?? 32;
        _withWeights = withWeights;
        _rng = new DeterministicRandom(seed);
    }

    public IReadOnlyList<ZooLayer> Layers => _layers;

    public void Build()
    {
        var s = _spec;
        _graph.Input.Add(ValueInfoProto.Tensor("input_ids", TensorDataType.Int64, BatchDim, _seq));
        string x = Node("Gather", "embedder", [Table("embedder.weight", s.Vocab, s.Hidden), "input_ids"]);
        x = Node("Transpose", "time_major", [x], AttributeProto.IntList("perm", 1, 0, 2));
        // Layer 0: bidirectional; Y [seq, 2, batch, H] → [seq, batch, 2H].
        string y = Lstm(x, "rnn_layers.0", s.Hidden, s.Hidden, bidirectional: true);
        y = Node("Transpose", "rnn_layers.0.directions_last", [y], AttributeProto.IntList("perm", 0, 2, 1, 3));
        x = Node("Reshape", "rnn_layers.0.concat", [y, Int64s([0, 0, 2 * s.Hidden])]);
        for (int i = 1; i < s.Layers; i++)
        {
            int input = i == 1 ? 2 * s.Hidden : s.Hidden;
            y = Node("Squeeze", $"rnn_layers.{i}.squeeze", [Lstm(x, $"rnn_layers.{i}", input, s.Hidden, bidirectional: false), Int64s([1])]);
            x = i >= 2 ? Node("Add", $"rnn_layers.{i}.residual", [y, x]) : y;
        }
        x = Node("Transpose", "encoder_output", [x], AttributeProto.IntList("perm", 1, 0, 2));
        _graph.Output.Add(ValueInfoProto.Tensor("encoder_output", TensorDataType.Float, BatchDim, _seq, s.Hidden));
    }

    /// <summary>An LSTM over [seq, batch, input]; returns Y [seq, D, batch, H]. Weights uniform in ±1/√H (PyTorch's init).</summary>
    private string Lstm(string x, string name, int input, int hidden, bool bidirectional)
    {
        int d = bidirectional ? 2 : 1;
        float bound = 1f / MathF.Sqrt(hidden);
        var w = Weight(name + ".W", [d, 4 * hidden, input], bound);
        var r = Weight(name + ".R", [d, 4 * hidden, hidden], bound);
        string b = Uniform(name + ".B", [d, 8 * hidden], bound);
        var attrs = new List<AttributeProto> { AttributeProto.Int("hidden_size", hidden) };
        if (bidirectional) attrs.Add(AttributeProto.String("direction", "bidirectional"));
        _graph.Node.Add(new NodeProto("LSTM", name, [x, w, r, b], [name], [.. attrs]));
        return name;
    }

    private string Weight(string name, long[] dims, float bound)
    {
        // The layer is named so its weight is `name`: ZooLayer.WeightName appends ".weight".
        var layer = new ZooLayer(name, ZooLayerKind.Recurrent, [dims[0] * dims[1], dims[2]], 1, _tokens, 1, bound);
        if (_withWeights)
        {
            var v = new float[layer.WeightCount];
            _rng.Fill(v, -bound, bound);
            layer.Weights = v;
        }
        _layers.Add(layer);
        _onnxDims[layer] = dims;
        _initializers.Add(layer);
        _parameters += layer.WeightCount;
        return layer.WeightName;
    }

    private string Uniform(string name, long[] dims, float bound)
    {
        float[]? values = null;
        long count = dims.Aggregate(1L, (a, v) => a * v);
        if (_withWeights) { values = new float[count]; _rng.Fill(values, -bound, bound); }
        _initializers.Add(Floats(name, dims, values));
        _parameters += count;
        return name;
    }

    private string Table(string name, int rows, int hidden)
    {
        float[]? values = null;
        if (_withWeights) { values = new float[(long)rows * hidden]; _rng.Fill(values, -0.1f, 0.1f); }
        _initializers.Add(Floats(name, [rows, hidden], values));
        _parameters += (long)rows * hidden;
        return name;
    }

    private string Int64s(long[] values)
    {
        string name = $"const.{_constants++}";
        _initializers.Add(TensorProto.FromInt64s(name, [values.Length], values));
        return name;
    }

    private string Node(string op, string name, string[] inputs, params AttributeProto[] attributes)
    {
        _graph.Node.Add(new NodeProto(op, name, inputs, [name], attributes));
        return name;
    }

    public ZooModel Finish(string modelName)
    {
        foreach (var item in _initializers)
        {
            if (item is TensorProto t) { _graph.Initializer.Add(t); continue; }
            var layer = (ZooLayer)item;
            _graph.Initializer.Add(Floats(layer.WeightName, _onnxDims[layer], layer.Weights));
            layer.Weights = null;
        }
        var proto = new ModelProto { IrVersion = 8, ProducerName = "lacuna-zoo", Graph = _graph };
        proto.OpsetImport.Add(new OperatorSetIdProto("", Opset));
        long flops = 2 * _layers.Sum(l => l.MacsPerImage);
        return new ZooModel(modelName, new OnnxModel(proto), _layers.ToArray(), _parameters, flops);
    }

    private TensorProto Floats(string name, long[] dims, float[]? values) => _tensors.Floats(name, dims, values);
}
