using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>Binary and variadic element-wise operators with NumPy broadcasting.</summary>
internal static class ElementwiseOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Add", new(1, 21), OpTraits.Elementwise | OpTraits.Commutative, BinaryShape, (c, o) => AddMul(c, o, add: true))
        { ConformanceCases = ["test_add"] },
        new("Mul", new(1, 21), OpTraits.Elementwise | OpTraits.Commutative, BinaryShape, (c, o) => AddMul(c, o, add: false))
        { ConformanceCases = ["test_mul"] },
        new("Sum", new(1, 21), OpTraits.Elementwise | OpTraits.Variadic, c => [ReferenceElementwise.SumShape(c.InShapes)], (c, o) =>
            c.Lambda(o, (k, f) =>
            {
                var arrays = Enumerable.Range(0, k.InShapes.Length).Select(i => k.Input(f, i).ToArray()).ToList();
                ReferenceElementwise.Sum(arrays, k.InShapes, k.Output(f));
            })) { ConformanceCases = ["test_sum"] },
    ];

    private static int[][] BinaryShape(OpContext c) => [ReferenceElementwise.BinaryShape(c.X, c.InShapes[1], c.Node.OpType)];

    private static NodeKernel AddMul(OpContext c, int[][] o, bool add)
    {
        var act = add ? c.Node.FusedActivation : Activation.None; // only Add takes a fused activation (GraphPasses)
        if (add && c.X.AsSpan().SequenceEqual(c.InShapes[1]))
            return c.Lambda(o, (k, f) => AddActivation.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), act), "AddActivation");
        if (c.X.AsSpan().SequenceEqual(c.InShapes[1]))
            return c.Lambda(o, (k, f) => TensorPrimitives.Multiply(k.Input(f, 0), k.Input(f, 1), k.Output(f)), "TensorPrimitives");
        return c.Lambda(o, (k, f) =>
        {
            if (add) ReferenceElementwise.Add(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.InShapes[1], k.Output(f));
            else ReferenceElementwise.Mul(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.InShapes[1], k.Output(f));
            if (act.Kind == ActivationKind.Relu) TensorPrimitives.Max(k.Output(f), 0f, k.Output(f));
            else if (act.Kind == ActivationKind.Clip) ReferenceElementwise.Clip(k.Output(f), k.Output(f), act.Min, act.Max);
        });
    }
}
