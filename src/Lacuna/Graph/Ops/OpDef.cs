namespace Lacuna.Graph.Ops;

/// <summary>Opsets an <see cref="OpDef"/> implements, both ends inclusive. <see cref="To"/> is the newest opset checked:
/// a newer one fails as unsupported instead of silently reusing older semantics.</summary>
public readonly record struct OpsetRange(int From, int To)
{
    public bool Contains(long opset) => opset >= From && opset <= To;
    public bool Overlaps(OpsetRange o) => From <= o.To && o.From <= To;
    public override string ToString() => From == To ? $"{From}" : $"{From}-{To}";
}

/// <summary>What kind of operator a definition is (read by `lacuna ops` and the passes).</summary>
[Flags]
public enum OpTraits
{
    None = 0,
    /// <summary>Output element i depends only on input element i (after broadcasting).</summary>
    Elementwise = 1,
    /// <summary>Inputs can be swapped.</summary>
    Commutative = 2,
    /// <summary>Moves or relabels data without arithmetic (copies, views).</summary>
    ShapeOnly = 4,
    /// <summary>Always evaluated at load (<see cref="ConstantFolder"/>); never runs.</summary>
    LoadTime = 8,
    /// <summary>Takes a variable number of inputs.</summary>
    Variadic = 16,
    /// <summary>Created by a graph pass, not an ONNX operator: not read from model files, owns no ONNX node tests.</summary>
    Internal = 32,
}

/// <summary>
/// One operator over one opset range: the attributes it understands, shape inference, and the kernel it compiles to
/// (the reference unless a fast path fits). Ranges of one name never overlap (<see cref="OpRegistry"/>); where the
/// semantics change between opsets there is one definition per range, sharing helpers.
/// </summary>
public sealed class OpDef
{
    internal OpDef(string name, OpsetRange opsets, OpTraits traits, Func<OpContext, int[][]> inferShapes,
        Func<OpContext, int[][], NodeKernel> compile)
    {
        Name = name;
        Opsets = opsets;
        Traits = traits;
        InferShapes = inferShapes;
        Compile = compile;
    }

    public string Name { get; }
    public OpsetRange Opsets { get; }
    public OpTraits Traits { get; }

    /// <summary>Attributes the definition reads; the importer rejects any other.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];

    /// <summary>The kernels <see cref="Compile"/> can choose, for `lacuna ops` ("TensorPrimitives broadcast; reference").</summary>
    public string Kernels { get; init; } = "reference";

    /// <summary>
    /// Input positions that must be constants because they fix output shapes (Resize's roi, scales and sizes). A float
    /// graph input there is bound as a constant by the conformance runner, as an exporter would have stored it.
    /// </summary>
    public IReadOnlyList<int> ConstantInputs { get; init; } = [];

    /// <summary>ONNX backend node-test folder names this operator owns: a case matches "p" or "p_*"; "!p" excludes.</summary>
    public IReadOnlyList<string> ConformanceCases { get; init; } = [];

    /// <summary>
    /// Why no ONNX node test in the installed test data covers this operator (it is newer than the data) and which tests
    /// hold it to its specification instead; null for every operator that owns node tests.
    /// </summary>
    public string? NoNodeTests { get; init; }

    /// <summary>
    /// Evaluation on constant inputs at load (<see cref="ConstantFolder"/>) where it differs from running the kernel:
    /// load-time operators and the int64 shape arithmetic exporters emit. Null: the folder runs <see cref="Compile"/>.
    /// </summary>
    internal Func<FoldContext, GraphTensor[]>? Fold { get; init; }

    internal Func<OpContext, int[][]> InferShapes { get; }
    internal Func<OpContext, int[][], NodeKernel> Compile { get; }

    /// <summary>Whether the ONNX node-test folder <paramref name="caseName"/> belongs to this operator.</summary>
    public bool OwnsCase(string caseName)
    {
        static bool Match(string name, string p) => name == p || name.StartsWith(p + "_", StringComparison.Ordinal);
        bool owned = false;
        foreach (var p in ConformanceCases)
        {
            if (p.StartsWith('!')) { if (Match(caseName, p[1..])) return false; }
            else if (Match(caseName, p)) owned = true;
        }
        return owned;
    }

    public override string ToString() => $"{Name} [{Opsets}]";
}
