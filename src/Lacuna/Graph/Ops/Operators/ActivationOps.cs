using System.Numerics.Tensors;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>A unary operator bound to one node's attributes: its double definition and its fast span form.</summary>
internal sealed record UnaryFns(Func<double, double> Reference, SpanUnaryOp Fast);

/// <summary>A unary element-wise operator: attributes it reads and how it binds them.</summary>
internal sealed record UnaryRow(string Name, OpsetRange Opsets, string[] Attributes, string Kernel, Func<GraphNode, UnaryFns> Bind, params string[] Cases);

/// <summary>
/// Unary element-wise operators as rows (activations and math functions), Clip (bounds as attributes before opset 11,
/// inputs since), and the pass-through Identity and Dropout (inference: Y = X, mask all true).
/// </summary>
internal static class ActivationOps
{
    private static readonly OpsetRange All = new(1, 21);
    private static readonly string[] Legacy = ["consumed_inputs"];

    public static IReadOnlyList<UnaryRow> UnaryRows { get; } =
    [
        Fixed("Relu", All, ReferenceMath.Relu, UnaryKernels.Relu, "TensorPrimitives.Max"),
        Fixed("Sigmoid", All, ReferenceMath.Sigmoid, UnaryKernels.Sigmoid, "TensorPrimitives"),
        Fixed("Tanh", All, Math.Tanh, TensorPrimitives.Tanh, "TensorPrimitives"),
        Fixed("Exp", All, Math.Exp, TensorPrimitives.Exp, "TensorPrimitives"),
        Fixed("Log", All, Math.Log, TensorPrimitives.Log, "TensorPrimitives"),
        Fixed("Sqrt", All, Math.Sqrt, TensorPrimitives.Sqrt, "TensorPrimitives"),
        Fixed("Abs", All, Math.Abs, TensorPrimitives.Abs, "TensorPrimitives"),
        Fixed("Neg", All, x => -x, TensorPrimitives.Negate, "TensorPrimitives"),
        Fixed("Reciprocal", All, x => 1 / x, TensorPrimitives.Reciprocal, "TensorPrimitives"),
        Fixed("Floor", All, Math.Floor, TensorPrimitives.Floor, "TensorPrimitives"),
        Fixed("Ceil", All, Math.Ceiling, TensorPrimitives.Ceiling, "TensorPrimitives"),
        Fixed("Erf", new(9, 21), ReferenceMath.Erf, UnaryKernels.Erf, "Vector<float>"),
        Fixed("Softplus", All, ReferenceMath.Softplus, UnaryKernels.Softplus, "Vector<float>"),
        Fixed("Softsign", All, ReferenceMath.Softsign, UnaryKernels.Softsign, "Vector<float>"),
        Fixed("HardSwish", new(14, 21), ReferenceMath.HardSwish, UnaryKernels.HardSwish, "Vector<float>"),
        new("LeakyRelu", All, ["alpha", .. Legacy], "Vector<float>", n =>
        {
            float alpha = n.Float("alpha", 0.01f);
            return new(x => ReferenceMath.LeakyRelu(x, alpha), (x, y) => UnaryKernels.LeakyRelu(x, y, alpha));
        }, "test_leakyrelu"),
        new("Elu", All, ["alpha", .. Legacy], "Vector<float>", n =>
        {
            float alpha = n.Float("alpha", 1f);
            return new(x => ReferenceMath.Elu(x, alpha), (x, y) => UnaryKernels.Elu(x, y, alpha));
        }, "test_elu"),
        new("Selu", All, ["alpha", "gamma", .. Legacy], "Vector<float>", n =>
        {
            float alpha = n.Float("alpha", (float)ReferenceMath.SeluAlpha), gamma = n.Float("gamma", (float)ReferenceMath.SeluGamma);
            return new(x => ReferenceMath.Selu(x, alpha, gamma), (x, y) => UnaryKernels.Elu(x, y, alpha, gamma));
        }, "test_selu"),
        new("HardSigmoid", All, ["alpha", "beta", .. Legacy], "Vector<float>", n =>
        {
            float alpha = n.Float("alpha", 0.2f), beta = n.Float("beta", 0.5f);
            return new(x => ReferenceMath.HardSigmoid(x, alpha, beta), (x, y) => UnaryKernels.HardSigmoid(x, y, alpha, beta));
        }, "test_hardsigmoid"),
    ];

    public static IEnumerable<OpDef> Defs =>
    [
        .. UnaryRows.Select(r => new OpDef(r.Name, r.Opsets, OpTraits.Elementwise, c => [c.X], (c, o) =>
        {
            var fast = r.Bind(c.Node).Fast;
            return c.Lambda(o, (k, f) => ElementwiseParallel.Unary(fast, k.Input(f, 0), k.Output(f)), r.Kernel);
        }) { Attributes = r.Attributes, Kernels = r.Kernel, ConformanceCases = r.Cases }),
        new("Clip", new(1, 10), OpTraits.Elementwise, c => [c.X], (c, o) =>
        {
            float min = c.Node.Float("min", float.NegativeInfinity), max = c.Node.Float("max", float.PositiveInfinity);
            return c.Lambda(o, (k, f) => ElementwiseParallel.Unary((x, y) => UnaryKernels.Clip(x, y, min, max), k.Input(f, 0), k.Output(f)), "Vector<float>");
        }) { Attributes = ["min", "max", .. Legacy], Kernels = "Vector<float>", ConformanceCases = ["test_clip"] },
        // Since opset 11 the bounds are optional inputs, possibly computed at run time: read on every call.
        new("Clip", new(11, 21), OpTraits.Elementwise, c => [c.X], (c, o) =>
        {
            bool hasMin = c.Has(1), hasMax = c.Has(2);
            return c.Lambda(o, (k, f) => UnaryKernels.Clip(k.Input(f, 0), k.Output(f),
                hasMin ? k.Input(f, 1)[0] : float.NegativeInfinity, hasMax ? k.Input(f, 2)[0] : float.PositiveInfinity), "Vector<float>");
        }) { Kernels = "Vector<float>", ConformanceCases = ["test_clip"] },
        new("Identity", All, OpTraits.ShapeOnly, c => [c.X], (c, o) => c.Copy(o))
        { Kernels = "copy (removed by GraphPasses)", ConformanceCases = ["test_identity"] },
        // Dropout is the identity at inference and in training with ratio 0. The mask (bool since opset 10, the engine's
        // tensors are float) is all ones; unused, GraphPasses drops it with the node. Training with a non-zero ratio
        // (a random mask) is refused.
        new("Dropout", new(1, 11), OpTraits.ShapeOnly, DropoutShape, Dropout)
        { Attributes = ["ratio", "seed", "is_test", .. Legacy], Kernels = "copy, mask all true (removed by GraphPasses)", ConformanceCases = DropoutCases },
        new("Dropout", new(12, 21), OpTraits.ShapeOnly, DropoutShape, Dropout)
        { Attributes = ["seed"], Kernels = "copy, mask all true (removed by GraphPasses); training mode with ratio 0", ConformanceCases = DropoutCases },
    ];

    private static readonly string[] DropoutCases = ["test_dropout", "test_training_dropout"];

    private static UnaryRow Fixed(string name, OpsetRange opsets, Func<double, double> reference, SpanUnaryOp fast, string kernel) =>
        new(name, opsets, opsets.From < 6 ? Legacy : [], kernel, _ => new(reference, fast), "test_" + name.ToLowerInvariant());

    private static int[][] DropoutShape(OpContext c)
    {
        // Opset 12+: training_mode is an input. Known true with a known non-zero ratio is refused here; a run-time
        // training_mode or ratio is checked by the kernel on every call.
        if (TrainingMode(c) == true && Ratio(c) is float r && r != 0)
            throw c.Unsupported(RandomMask(r));
        return c.HasOutput(1) ? [c.X, c.X] : [c.X];
    }

    /// <summary>The training_mode input's value when known at load, false when absent (inference), null when computed at run time.</summary>
    private static bool? TrainingMode(OpContext c) =>
        c.Node.Opset < 12 || !c.Has(2) ? false : c.Constant(2) is { } t ? t.AsFloats().Any(v => v != 0) : null;

    /// <summary>The ratio when known at load (input 1 since opset 12, default 0.5), null when computed at run time.</summary>
    private static float? Ratio(OpContext c) =>
        c.Node.Opset < 12 ? c.Node.Float("ratio", 0.5f) : !c.Has(1) ? 0.5f : c.Constant(1)?.AsFloats()[0];

    private static string RandomMask(float ratio) =>
        $"training mode with ratio {ratio} drops a random subset of the elements, which no other engine's output can be checked against; only ratio 0 (the identity, mask all true) runs in training mode.";

    /// <summary>
    /// Inference, or training with ratio 0: the output is the input and the mask (bool, the engine's tensors are
    /// float) all true. A run-time training_mode or ratio is read on every call, and a random mask refused then.
    /// </summary>
    private static NodeKernel Dropout(OpContext c, int[][] outs)
    {
        bool mask = outs.Length > 1;
        bool? training = TrainingMode(c);
        float? ratio = Ratio(c);
        bool check = training != false && ratio is not 0f; // the constant cases were settled in DropoutShape
        var node = c.Node;
        return c.Lambda(outs, (k, f) =>
        {
            if (check && (training ?? k.Input(f, 2)[0] != 0))
            {
                float r = ratio ?? k.Input(f, 1)[0];
                if (r != 0) throw UnsupportedOperatorException.For(node, RandomMask(r));
            }
            k.Input(f, 0).CopyTo(k.Output(f));
            if (mask) k.Output(f, 1).Fill(1f);
        }, mask ? "copy, mask all true" : "copy");
    }
}
