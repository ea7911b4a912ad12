using Lacuna.Kernels.Elementwise;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Comparisons (Less, Greater, LessOrEqual, GreaterOrEqual) and logical operators (And, Or, Xor, Not) with NumPy
/// broadcasting on <see cref="BroadcastPlan"/> + <see cref="CompareKernels"/>: float, int64/int32 and bool inputs (all
/// exact floats at run time), bool output as 1/0 like Equal. Before opset 7 these took the legacy broadcast attributes,
/// which are not implemented (the ranges start at 7). Reference: <see cref="Kernels.Reference.ReferenceElementwise.Logical"/>.
/// </summary>
internal static class LogicalOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        Binary("Less", new(7, 21), CompareKernels.Less, OpTraits.None, "test_less", "!test_less_equal"),
        Binary("Greater", new(7, 21), CompareKernels.Greater, OpTraits.None, "test_greater", "!test_greater_equal"),
        // test_less_equal_expanded is LessOrEqual written as Less, Equal and Or; it runs those definitions.
        Binary("LessOrEqual", new(12, 21), CompareKernels.LessOrEqual, OpTraits.None, "test_less_equal"),
        Binary("GreaterOrEqual", new(12, 21), CompareKernels.GreaterOrEqual, OpTraits.None, "test_greater_equal"),
        Binary("And", new(7, 21), CompareKernels.And, OpTraits.Commutative, "test_and"),
        Binary("Or", new(7, 21), CompareKernels.Or, OpTraits.Commutative, "test_or"),
        Binary("Xor", new(7, 21), CompareKernels.Xor, OpTraits.Commutative, "test_xor"),
        new("Not", new(1, 21), OpTraits.Elementwise, c => [c.X], (c, o) => c.Lambda(o, (k, f) => CompareKernels.Not(k.Input(f, 0), k.Output(f)), "CompareKernels.Not"))
        { Kernels = "Vector<float> x==0 (1/0)", ConformanceCases = ["test_not"] },
    ];

    private static OpDef Binary(string name, OpsetRange opsets, BinarySpanOp op, OpTraits traits, params string[] cases) =>
        new(name, opsets, OpTraits.Elementwise | traits, c => [Broadcast.Shape(c.X, c.InShapes[1], c.Node.Describe(), "B")], (c, o) =>
        {
            var plan = new BroadcastPlan(c.X, c.InShapes[1], c.Node.Describe());
            return c.Lambda(o, (k, f) => plan.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), op), $"BroadcastPlan {name} {plan.Runs}x{plan.RunLength}");
        }) { Kernels = "BroadcastPlan + Vector<float> compare (1/0)", ConformanceCases = cases };
}
