using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>Unary element-wise operators (activations, math functions) and the pass-through Identity and Dropout.</summary>
internal static class ActivationOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        // Max(x, 0) keeps NaN, like the reference Relu (IEEE 754 maximum).
        new("Relu", new(1, 21), OpTraits.Elementwise, c => [c.X], (c, o) =>
            c.Lambda(o, (k, f) => TensorPrimitives.Max(k.Input(f, 0), 0f, k.Output(f)), "TensorPrimitives"))
        { Attributes = ["consumed_inputs"], ConformanceCases = ["test_relu"] },
        new("Clip", new(1, 21), OpTraits.Elementwise, c => [c.X], Clip)
        { Attributes = ["min", "max", "consumed_inputs"], ConformanceCases = ["test_clip"] },
        new("Identity", new(1, 21), OpTraits.ShapeOnly, c => [c.X], (c, o) => c.Copy(o))
        { Kernels = "copy (removed by GraphPasses)", ConformanceCases = ["test_identity"] },
        new("Dropout", new(1, 21), OpTraits.ShapeOnly, c =>
        {
            if (c.HasOutput(1)) throw c.Unsupported("the mask output is not supported.");
            return [c.X];
        }, (c, o) => c.Copy(o)) { Attributes = ["ratio", "seed", "is_test"], Kernels = "copy (removed by GraphPasses)", ConformanceCases = ["test_dropout"] },
    ];

    private static NodeKernel Clip(OpContext c, int[][] o)
    {
        var n = c.Node;
        float min = n.Opset < 11 ? n.Float("min", float.NegativeInfinity) : float.NegativeInfinity;
        float max = n.Opset < 11 ? n.Float("max", float.PositiveInfinity) : float.PositiveInfinity;
        bool minIn = n.Opset >= 11 && c.Has(1), maxIn = n.Opset >= 11 && c.Has(2);
        return c.Lambda(o, (k, f) => ReferenceElementwise.Clip(k.Input(f, 0), k.Output(f),
            minIn ? k.Input(f, 1)[0] : min, maxIn ? k.Input(f, 2)[0] : max));
    }
}
