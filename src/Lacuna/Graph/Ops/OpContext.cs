namespace Lacuna.Graph.Ops;

/// <summary>What a definition sees of one node: the node, its input shapes, constant inputs and the session's plan cache.</summary>
internal sealed class OpContext(GraphNode node, int[][] inShapes, Func<int, GraphTensor?> constant, OpCompiler.PlanCache? cache)
{
    public GraphNode Node { get; } = node;
    public int[][] InShapes { get; } = inShapes;
    public OpCompiler.PlanCache? Cache { get; } = cache;

    /// <summary>Input 0's shape ([] when there is none).</summary>
    public int[] X => InShapes.Length > 0 ? InShapes[0] : [];

    /// <summary>Input <paramref name="i"/> when it is a constant (an initializer or a folded value), else null.</summary>
    public GraphTensor? Constant(int i) => constant(i);

    /// <summary>Input <paramref name="i"/> as a constant, or an unsupported-operator error saying it must be one.</summary>
    public GraphTensor NeedConstant(int i, string what) => constant(i) ?? throw Unsupported($"{what} must be a constant.");

    /// <summary>Whether optional input <paramref name="i"/> is present (not omitted as "").</summary>
    public bool Has(int i) => i < Node.Inputs.Count && Node.Inputs[i].Length > 0;

    /// <summary>Whether optional output <paramref name="i"/> is present.</summary>
    public bool HasOutput(int i) => i < Node.Outputs.Count && Node.Outputs[i].Length > 0;

    public UnsupportedOperatorException Unsupported(string message) => UnsupportedOperatorException.For(Node, message);

    /// <summary>A delegate kernel for this node with the given output shapes.</summary>
    public LambdaKernel Lambda(int[][] outShapes, LambdaKernel.Body body, string name = "reference") =>
        new(body, name) { Node = Node, InShapes = InShapes, OutShapes = outShapes };

    /// <summary>A kernel that copies input 0 to output 0 (views that still need their own buffer).</summary>
    public LambdaKernel Copy(int[][] outShapes) => Lambda(outShapes, (k, f) => k.Input(f, 0).CopyTo(k.Output(f)), "copy");
}

/// <summary>
/// What a definition's <see cref="OpDef.Fold"/> sees: the node, its constant inputs, and each input's shape at the
/// folder's probe batch sizes (a dimension that differs between probes is the run-time batch).
/// </summary>
internal sealed class FoldContext(GraphNode node, Func<int, GraphTensor?> constant, Func<string, int[][]> probeShapes)
{
    public GraphNode Node { get; } = node;

    public GraphTensor? Constant(int i) => constant(i);

    /// <summary>Input <paramref name="i"/>, which folding needs as a constant.</summary>
    public GraphTensor Need(int i) => constant(i) ?? throw UnsupportedOperatorException.For(Node,
        $"input {i} ('{Node.Inputs[i]}') must be a constant (data-dependent {Node.OpType} is not supported).");

    /// <summary>The shapes of value <paramref name="name"/> at each probe batch size.</summary>
    public int[][] ProbeShapes(string name) => probeShapes(name);
}
