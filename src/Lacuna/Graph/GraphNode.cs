namespace Lacuna.Graph;

/// <summary>
/// One operator application. Inputs may contain "" for an omitted optional input (ONNX convention).
/// <see cref="Opset"/> is the ai.onnx opset the node's semantics follow.
/// </summary>
public sealed class GraphNode
{
    public GraphNode(string name, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs,
        IEnumerable<GraphAttribute>? attributes = null, long opset = 13)
    {
        Name = name;
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Attributes = (attributes ?? []).ToList();
        Opset = opset;
    }

    public string Name { get; set; }
    public string OpType { get; set; }
    public List<string> Inputs { get; }
    public List<string> Outputs { get; }
    public List<GraphAttribute> Attributes { get; }
    public long Opset { get; set; }

    /// <summary>A fused epilogue (Relu/Clip) applied by the producing Conv/Gemm; set by the fusion pass.</summary>
    public Kernels.Activation FusedActivation { get; set; } = Kernels.Activation.None;

    /// <summary>
    /// A Gelu applied by the producing token-linear MatMul (<see cref="GraphPasses.FuseGeluIntoMatMul"/>), in place of a
    /// <see cref="FusedActivation"/>; null when there is none.
    /// </summary>
    public Kernels.Elementwise.GeluApproximation? FusedGelu { get; set; }

    /// <summary>
    /// A Sigmoid, HardSigmoid or HardSwish applied by the producing Conv after <see cref="FusedActivation"/>
    /// (<see cref="GraphPasses.FuseActivations"/>), on each block of its output as it is finished.
    /// </summary>
    public Kernels.Elementwise.PostActivation FusedPost { get; set; }

    public GraphAttribute? Find(string name) => Attributes.Find(a => a.Name == name);
    public long Int(string name, long fallback) => Find(name)?.Int ?? fallback;
    public float Float(string name, float fallback) => Find(name) is { } a ? a.Float : fallback;
    public string String(string name, string fallback) => Find(name)?.String ?? fallback;
    public long[]? Ints(string name) => Find(name)?.Ints;
    public float[]? Floats(string name) => Find(name)?.Floats;
    public string[]? Strings(string name) => Find(name)?.Strings;

    public void Set(GraphAttribute attribute)
    {
        Attributes.RemoveAll(a => a.Name == attribute.Name);
        Attributes.Add(attribute);
    }

    /// <summary>"OpType 'name' (opset N)": how errors name a node.</summary>
    public string Describe() => $"{OpType} node '{Name}' (opset {Opset})";

    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
