using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Data movement: Concat, Flatten, Reshape, Unsqueeze, Gather, Transpose, Pad; and the load-time operators
/// Constant, ConstantOfShape, Shape, which <see cref="ConstantFolder"/> always evaluates.
/// </summary>
internal static class ShapeOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Concat", new(1, 21), OpTraits.ShapeOnly | OpTraits.Variadic, c => [ReferenceShapeOps.ConcatShape(c.InShapes, ConcatAxis(c))], (c, o) =>
        {
            int axis = ConcatAxis(c), count = c.InShapes.Length;
            return c.Lambda(o, (k, f) =>
            {
                var arrays = Enumerable.Range(0, count).Select(i => k.Input(f, i).ToArray()).ToList();
                ReferenceShapeOps.Concat(arrays, k.InShapes, axis, k.Output(f));
            });
        }) { Attributes = ["axis"], ConformanceCases = ["test_concat"] },
        new("Flatten", new(1, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.FlattenShape(c.X, (int)c.Node.Int("axis", 1))], (c, o) => c.Copy(o))
        { Attributes = ["axis"], Kernels = "copy", ConformanceCases = ["test_flatten"] },
        // Reshape took its target shape as an attribute before opset 5, as an input since.
        new("Reshape", new(1, 4), OpTraits.ShapeOnly, c => ReshapeShape(c, c.Node.Ints("shape")), (c, o) => c.Copy(o))
        { Attributes = ["shape", "consumed_inputs"], Kernels = "copy", ConformanceCases = ["test_reshape"] },
        new("Reshape", new(5, 21), OpTraits.ShapeOnly, c => ReshapeShape(c, c.Constant(1)?.AsInt64s()), (c, o) => c.Copy(o))
        { Attributes = ["allowzero"], Kernels = "copy", ConformanceCases = ["test_reshape"] },
        // Unsqueeze took axes as an attribute before opset 13, as an input since (ConstantFolder.UnsqueezeShape reads both).
        new("Unsqueeze", new(1, 12), OpTraits.ShapeOnly, UnsqueezeShape, (c, o) => c.Copy(o))
        { Attributes = ["axes"], Kernels = "copy", ConformanceCases = ["test_unsqueeze"] },
        new("Unsqueeze", new(13, 21), OpTraits.ShapeOnly, UnsqueezeShape, (c, o) => c.Copy(o))
        { Kernels = "copy", ConformanceCases = ["test_unsqueeze"] },
        new("Gather", new(1, 21), OpTraits.ShapeOnly, c => { GatherSources(c, out int[] dims); return [dims]; }, (c, o) =>
        {
            int[] src = GatherSources(c, out _);
            return c.Lambda(o, (k, f) =>
            {
                var data = k.Input(f, 0); var y = k.Output(f);
                for (int i = 0; i < src.Length; i++) y[i] = data[src[i]];
            }, "gather");
        }) { Attributes = ["axis"], Kernels = "gather (constant indices)", ConformanceCases = ["test_gather", "!test_gather_elements"] },
        new("Transpose", new(1, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.TransposeShape(c.X, Perm(c))], (c, o) =>
        {
            int[] perm = Perm(c);
            return c.Lambda(o, (k, f) => ReferenceShapeOps.Transpose(k.Input(f, 0), k.InShapes[0], perm, k.Output(f)));
        }) { Attributes = ["perm"], ConformanceCases = ["test_transpose"] },
        // Pad read pads and value from attributes before opset 11, from inputs since.
        new("Pad", new(1, 10), OpTraits.ShapeOnly, c => [ReferenceShapeOps.PadShape(c.X, Pads(c))], (c, o) => Pad(c, o, c.Node.Float("value", 0f), runtimeValue: false))
        { Attributes = ["mode", "pads", "value"], ConformanceCases = ["test_pad", "test_constant_pad", "test_edge_pad", "test_reflect_pad"] },
        new("Pad", new(11, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.PadShape(c.X, Pads(c))], PadFromInputs)
        { Attributes = ["mode"], ConformanceCases = ["test_pad", "test_constant_pad", "test_edge_pad", "test_reflect_pad"] },
        LoadTime("Constant", 1, ["value", "value_float", "value_floats", "value_int", "value_ints"], ["test_constant", "!test_constant_pad", "!test_constantofshape"]),
        LoadTime("ConstantOfShape", 9, ["value"], ["test_constantofshape"]),
        LoadTime("Shape", 1, ["start", "end"], ["test_shape"]),
    ];

    /// <summary>An operator <see cref="ConstantFolder"/> evaluates at load; reaching the compiler means a run-time input.</summary>
    private static OpDef LoadTime(string name, int from, string[] attributes, string[] cases) =>
        new(name, new(from, 21), OpTraits.LoadTime,
            c => throw c.Unsupported("is evaluated at load only; its inputs must be constants."),
            (c, _) => throw c.Unsupported("is evaluated at load only; its inputs must be constants."))
        { Attributes = attributes, Kernels = "folded at load", ConformanceCases = cases };

    private static int ConcatAxis(OpContext c) =>
        c.Node.Find("axis") is null ? throw c.Unsupported("axis is required.") : (int)c.Node.Int("axis", 0);

    private static int[] Perm(OpContext c) => c.Node.Ints("perm")?.Select(v => (int)v).ToArray() ?? [];

    private static int[][] ReshapeShape(OpContext c, long[]? shape)
    {
        if (shape is null) throw c.Unsupported("the target shape must be a constant.");
        bool allowZero = c.Node.Int("allowzero", 0) != 0;
        return [ReferenceShapeOps.ReshapeShape(c.X, ResolveBatchMarkers(shape, allowZero), allowZero)];
    }

    /// <summary>Folded Shape outputs mark the run-time batch with <see cref="ConstantFolder.BatchMarker"/>; Reshape copies it (0).</summary>
    private static long[] ResolveBatchMarkers(long[] shape, bool allowZero)
    {
        if (!shape.Contains(ConstantFolder.BatchMarker)) return shape;
        if (allowZero) throw new LacunaFormatException("Reshape", "a run-time batch dimension cannot be copied when allowzero=1.");
        return shape.Select(v => v == ConstantFolder.BatchMarker ? 0 : v).ToArray();
    }

    private static int[][] UnsqueezeShape(OpContext c) => [ConstantFolder.UnsqueezeShape(c.Node, c.X, i => c.NeedConstant(i, "axes"))];

    private static int[] GatherSources(OpContext c, out int[] dims)
    {
        var indices = c.NeedConstant(1, "indices");
        return ConstantFolder.GatherSources(c.Node, c.X, indices.Dims, indices.AsInt64s(), out dims);
    }

    private static int[] Pads(OpContext c)
    {
        long[]? pads = c.Node.Opset < 11 ? c.Node.Ints("pads") : c.Constant(1)?.AsInt64s();
        if (pads is null) throw c.Unsupported("pads must be a constant.");
        return pads.Select(v => (int)v).ToArray();
    }

    private static NodeKernel PadFromInputs(OpContext c, int[][] outs)
    {
        if (c.Has(3)) throw c.Unsupported("the axes input is not supported.");
        if (!c.Has(2)) return Pad(c, outs, 0f, runtimeValue: false);
        // constant_value computed at run time: read the scalar on every call.
        return c.Constant(2) is { } v ? Pad(c, outs, v.AsFloats()[0], runtimeValue: false) : Pad(c, outs, 0f, runtimeValue: true);
    }

    private static NodeKernel Pad(OpContext c, int[][] outs, float value, bool runtimeValue)
    {
        var mode = OpAttributes.PadModeOf(c.Node);
        int[] p = Pads(c);
        return c.Lambda(outs, (k, f) => ReferenceShapeOps.Pad(k.Input(f, 0), k.InShapes[0], p, k.Output(f), mode,
            runtimeValue ? k.Input(f, 2)[0] : value));
    }
}
