using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>A binary element-wise operator: its double-precision definition and its span form for <see cref="BroadcastPlan"/>.</summary>
internal sealed record BinaryRow(string Name, OpsetRange Opsets, Func<double, double, double> Reference, BinarySpanOp Fast, params string[] Cases);

/// <summary>A variadic operator folded pairwise with <see cref="Fast"/>; Mean divides by the count at the end.</summary>
internal sealed record VariadicRow(string Name, OpsetRange Opsets, Func<double, double, double> Reference, BinarySpanOp Fast, bool Mean, params string[] Cases);

/// <summary>
/// Binary and variadic element-wise operators with NumPy broadcasting, all on one driver (<see cref="BroadcastPlan"/>),
/// listed as rows. Before opset 7 (8 for the variadic ones) broadcasting was opt-in: a legacy `broadcast=1` with
/// `axis` aligns B inside A, and without it the shapes must be equal.
/// </summary>
internal static class ElementwiseOps
{
    private static readonly OpsetRange Legacy = new(1, 6), Numpy = new(7, 21), LegacyVariadic = new(1, 7), NumpyVariadic = new(8, 21);

    public static IReadOnlyList<BinaryRow> BinaryRows { get; } =
    [
        .. Both("Add", (a, b) => a + b, BinaryKernels.Add, "test_add"),
        .. Both("Sub", (a, b) => a - b, BinaryKernels.Sub, "test_sub"),
        .. Both("Mul", (a, b) => a * b, BinaryKernels.Mul, "test_mul"),
        .. Both("Div", (a, b) => a / b, BinaryKernels.Div, "test_div"),
        .. Both("Pow", Math.Pow, BinaryKernels.Pow, "test_pow"),
        new("PRelu", Numpy, ReferenceMath.LeakyRelu, BinaryKernels.PRelu, "test_prelu"),
    ];

    public static IReadOnlyList<VariadicRow> VariadicRows { get; } =
    [
        .. VariadicBoth("Sum", (a, b) => a + b, BinaryKernels.Add, false, "test_sum"),
        .. VariadicBoth("Mean", (a, b) => a + b, BinaryKernels.Add, true, "test_mean"),
        .. VariadicBoth("Max", Math.Max, BinaryKernels.Max, false, "test_max"),
        .. VariadicBoth("Min", Math.Min, BinaryKernels.Min, false, "test_min"),
    ];

    public static IEnumerable<OpDef> Defs =>
        BinaryRows.Select(r => new OpDef(r.Name, r.Opsets, Traits(r.Name), c => [BinaryPlan(c, r).OutShape], (c, o) => CompileBinary(c, o, r))
        {
            Attributes = r.Opsets == Legacy ? ["broadcast", "axis", "consumed_inputs"] : [],
            Kernels = r.Name == "Add" ? "AddActivation (same shape, fused Relu/Clip); BroadcastPlan + TensorPrimitives" : "BroadcastPlan + " + (r.Name == "PRelu" ? "Vector<float>" : "TensorPrimitives"),
            ConformanceCases = r.Cases,
        }).Concat(VariadicRows.Select(r => new OpDef(r.Name, r.Opsets, OpTraits.Elementwise | OpTraits.Commutative | OpTraits.Variadic,
            c => [VariadicShape(c, r)], (c, o) => CompileVariadic(c, o, r))
        {
            Kernels = "BroadcastPlan + TensorPrimitives, pairwise in place",
            ConformanceCases = r.Cases,
        }));

    private static BinaryRow[] Both(string name, Func<double, double, double> reference, BinarySpanOp fast, string cases) =>
        [new(name, Legacy, reference, fast, cases), new(name, Numpy, reference, fast, cases)];

    private static VariadicRow[] VariadicBoth(string name, Func<double, double, double> reference, BinarySpanOp fast, bool mean, string cases) =>
        [new(name, LegacyVariadic, reference, fast, mean, cases), new(name, NumpyVariadic, reference, fast, mean, cases)];

    private static OpTraits Traits(string name) =>
        OpTraits.Elementwise | (name is "Add" or "Mul" ? OpTraits.Commutative : OpTraits.None);

    /// <summary>The broadcast of A and B; before opset 7 B is first aligned in A as the legacy attributes say.</summary>
    private static BroadcastPlan BinaryPlan(OpContext c, BinaryRow r)
    {
        int[] a = c.X, b = c.InShapes[1];
        if (c.Node.Opset < 7) b = LegacyB(c, a, b);
        var plan = new BroadcastPlan(a, b, $"{c.Node.Describe()}");
        if (r.Name == "PRelu" && !plan.OutShape.AsSpan().SequenceEqual(a))
            throw new ShapeMismatchException("slope", $"{c.Node.Describe()}: slope {Broadcast.Format(b)} does not broadcast to X {Broadcast.Format(a)}.");
        return plan;
    }

    /// <summary>Opset 1-6: with broadcast=1, B's dimensions match A's from `axis` (default: A's last ones); else shapes are equal.</summary>
    private static int[] LegacyB(OpContext c, int[] a, int[] b)
    {
        var n = c.Node;
        if (n.Int("broadcast", 0) == 0)
        {
            if (!a.AsSpan().SequenceEqual(b))
                throw new ShapeMismatchException("B", $"{n.Describe()}: shapes {Broadcast.Format(a)} and {Broadcast.Format(b)} differ and broadcast is not set.");
            return b;
        }
        int axis = (int)n.Int("axis", a.Length - b.Length);
        if (axis < 0) axis += a.Length;
        if (axis < 0 || axis + b.Length > a.Length)
            throw new ShapeMismatchException("B", $"{n.Describe()}: B {Broadcast.Format(b)} does not fit in A {Broadcast.Format(a)} at axis {axis}.");
        return [.. Enumerable.Repeat(1, axis), .. b, .. Enumerable.Repeat(1, a.Length - axis - b.Length)];
    }

    private static NodeKernel CompileBinary(OpContext c, int[][] outs, BinaryRow r)
    {
        var plan = BinaryPlan(c, r);
        var act = r.Name == "Add" ? c.Node.FusedActivation : Activation.None; // only Add takes a fused activation (GraphPasses)
        if (r.Name == "Add" && c.X.AsSpan().SequenceEqual(c.InShapes[1]))
            return c.Lambda(outs, (k, f) => AddActivation.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), act), "AddActivation");
        return c.Lambda(outs, (k, f) =>
        {
            plan.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), r.Fast);
            ApplyActivation(k.Output(f), act);
        }, $"BroadcastPlan {plan.Runs}x{plan.RunLength}");
    }

    /// <summary>A fused Relu/Clip applied after the fact, exactly as the separate node computes it.</summary>
    private static void ApplyActivation(Span<float> y, Activation act)
    {
        if (act.Kind == ActivationKind.Relu) UnaryKernels.Relu(y, y);
        else if (act.Kind == ActivationKind.Clip) UnaryKernels.Clip(y, y, act.Min, act.Max);
    }

    private static int[] VariadicShape(OpContext c, VariadicRow r)
    {
        if (c.InShapes.Length == 0) throw c.Unsupported("needs at least one input.");
        if (c.Node.Opset < 8 && c.InShapes.Any(s => !s.AsSpan().SequenceEqual(c.X)))
            throw new ShapeMismatchException("inputs", $"{c.Node.Describe()}: inputs must have equal shapes before opset 8; got {string.Join(", ", c.InShapes.Select(s => Broadcast.Format(s)))}.");
        return ReferenceElementwise.VariadicShape(c.InShapes, r.Name);
    }

    /// <summary>
    /// y = x0 op x1 (broadcast straight into y when that already has the output shape, else x0 spread first), then
    /// y = y op xk in place for the rest: same-shape Sum of two is one TensorPrimitives pass.
    /// </summary>
    private static NodeKernel CompileVariadic(OpContext c, int[][] outs, VariadicRow r)
    {
        int[] y = outs[0];
        int count = c.InShapes.Length;
        bool direct = count > 1 && Broadcast.Shape(c.X, c.InShapes[1], r.Name).AsSpan().SequenceEqual(y);
        var first = direct ? new BroadcastPlan(c.X, c.InShapes[1], r.Name) : new BroadcastPlan(c.X, y, r.Name);
        var rest = Enumerable.Range(direct ? 2 : 1, Math.Max(0, count - (direct ? 2 : 1))).Select(i => (Input: i, Plan: new BroadcastPlan(y, c.InShapes[i], r.Name))).ToArray();
        return c.Lambda(outs, (k, f) =>
        {
            var output = k.Output(f);
            if (direct) first.Run(k.Input(f, 0), k.Input(f, 1), output, r.Fast);
            else first.Run(k.Input(f, 0), output, output, BinaryKernels.First);
            foreach (var (input, plan) in rest) plan.Run(output, k.Input(f, input), output, r.Fast);
            if (r.Mean) TensorPrimitives.Divide(output, count, output);
        }, $"BroadcastPlan x{count - 1}");
    }
}
