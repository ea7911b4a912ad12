using Lacuna.Kernels.Elementwise;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// LayerNormalization (opset 17) and Gelu (opset 20), also the targets of <see cref="GraphPasses.FuseLayerNorm"/> and
/// <see cref="GraphPasses.FuseGelu"/>. Each compiles in one method (<see cref="CompileLayerNorm"/>, <see cref="CompileGelu"/>):
/// the hook a faster fused kernel replaces.
/// </summary>
internal static class TransformerOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("LayerNormalization", new(17, 21), OpTraits.None, LayerNormShapes, CompileLayerNorm)
        { Attributes = ["axis", "epsilon", "stash_type"], Kernels = "LayerNorm (Kernels/Normalization)", ConformanceCases = ["test_layer_normalization"] },
        new("Gelu", new(20, 21), OpTraits.Elementwise, c => [c.X], CompileGelu)
        {
            Attributes = ["approximate"], Kernels = "Gelu (Kernels/Elementwise: erfc-accurate exact form, tanh form)", ConformanceCases = ["test_gelu"],
            NoNodeTests = "opset 20 is newer than Debian's libonnx-testdata; GeluTests (against ReferenceTransformer.Gelu) and TransformerFusionTests cover it",
        },
    ];

    /// <summary>(rows, inner) of X split at the normalized axis.</summary>
    private static (int Axis, int Rows, int Inner) Split(OpContext c)
    {
        int rank = c.X.Length, axis = (int)c.Node.Int("axis", -1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw c.Unsupported($"axis {c.Node.Int("axis", -1)} is out of range for rank {rank}.");
        return (axis, Broadcast.ElementCount(c.X[..axis]), Broadcast.ElementCount(c.X[axis..]));
    }

    private static int[][] LayerNormShapes(OpContext c)
    {
        var (axis, _, inner) = Split(c);
        if (Broadcast.ElementCount(c.InShapes[1]) != inner || (c.Has(2) && Broadcast.ElementCount(c.InShapes[2]) != inner))
            throw new ShapeMismatchException("Scale", $"{c.Node.Describe()}: Scale {Broadcast.Format(c.InShapes[1])} and B must have the {inner} elements of X {Broadcast.Format(c.X)} from axis {axis}.");
        int[] stat = [.. c.X[..axis], .. Enumerable.Repeat(1, c.X.Length - axis)];
        var outs = new List<int[]> { c.X };
        if (c.HasOutput(1) || c.HasOutput(2)) outs.Add(stat);
        if (c.HasOutput(2)) outs.Add(stat);
        return [.. outs];
    }

    /// <summary>LayerNormalization's one compile point (see <see cref="Kernels.Normalization.LayerNorm"/>).</summary>
    internal static NodeKernel CompileLayerNorm(OpContext c, int[][] outs)
    {
        var (_, rows, inner) = Split(c);
        float eps = c.Node.Float("epsilon", 1e-5f);
        bool hasBias = c.Has(2), mean = c.HasOutput(1), inv = c.HasOutput(2);
        return c.Lambda(outs, (k, f) => Kernels.Normalization.LayerNorm.Compute(k.Input(f, 0), inner, k.Input(f, 1),
            hasBias ? k.Input(f, 2) : default, k.Output(f), eps, default, 0, mean ? k.Output(f, 1) : default, inv ? k.Output(f, 2) : default), "LayerNorm");
    }

    /// <summary>Gelu's one compile point (see <see cref="Kernels.Elementwise.Gelu"/>).</summary>
    internal static NodeKernel CompileGelu(OpContext c, int[][] outs)
    {
        string approximate = c.Node.String("approximate", "none");
        var form = approximate switch
        {
            "none" => GeluApproximation.None,
            "tanh" => GeluApproximation.Tanh,
            _ => throw c.Unsupported($"approximate '{approximate}' is not 'none' or 'tanh'."),
        };
        return c.Lambda(outs, (k, f) => Gelu.Compute(k.Input(f, 0), k.Output(f), form), approximate == "tanh" ? "Gelu (tanh)" : "Gelu (erf)");
    }
}
