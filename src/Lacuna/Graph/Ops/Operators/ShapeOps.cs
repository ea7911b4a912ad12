using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Data movement: Concat, Flatten, Reshape, Unsqueeze, Gather, Transpose, Pad; and the load-time operators
/// Constant, ConstantOfShape, Shape, which <see cref="ConstantFolder"/> always evaluates (their <see cref="OpDef.Fold"/>;
/// Gather and Unsqueeze also fold int64 shape vectors).
/// </summary>
internal static class ShapeOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Concat", new(1, 21), OpTraits.ShapeOnly | OpTraits.Variadic, c => [ReferenceShapeOps.ConcatShape(c.InShapes, ConcatAxis(c))], (c, o) =>
        {
            int axis = ConcatAxis(c), count = c.InShapes.Length;
            int a = axis < 0 ? axis + c.X.Length : axis;
            int[] offsets = new int[count];
            for (int i = 1; i < count; i++) offsets[i] = offsets[i - 1] + c.InShapes[i - 1][a];
            // Each input copied as strided blocks into its place: no temporary arrays (the reference's ToArray per
            // input and call made DenseNet-121's 58 Concats 169 ms of a 318 ms run).
            return c.Lambda(o, (k, f) =>
            {
                var y = k.Output(f);
                for (int i = 0; i < count; i++)
                    Kernels.Layout.Concat.WritePart(k.Input(f, i), k.InShapes[i], a, offsets[i], y, k.OutShapes[0]);
            }, "Concat.WritePart");
        }) { Attributes = ["axis"], Kernels = "Concat.WritePart", ConformanceCases = ["test_concat"] },
        new("Flatten", new(1, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.FlattenShape(c.X, (int)c.Node.Int("axis", 1))], (c, o) => c.Copy(o))
        { Attributes = ["axis"], Kernels = "copy", ConformanceCases = ["test_flatten"] },
        // Reshape took its target shape as an attribute before opset 5, as an input since.
        new("Reshape", new(1, 4), OpTraits.ShapeOnly, c => ReshapeShape(c, c.Node.Ints("shape")), (c, o) => c.Copy(o))
        { Attributes = ["shape", "consumed_inputs"], Kernels = "copy", ConformanceCases = ["test_reshape"] },
        new("Reshape", new(5, 21), OpTraits.ShapeOnly, c => ReshapeShape(c, c.Constant(1)?.AsInt64s()), (c, o) => c.Copy(o))
        { Attributes = ["allowzero"], Kernels = "copy", ConformanceCases = ["test_reshape"] },
        // Unsqueeze took axes as an attribute before opset 13, as an input since (UnsqueezeDims reads both).
        new("Unsqueeze", new(1, 12), OpTraits.ShapeOnly, UnsqueezeShape, (c, o) => c.Copy(o))
        { Attributes = ["axes"], Kernels = "copy", ConformanceCases = ["test_unsqueeze"], Fold = FoldUnsqueeze },
        new("Unsqueeze", new(13, 21), OpTraits.ShapeOnly, UnsqueezeShape, (c, o) => c.Copy(o))
        { Kernels = "copy", ConformanceCases = ["test_unsqueeze"], Fold = FoldUnsqueeze },
        new("Gather", new(1, 21), OpTraits.ShapeOnly, GatherShape, (c, o) =>
        {
            if (c.Constant(1) is null) return RuntimeGather(c, o);
            int[] src = GatherSources(c, out _);
            return c.Lambda(o, (k, f) =>
            {
                var data = k.Input(f, 0); var y = k.Output(f);
                for (int i = 0; i < src.Length; i++) y[i] = data[src[i]];
            }, "gather");
        }) { Attributes = ["axis"], Kernels = "gather (constant indices); row copies (run-time int64 indices: embedding lookup)", ConformanceCases = ["test_gather", "!test_gather_elements"], Fold = FoldGather },
        new("Transpose", new(1, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.TransposeShape(c.X, Perm(c))], (c, o) =>
        {
            int[] perm = Perm(c);
            return c.Lambda(o, (k, f) => Kernels.Layout.Transpose.Compute(k.Input(f, 0), k.InShapes[0], perm, k.Output(f)), "Transpose");
        }) { Attributes = ["perm"], Kernels = "Transpose (blocked)", ConformanceCases = ["test_transpose"] },
        // Internal (GraphPasses.FuseChannelShuffle): Reshape [N,C,...] → [N,g,C/g,...], Transpose (0,2,1,...), Reshape back,
        // as one copy. Inputs 1 and 2 are the two Reshapes' constant target shapes, kept so the exporter can write the
        // three ONNX nodes back.
        new("ChannelShuffle", new(1, 21), OpTraits.ShapeOnly | OpTraits.Internal, c => [ChannelShuffleShape(c)], (c, o) =>
        {
            int groups = (int)c.Node.Int("groups", 0);
            return c.Lambda(o, (k, f) => Kernels.Layout.Transpose.ChannelShuffle(k.Input(f, 0), k.InShapes[0], groups, k.Output(f)), "Transpose.ChannelShuffle");
        }) { Attributes = ["groups"], Kernels = "Transpose.ChannelShuffle (internal: fused Reshape-Transpose-Reshape)" },
        // Pad read pads and value from attributes before opset 11, from inputs since.
        new("Pad", new(1, 10), OpTraits.ShapeOnly, c => [ReferenceShapeOps.PadShape(c.X, Pads(c))], (c, o) => Pad(c, o, c.Node.Float("value", 0f), runtimeValue: false))
        { Attributes = ["mode", "pads", "value"], Kernels = "Pad", ConformanceCases = ["test_pad", "test_constant_pad", "test_edge_pad", "test_reflect_pad"] },
        new("Pad", new(11, 21), OpTraits.ShapeOnly, c => [ReferenceShapeOps.PadShape(c.X, Pads(c))], PadFromInputs)
        { Attributes = ["mode"], Kernels = "Pad", ConformanceCases = ["test_pad", "test_constant_pad", "test_edge_pad", "test_reflect_pad"] },
        LoadTime("Constant", 1, ["value", "value_float", "value_floats", "value_int", "value_ints"], FoldConstant, ["test_constant", "!test_constant_pad", "!test_constantofshape"]),
        LoadTime("ConstantOfShape", 9, ["value"], FoldConstantOfShape, ["test_constantofshape"]),
        LoadTime("Shape", 1, ["start", "end"], FoldShape, ["test_shape"]),
        LoadTime("Size", 1, [], FoldSize, ["test_size"]),
    ];

    /// <summary>An operator <see cref="ConstantFolder"/> evaluates at load; reaching the compiler means a run-time input.</summary>
    private static OpDef LoadTime(string name, int from, string[] attributes, Func<FoldContext, GraphTensor[]> fold, string[] cases) =>
        new(name, new(from, 21), OpTraits.LoadTime,
            c => throw c.Unsupported("is evaluated at load only; its inputs must be constants."),
            (c, _) => throw c.Unsupported("is evaluated at load only; its inputs must be constants."))
        { Attributes = attributes, Kernels = "folded at load", ConformanceCases = cases, Fold = fold };

    private static GraphTensor[] FoldConstant(FoldContext c)
    {
        var n = c.Node;
        if (n.Find("value") is { Tensor: { } t }) return [t];
        if (n.Find("value_float") is { } vf) return [new GraphTensor("", [], [vf.Float])];
        if (n.Find("value_floats") is { Floats: { } fs }) return [new GraphTensor("", [fs.Length], fs)];
        if (n.Find("value_int") is { } vi) return [new GraphTensor("", [], [vi.Int])];
        if (n.Find("value_ints") is { Ints: { } ls }) return [new GraphTensor("", [ls.Length], ls)];
        throw UnsupportedOperatorException.For(n, "only tensor, float(s) and int(s) values are supported.");
    }

    private static GraphTensor[] FoldConstantOfShape(FoldContext c)
    {
        long[] dims = c.Need(0).AsInt64s();
        if (dims.Any(d => d < 0)) throw UnsupportedOperatorException.For(c.Node, "the shape depends on the run-time batch.");
        int[] shape = dims.Select(d => (int)d).ToArray();
        int count = Broadcast.ElementCount(shape);
        var v = c.Node.Find("value")?.Tensor;
        if (v is { ElementType: GraphElementType.Int64 }) return [new GraphTensor("", shape, Enumerable.Repeat(v.Int64s![0], count).ToArray())];
        return [new GraphTensor("", shape, Enumerable.Repeat(v?.Floats![0] ?? 0f, count).ToArray())];
    }

    /// <summary>Shape of the input at the folder's probe batches; a dimension that differs is <see cref="ConstantFolder.BatchMarker"/>.</summary>
    private static GraphTensor[] FoldShape(FoldContext c)
    {
        var n = c.Node;
        var probes = c.ProbeShapes(n.Inputs[0]);
        int rank = probes[0].Length;
        int start = (int)n.Int("start", 0), end = (int)n.Int("end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        var dims = new long[Math.Max(0, end - start)];
        for (int i = 0; i < dims.Length; i++)
            dims[i] = probes.All(p => p[start + i] == probes[0][start + i]) ? probes[0][start + i] : ConstantFolder.BatchMarker;
        return [new GraphTensor("", [dims.Length], dims)];
    }

    /// <summary>The input's element count, which must not depend on the folder's probe batch (plans evaluate it per shape).</summary>
    private static GraphTensor[] FoldSize(FoldContext c)
    {
        var counts = c.ProbeShapes(c.Node.Inputs[0]).Select(s => Broadcast.ElementCount(s)).Distinct().ToArray();
        if (counts.Length != 1) throw UnsupportedOperatorException.For(c.Node, "the element count depends on the run-time batch.");
        return [new GraphTensor("", [], [(long)counts[0]])];
    }

    /// <summary>Gather of constants (float or int64: the Shape → Gather chains exporters emit).</summary>
    private static GraphTensor[] FoldGather(FoldContext c)
    {
        GraphTensor data = c.Need(0), indices = c.Need(1);
        var src = GatherSources(c.Node, data.Dims, indices.Dims, indices.AsInt64s(), out var dims);
        return [data.Floats is not null
            ? new GraphTensor("", dims, src.Select(i => data.Floats[i]).ToArray())
            : new GraphTensor("", dims, src.Select(i => data.Int64s![i]).ToArray())];
    }

    private static GraphTensor[] FoldUnsqueeze(FoldContext c)
    {
        var x = c.Need(0);
        int[] dims = UnsqueezeDims(c.Node, x.Dims, c.Need);
        return [x.Floats is not null ? new GraphTensor("", dims, x.Floats) : new GraphTensor("", dims, x.Int64s!)];
    }

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

    /// <summary>
    /// The fused shuffle's output shape (the input's), after checking that the first target shape splits the channels
    /// into [N, groups, C/groups, rest...] and the second restores the input shape, which is what makes the three
    /// nodes one channel shuffle.
    /// </summary>
    private static int[] ChannelShuffleShape(OpContext c)
    {
        int groups = (int)c.Node.Int("groups", 0);
        int[] x = c.X;
        if (x.Length < 2 || groups < 1 || x[1] % groups != 0)
            throw c.Unsupported($"input {Broadcast.Format(x)} does not split into {groups} channel groups.");
        int[] split = ReshapeTo(x, c.NeedConstant(1, "the split shape").AsInt64s());
        int[] expected = [x[0], groups, x[1] / groups, .. x[2..]];
        if (!split.SequenceEqual(expected)) throw c.Unsupported($"the split shape {Broadcast.Format(split)} is not {Broadcast.Format(expected)}.");
        int[] back = ReshapeTo([x[0], x[1] / groups, groups, .. x[2..]], c.NeedConstant(2, "the merge shape").AsInt64s());
        if (!back.SequenceEqual(x)) throw c.Unsupported($"the merge shape {Broadcast.Format(back)} is not the input's {Broadcast.Format(x)}.");
        return x;
    }

    /// <summary>Reshape's output shape for a constant target (allowzero=0), with a folded run-time batch resolved.</summary>
    internal static int[] ReshapeTo(int[] input, long[] shape) => ReferenceShapeOps.ReshapeShape(input, ResolveBatchMarkers(shape, false), false);

    private static int[][] UnsqueezeShape(OpContext c) => [UnsqueezeDims(c.Node, c.X, i => c.NeedConstant(i, "axes"))];

    /// <summary>Unsqueeze's output shape: axes (attribute before opset 13, constant input after) are positions in the output.</summary>
    private static int[] UnsqueezeDims(GraphNode n, int[] input, Func<int, GraphTensor> constant)
    {
        long[] axes = n.Opset < 13 ? n.Ints("axes") ?? [] : constant(1).AsInt64s();
        int rank = input.Length + axes.Length;
        var norm = axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        if (norm.Count != axes.Length || norm.Any(a => a < 0 || a >= rank))
            throw new LacunaFormatException(n.Describe(), $"axes [{string.Join(", ", axes)}] are invalid for output rank {rank}.");
        var dims = new int[rank];
        int src = 0;
        for (int i = 0; i < rank; i++) dims[i] = norm.Contains(i) ? 1 : input[src++];
        return dims;
    }

    private static int[][] GatherShape(OpContext c)
    {
        if (c.Constant(1) is not null) { GatherSources(c, out int[] dims); return [dims]; }
        var (axis, _, _, _) = GatherGeometry(c);
        return [[.. c.X[..axis], .. c.InShapes[1], .. c.X[(axis + 1)..]]];
    }

    private static (int Axis, int Outer, int Size, int Inner) GatherGeometry(OpContext c)
    {
        int rank = c.X.Length, axis = (int)c.Node.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw c.Unsupported($"axis {c.Node.Int("axis", 0)} is out of range for rank {rank}.");
        return (axis, Broadcast.ElementCount(c.X[..axis]), c.X[axis], Broadcast.ElementCount(c.X[(axis + 1)..]));
    }

    /// <summary>
    /// Gather with indices computed or fed at run time (an embedding lookup of token ids): each index is read from its
    /// exact float (see <see cref="InferenceSession.MaxExactInteger"/>), checked against the axis, and its row of
    /// <c>inner</c> floats copied. An index out of range is an error naming the node, position and value.
    /// </summary>
    private static NodeKernel RuntimeGather(OpContext c, int[][] outs)
    {
        var (_, outer, size, inner) = GatherGeometry(c);
        string node = c.Node.Describe();
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> data = k.Input(f, 0), idx = k.Input(f, 1);
            var y = k.Output(f);
            int count = idx.Length;
            for (int j = 0; j < count; j++)
            {
                float v = idx[j];
                long at = (long)v;
                if (at < 0) at += size;
                if (!float.IsInteger(v) || at < 0 || at >= size)
                    throw new LacunaFormatException(node, $"index {v} at position {j} is out of range for axis size {size}.");
                for (int o = 0; o < outer; o++)
                    data.Slice((o * size + (int)at) * inner, inner).CopyTo(y.Slice((o * count + j) * inner, inner));
            }
        }, "gather rows (run-time indices)");
    }

    private static int[] GatherSources(OpContext c, out int[] dims)
    {
        var indices = c.NeedConstant(1, "indices");
        return GatherSources(c.Node, c.X, indices.Dims, indices.AsInt64s(), out dims);
    }

    /// <summary>For each output element of Gather(data, indices, axis), the data element it copies.</summary>
    private static int[] GatherSources(GraphNode n, int[] dataDims, int[] indexDims, long[] idx, out int[] dims)
    {
        int rank = dataDims.Length;
        int axis = (int)n.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw UnsupportedOperatorException.For(n, $"axis {n.Int("axis", 0)} is out of range for rank {rank}.");
        int outer = dataDims[..axis].Aggregate(1, (a, b) => a * b);
        int inner = dataDims[(axis + 1)..].Aggregate(1, (a, b) => a * b);
        int size = dataDims[axis];
        dims = [.. dataDims[..axis], .. indexDims, .. dataDims[(axis + 1)..]];
        return Enumerable.Range(0, outer * idx.Length * inner).Select(i =>
        {
            int o = i / (idx.Length * inner), j = i / inner % idx.Length, r = i % inner;
            long at = idx[j] < 0 ? idx[j] + size : idx[j];
            if (at < 0 || at >= size) throw new LacunaFormatException(n.Describe(), $"index {idx[j]} is out of range for axis size {size}.");
            return (o * size + (int)at) * inner + r;
        }).ToArray();
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
        return c.Lambda(outs, (k, f) => Kernels.Layout.Pad.Compute(k.Input(f, 0), k.InShapes[0], p, k.Output(f), mode,
            runtimeValue ? k.Input(f, 2)[0] : value), "Pad");
    }
}
