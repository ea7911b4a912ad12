using Lacuna.Tensors;

namespace Lacuna.Onnx.Zoo;

/// <summary>
/// Fluent builder of an NCHW float CNN graph (opset 13) with seeded weights. Every method takes the input
/// value's name and returns the output value's name; values are named after their node, so a node
/// <c>layer3.5.conv2</c> has weight <c>layer3.5.conv2.weight</c> and output <c>layer3.5.conv2</c>.
/// Shapes are tracked per value (batch dim excluded) so each layer knows its output size.
/// <code>
/// var b = new OnnxGraphBuilder("tiny", seed: 1);
/// string x = b.Input("input", 3, 32, 32);
/// x = b.Relu(b.BatchNorm(b.Conv(x, "conv1", 16, 3, 1, 1), "bn1"));
/// var model = b.Finish(b.Gemm(b.Flatten(b.GlobalAveragePool(x, "pool"), "flatten"), "fc", 10), "logits");
/// </code>
/// With <c>withWeights: false</c> the model is shape-only (for tests, planning and counting): every
/// initializer is an external-data reference into <c>{graph}.shape-only.bin</c>, a file that is never
/// written, so the model parses and round-trips but reading a weight fails naming that file; the random
/// stream is not consumed.
/// </summary>
public sealed partial class OnnxGraphBuilder
{
    public const int Opset = 13;
    public const string BatchDim = "N";

    private readonly GraphProto _graph;
    private readonly bool _withWeights;
    private DeterministicRandom _rng;
    private readonly Dictionary<string, int[]> _shapes = new(StringComparer.Ordinal);
    private readonly List<object> _initializers = []; // TensorProto, or ZooLayer whose weight is materialized at Finish
    private readonly List<ZooLayer> _layers = [];
    private long _parameters;
    private readonly ZooInitializers _tensors;
    private bool _haveClipBounds;

    private const string ClipMin = "relu6.min", ClipMax = "relu6.max";

    public OnnxGraphBuilder(string graphName, ulong seed, bool withWeights = true)
    {
        _graph = new GraphProto { Name = graphName };
        _tensors = new ZooInitializers(graphName);
        _rng = new DeterministicRandom(seed);
        _withWeights = withWeights;
    }

    public bool WithWeights => _withWeights;
    public IReadOnlyList<ZooLayer> Layers => _layers;

    /// <summary>Trainable parameters so far (BN running statistics excluded).</summary>
    public long ParameterCount => _parameters;

    /// <summary>The tracked shape of a value without the batch dim: [C, H, W] or [F].</summary>
    public int[] ShapeOf(string value) =>
        _shapes.TryGetValue(value, out var s) ? s : throw new ArgumentException($"unknown value '{value}'.", nameof(value));

    /// <summary>Declares the graph input [N, channels, height, width] with a symbolic batch dim.</summary>
    public string Input(string name, int channels, int height, int width)
    {
        _graph.Input.Add(ValueInfoProto.Tensor(name, TensorDataType.Float, BatchDim, channels, height, width));
        _shapes[name] = [channels, height, width];
        return name;
    }

    /// <summary>
    /// Conv with square kernel, stride and symmetric padding; He-normal weight [outChannels, C/group, k, k]
    /// (std = sqrt(2 / fan_in)), optional bias (small uniform).
    /// </summary>
    public string Conv(string x, string name, int outChannels, int kernel, int stride, int pad, int group = 1, bool bias = false)
    {
        var s = ShapeOf(x);
        int c = s[0];
        if (c % group != 0 || outChannels % group != 0)
            throw new ArgumentException($"conv '{name}': channels {c} → {outChannels} not divisible by group {group}.");
        int oh = OutSize(name, s[1], kernel, stride, pad, false), ow = OutSize(name, s[2], kernel, stride, pad, false);
        long[] dims = [outChannels, c / group, kernel, kernel];
        var layer = AddLayer(name, ZooLayerKind.Conv, dims, group, oh, ow);
        var inputs = new List<string> { x, layer.WeightName };
        if (bias) inputs.Add(AddVector(name + ".bias", outChannels, -0.01f, 0.01f));
        _graph.Node.Add(new NodeProto("Conv", name, [.. inputs], [name],
            AttributeProto.IntList("kernel_shape", kernel, kernel),
            AttributeProto.IntList("strides", stride, stride),
            AttributeProto.IntList("pads", pad, pad, pad, pad),
            AttributeProto.IntList("dilations", 1, 1),
            AttributeProto.Int("group", group)));
        _shapes[name] = [outChannels, oh, ow];
        return name;
    }

    /// <summary>
    /// Inference BatchNormalization with non-trivial statistics so BN folding is exercised:
    /// gamma ∈ [0.9, 1.1], beta ∈ [-0.05, 0.05], running mean ∈ [-0.1, 0.1], running var ∈ [0.5, 1.5].
    /// </summary>
    public string BatchNorm(string x, string name, float epsilon = 1e-5f)
    {
        int c = ShapeOf(x)[0];
        string gamma = AddVector(name + ".weight", c, 0.9f, 1.1f);
        string beta = AddVector(name + ".bias", c, -0.05f, 0.05f);
        string mean = AddVector(name + ".running_mean", c, -0.1f, 0.1f, trainable: false);
        string variance = AddVector(name + ".running_var", c, 0.5f, 1.5f, trainable: false);
        _graph.Node.Add(new NodeProto("BatchNormalization", name, [x, gamma, beta, mean, variance], [name],
            AttributeProto.Float("epsilon", epsilon), AttributeProto.Float("momentum", 0.9f)));
        _shapes[name] = ShapeOf(x);
        return name;
    }

    /// <summary>ReLU; the node is named <paramref name="name"/> or, when null, after its input plus ".relu".</summary>
    public string Relu(string x, string? name = null)
    {
        name ??= x + ".relu";
        _graph.Node.Add(new NodeProto("Relu", name, [x], [name]));
        _shapes[name] = ShapeOf(x);
        return name;
    }

    /// <summary>
    /// ReLU6 as exported by PyTorch: Clip(x, 0, 6) with the bounds as scalar initializer inputs (opset 11+),
    /// shared by every Clip of the graph.
    /// </summary>
    public string Relu6(string x, string name)
    {
        if (!_haveClipBounds)
        {
            _initializers.Add(TensorProto.FromFloats(ClipMin, [], [0f]));
            _initializers.Add(TensorProto.FromFloats(ClipMax, [], [6f]));
            _haveClipBounds = true;
        }
        _graph.Node.Add(new NodeProto("Clip", name, [x, ClipMin, ClipMax], [name]));
        _shapes[name] = ShapeOf(x);
        return name;
    }

    /// <summary>MaxPool with square kernel, stride and symmetric padding; <paramref name="ceilMode"/> as torchvision's ceil_mode.</summary>
    public string MaxPool(string x, string name, int kernel, int stride, int pad, bool ceilMode = false) =>
        Pool("MaxPool", x, name, kernel, stride, pad, ceilMode);

    /// <summary>AveragePool with square kernel and stride, no padding (so count_include_pad does not arise).</summary>
    public string AveragePool(string x, string name, int kernel, int stride) =>
        Pool("AveragePool", x, name, kernel, stride, 0, false);

    private string Pool(string op, string x, string name, int kernel, int stride, int pad, bool ceilMode)
    {
        var s = ShapeOf(x);
        var attributes = new List<AttributeProto>
        {
            AttributeProto.IntList("kernel_shape", kernel, kernel),
            AttributeProto.IntList("strides", stride, stride),
            AttributeProto.IntList("pads", pad, pad, pad, pad),
        };
        if (ceilMode) attributes.Add(AttributeProto.Int("ceil_mode", 1));
        _graph.Node.Add(new NodeProto(op, name, [x], [name], [.. attributes]));
        _shapes[name] = [s[0], OutSize(name, s[1], kernel, stride, pad, ceilMode), OutSize(name, s[2], kernel, stride, pad, ceilMode)];
        return name;
    }

    /// <summary>Concatenation along channels of values with equal H×W (DenseNet blocks, Inception branches).</summary>
    public string Concat(IReadOnlyList<string> xs, string name)
    {
        if (xs.Count < 1) throw new ArgumentException($"concat '{name}': no inputs.");
        var first = ShapeOf(xs[0]);
        int channels = 0;
        foreach (string x in xs)
        {
            var s = ShapeOf(x);
            if (s.Length != 3 || s[1] != first[1] || s[2] != first[2])
                throw new ArgumentException($"concat '{name}': '{x}' is [{string.Join(",", s)}], not [C,{first[1]},{first[2]}].");
            channels += s[0];
        }
        _graph.Node.Add(new NodeProto("Concat", name, [.. xs], [name], AttributeProto.Int("axis", 1)));
        _shapes[name] = [channels, first[1], first[2]];
        return name;
    }

    public string Add(string a, string b, string name)
    {
        if (!ShapeOf(a).AsSpan().SequenceEqual(ShapeOf(b)))
            throw new ArgumentException($"add '{name}': shapes [{string.Join(",", ShapeOf(a))}] and [{string.Join(",", ShapeOf(b))}] differ.");
        _graph.Node.Add(new NodeProto("Add", name, [a, b], [name]));
        _shapes[name] = ShapeOf(a);
        return name;
    }

    public string GlobalAveragePool(string x, string name)
    {
        _graph.Node.Add(new NodeProto("GlobalAveragePool", name, [x], [name]));
        _shapes[name] = [ShapeOf(x)[0], 1, 1];
        return name;
    }

    /// <summary>Flatten(axis = 1): [N, C, H, W] → [N, C·H·W].</summary>
    public string Flatten(string x, string name)
    {
        var s = ShapeOf(x);
        _graph.Node.Add(new NodeProto("Flatten", name, [x], [name], AttributeProto.Int("axis", 1)));
        _shapes[name] = [s.Aggregate(1, (a, d) => a * d)];
        return name;
    }

    /// <summary>Gemm Y = X·Wᵀ + b with W [outFeatures, in] (transB = 1), He-normal W, small uniform b.</summary>
    public string Gemm(string x, string name, int outFeatures)
    {
        var s = ShapeOf(x);
        if (s.Length != 1) throw new ArgumentException($"gemm '{name}': input '{x}' is not flat (shape [{string.Join(",", s)}]).");
        var layer = AddLayer(name, ZooLayerKind.Gemm, [outFeatures, s[0]], 1, 1, 1);
        string bias = AddVector(name + ".bias", outFeatures, -0.01f, 0.01f);
        _graph.Node.Add(new NodeProto("Gemm", name, [x, layer.WeightName, bias], [name],
            AttributeProto.Float("alpha", 1f), AttributeProto.Float("beta", 1f), AttributeProto.Int("transB", 1)));
        _shapes[name] = [outFeatures];
        return name;
    }

    /// <summary>
    /// Renames the last node's output to <paramref name="outputName"/>, declares it the graph output and
    /// materializes the weights (a layer's float array is released once its initializer is written).
    /// </summary>
    public ZooModel Finish(string last, string outputName, string modelName)
    {
        var node = _graph.Node[^1];
        if (node.Output.Count != 1 || node.Output[0] != last)
            throw new ArgumentException($"'{last}' is not the output of the last node.", nameof(last));
        node.Output[0] = outputName;
        var shape = ShapeOf(last);
        _graph.Output.Add(ValueInfoProto.Tensor(outputName, TensorDataType.Float, [BatchDim, .. shape.Select(d => (object)d)]));
        foreach (var item in _initializers)
        {
            if (item is TensorProto t) { _graph.Initializer.Add(t); continue; }
            var layer = (ZooLayer)item;
            _graph.Initializer.Add(Tensor(layer.WeightName, layer.Dims, layer.Weights));
            layer.Weights = null;
        }
        var proto = new ModelProto
        {
            IrVersion = 7, // the IR version that goes with opset 13
            ProducerName = "lacuna-zoo",
            Graph = _graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto("", Opset));
        long flops = 2 * _layers.Sum(l => l.MacsPerImage);
        return new ZooModel(modelName, new OnnxModel(proto), _layers.ToArray(), _parameters, flops);
    }

    /// <summary>
    /// Output size of a conv or pool along one axis (ceil mode: a window must start inside the input or its
    /// begin padding, as ONNX and PyTorch define it); a size below 1 is an error naming the layer, so a
    /// too-small input resolution fails at build time.
    /// </summary>
    private static int OutSize(string name, int size, int kernel, int stride, int pad, bool ceilMode)
    {
        int room = size + 2 * pad - kernel;
        int outSize = room < 0 ? 0 : (ceilMode ? (room + stride - 1) / stride : room / stride) + 1;
        if (ceilMode && outSize > 0 && (outSize - 1) * stride >= size + pad) outSize--;
        if (outSize < 1)
            throw new ArgumentException($"layer '{name}': input {size} with kernel {kernel}, stride {stride}, pad {pad} leaves no output; the input resolution is too small.");
        return outSize;
    }

    private ZooLayer AddLayer(string name, ZooLayerKind kind, long[] dims, int group, int oh, int ow)
    {
        long fanIn = dims.Skip(1).Aggregate(1L, (a, d) => a * d);
        var layer = new ZooLayer(name, kind, dims, group, oh, ow, MathF.Sqrt(2f / fanIn));
        if (_withWeights)
        {
            var w = new float[layer.WeightCount];
            for (int i = 0; i < w.Length; i++) w[i] = (float)_rng.NextGaussian() * layer.InitStd;
            layer.Weights = w;
        }
        _parameters += layer.WeightCount;
        _layers.Add(layer);
        _initializers.Add(layer);
        return layer;
    }

    private string AddVector(string name, int length, float min, float max, bool trainable = true)
    {
        float[]? values = null;
        if (_withWeights)
        {
            values = new float[length];
            _rng.Fill(values, min, max);
        }
        _initializers.Add(Tensor(name, [length], values));
        if (trainable) _parameters += length;
        return name;
    }

    private TensorProto Tensor(string name, long[] dims, float[]? values) => _tensors.Floats(name, dims, values);
}
