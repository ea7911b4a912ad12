namespace Lacuna.Onnx.Zoo;

/// <summary>What kind of layer owns a weight tensor.</summary>
public enum ZooLayerKind
{
    /// <summary>Conv weight [M, C/group, kh, kw].</summary>
    Conv,
    /// <summary>Gemm weight [out, in] (transB = 1).</summary>
    Gemm,
    /// <summary>
    /// A transformer linear layer: MatMul(x, B) + bias on token rows. <see cref="ZooLayer.Dims"/> and the weights are
    /// [out, in] as for Gemm (the layout pruning and DLMC use); the ONNX initializer B is the transpose [in, out].
    /// <see cref="ZooLayer.OutHeight"/> is the token count the FLOPs are counted at.
    /// </summary>
    MatMul,
    /// <summary>
    /// A recurrent layer's W or R: <see cref="ZooLayer.Dims"/> [D·G·H, in] (the matrix pruning sees and the SpMM
    /// candidates multiply), the ONNX initializer [D, G·H, in]; <see cref="ZooLayer.OutHeight"/> is the step count.
    /// </summary>
    Recurrent,
}

/// <summary>
/// A conv or Gemm layer of a zoo model: its weight tensor's name and shape, where it sits and its cost.
/// <see cref="Weights"/> holds the dense values (row-major in <see cref="Dims"/>) until the model is
/// finished; it is null in shape-only builds.
/// </summary>
public sealed class ZooLayer
{
    internal ZooLayer(string name, ZooLayerKind kind, long[] dims, int group, int outHeight, int outWidth, float initStd)
    {
        Name = name;
        Kind = kind;
        Dims = dims;
        Group = group;
        OutHeight = outHeight;
        OutWidth = outWidth;
        InitStd = initStd;
    }

    /// <summary>The layer's node name, e.g. <c>layer3.5.conv2</c>; its weight is <c>Name + ".weight"</c>.</summary>
    public string Name { get; }
    public ZooLayerKind Kind { get; }
    public long[] Dims { get; }
    public int Group { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }

    /// <summary>Standard deviation of the He-normal init: sqrt(2 / fan_in), fan_in = C/group·kh·kw (or in for Gemm).</summary>
    public float InitStd { get; }

    public string WeightName => Name + ".weight";
    public long WeightCount => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Multiply-accumulates per image: weight count × output pixels (Gemm: weight count).</summary>
    public long MacsPerImage => WeightCount * OutHeight * OutWidth;

    /// <summary>Dense values, null in shape-only builds or after the model is finished.</summary>
    public float[]? Weights { get; internal set; }

    /// <summary>Fraction of zero weights (0 when shape-only).</summary>
    public double Sparsity { get; internal set; }

    public override string ToString() => $"{Name} {Kind} [{string.Join("x", Dims)}] out {OutHeight}x{OutWidth}";
}

/// <summary>A built zoo model: the ONNX model plus the facts the CLI and the planner want without re-deriving them.</summary>
public sealed class ZooModel
{
    internal ZooModel(string name, OnnxModel model, IReadOnlyList<ZooLayer> layers, long parameterCount, long flops)
    {
        Name = name;
        Model = model;
        Layers = layers;
        ParameterCount = parameterCount;
        Flops = flops;
    }

    public string Name { get; }
    public OnnxModel Model { get; }

    /// <summary>Every conv and Gemm layer in graph order.</summary>
    public IReadOnlyList<ZooLayer> Layers { get; }

    /// <summary>Trainable parameters (weights, biases, BN gamma and beta; not BN running statistics), the torchvision convention.</summary>
    public long ParameterCount { get; }

    /// <summary>FLOPs at batch 1, counting 2 per multiply-accumulate of conv and Gemm layers only.</summary>
    public long Flops { get; }

    /// <summary>The sparsity pattern the layers were pruned to ("nm:2:4"), null when not pruned.</summary>
    public string? Pattern { get; internal set; }

    /// <summary>What a DLMC folder supplied, when one was given.</summary>
    public DlmcCoverage? Dlmc { get; internal set; }

    /// <summary>Zero fraction over all conv and Gemm weights together.</summary>
    public double WeightSparsity
    {
        get
        {
            double zeros = 0, total = 0;
            foreach (var l in Layers) { zeros += l.Sparsity * l.WeightCount; total += l.WeightCount; }
            return total == 0 ? 0 : zeros / total;
        }
    }
}
