using System.Numerics.Tensors;
using Lacuna.Kernels.Elementwise;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// The indexing and mask operators of exported transformers: Where, Equal, Cast, Expand, Squeeze, Split, Slice, Range.
/// int64 and bool values are exact floats at run time (see <see cref="InferenceSession.MaxExactInteger"/>): Equal and
/// a Cast to bool write 1/0, Where takes any non-zero as true, a Cast to an integer type truncates toward zero.
/// Shape-like inputs (Expand's shape, Slice's starts/ends/axes/steps, Split's sizes, Range's bounds) must be constants,
/// which includes values each plan evaluates from its concrete shapes.
/// </summary>
internal static class IndexingOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Where", new(9, 21), OpTraits.Elementwise, c => [WhereShape(c)], CompileWhere)
        { Kernels = "same-shape loop; precomputed broadcast indices", ConformanceCases = ["test_where"] },
        new("Equal", new(7, 21), OpTraits.Elementwise | OpTraits.Commutative, c => [Broadcast.Shape(c.X, c.InShapes[1], "Equal", "B")], (c, o) =>
        {
            var plan = new BroadcastPlan(c.X, c.InShapes[1], c.Node.Describe());
            return c.Lambda(o, (k, f) => plan.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), CompareKernels.Equal), "BroadcastPlan Equal");
        }) { Kernels = "BroadcastPlan + Vector<float> compare (1/0)", ConformanceCases = ["test_equal", "!test_equal_string"] },
        new("Cast", new(6, 21), OpTraits.Elementwise, c => [c.X], CompileCast)
        { Attributes = ["to", "saturate"], Kernels = "copy / CastKernels (round to FLOAT16, truncate to BFLOAT16) / TensorPrimitives.Truncate (8/16-bit targets wrapped) / x≠0", ConformanceCases = ["test_cast"] },
        new("Expand", new(8, 21), OpTraits.ShapeOnly, c => [ExpandShape(c)], (c, o) =>
        {
            var plan = new BroadcastPlan(c.X, o[0], c.Node.Describe());
            return c.Lambda(o, (k, f) => plan.Run(k.Input(f, 0), k.Output(f), k.Output(f), BinaryKernels.First), "BroadcastPlan copy");
        }) { Kernels = "BroadcastPlan copy", ConformanceCases = ["test_expand"] },
        new("Squeeze", new(1, 12), OpTraits.ShapeOnly, c => [SqueezeShape(c, c.Node.Ints("axes"))], (c, o) => c.Copy(o))
        { Attributes = ["axes"], Kernels = "copy", ConformanceCases = ["test_squeeze"] },
        new("Squeeze", new(13, 21), OpTraits.ShapeOnly, c => [SqueezeShape(c, c.Has(1) ? c.NeedConstant(1, "axes").AsInt64s() : null)], (c, o) => c.Copy(o))
        { Kernels = "copy", ConformanceCases = ["test_squeeze"] },
        new("Split", new(2, 12), OpTraits.ShapeOnly, c => SplitShapes(c, c.Node.Ints("split")), CompileSplit)
        { Attributes = ["axis", "split"], Kernels = "strided block copies", ConformanceCases = SplitCases },
        new("Split", new(13, 21), OpTraits.ShapeOnly, c => SplitShapes(c, c.Has(1) ? c.NeedConstant(1, "split").AsInt64s() : null), CompileSplit)
        { Attributes = ["axis", "num_outputs"], Kernels = "strided block copies", ConformanceCases = SplitCases },
        new("Slice", new(1, 9), OpTraits.ShapeOnly, c => [SlicePlan(c).Shape], CompileSlice)
        { Attributes = ["starts", "ends", "axes"], Kernels = "row copies", ConformanceCases = ["test_slice"] },
        new("Slice", new(10, 21), OpTraits.ShapeOnly, c => [SlicePlan(c).Shape], CompileSlice)
        { Kernels = "row copies", ConformanceCases = ["test_slice"] },
        new("Range", new(11, 21), OpTraits.None, c => [[RangeCount(c)]], (c, o) =>
        {
            float start = c.NeedConstant(0, "start").AsFloats()[0], delta = c.NeedConstant(2, "delta").AsFloats()[0];
            return c.Lambda(o, (k, f) => { var y = k.Output(f); for (int i = 0; i < y.Length; i++) y[i] = start + i * delta; }, "fill");
        })
        {
            // The output length is a function of the values, so they must be known when the plan is built (constants,
            // or shape arithmetic each plan evaluates); a model that feeds them as graph inputs has them bound as constants.
            Kernels = "fill", ConformanceCases = ["test_range"], ConstantInputs = [0, 1, 2],
        },
    ];

    private static readonly string[] SplitCases = ["test_split", "!test_split_to_sequence"];

    private static int[] WhereShape(OpContext c) =>
        Broadcast.Shape(Broadcast.Shape(c.X, c.InShapes[1], "Where", "X"), c.InShapes[2], "Where", "Y");

    private static NodeKernel CompileWhere(OpContext c, int[][] outs)
    {
        int[] y = outs[0];
        if (c.InShapes.All(s => s.AsSpan().SequenceEqual(y)))
            return c.Lambda(outs, (k, f) =>
            {
                ReadOnlySpan<float> cond = k.Input(f, 0), a = k.Input(f, 1), b = k.Input(f, 2);
                var o = k.Output(f);
                for (int i = 0; i < o.Length; i++) o[i] = cond[i] != 0 ? a[i] : b[i];
            }, "Where");
        int count = Broadcast.ElementCount(y);
        var src = c.InShapes.Select(s => { int[] st = Broadcast.Strides(s, y); return Enumerable.Range(0, count).Select(i => Broadcast.SourceIndex(i, y, st)).ToArray(); }).ToArray();
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> cond = k.Input(f, 0), a = k.Input(f, 1), b = k.Input(f, 2);
            var o = k.Output(f);
            int[] sc = src[0], sa = src[1], sb = src[2];
            for (int i = 0; i < o.Length; i++) o[i] = cond[sc[i]] != 0 ? a[sa[i]] : b[sb[i]];
        }, "Where (broadcast indices)");
    }

    private static NodeKernel CompileCast(OpContext c, int[][] outs)
    {
        long to = c.Node.Int("to", 0);
        return to switch
        {
            1 or 11 => c.Copy(outs), // FLOAT and DOUBLE hold every float exactly
            // The narrow float types keep their narrowed values as floats: FLOAT16 rounded to nearest (overflow to ±Inf),
            // BFLOAT16 truncated, as ONNX's reference and node tests define it; NaN stays NaN.
            10 => c.Lambda(outs, (k, f) => CastKernels.ToHalf(k.Input(f, 0), k.Output(f)), "round to FLOAT16"),
            16 => c.Lambda(outs, (k, f) => CastKernels.ToBFloat16(k.Input(f, 0), k.Output(f)), "truncate to BFLOAT16"),
            // 8- and 16-bit targets wrap like NumPy's astype (int64 300 to UINT8 is 44); their results are exact floats.
            2 or 3 or 4 or 5 => c.Lambda(outs, (k, f) =>
            {
                ReadOnlySpan<float> x = k.Input(f, 0);
                var y = k.Output(f);
                for (int i = 0; i < y.Length; i++) y[i] = float.IsFinite(x[i]) ? IntegerTypes.Wrap((long)x[i], (IntegerType)to) : 0f;
            }, "truncate and wrap"),
            6 or 7 or 12 or 13 => c.Lambda(outs, (k, f) => TensorPrimitives.Truncate(k.Input(f, 0), k.Output(f)), "TensorPrimitives.Truncate"),
            9 => c.Lambda(outs, (k, f) =>
            {
                ReadOnlySpan<float> x = k.Input(f, 0);
                var y = k.Output(f);
                for (int i = 0; i < y.Length; i++) y[i] = x[i] != 0 ? 1f : 0f;
            }, "x≠0"),
            _ => throw c.Unsupported($"cast to data type {to} is not supported (float, integer and bool types only)."),
        };
    }

    private static int[] ExpandShape(OpContext c)
    {
        int[] shape = c.NeedConstant(1, "shape").AsInt64s().Select(v => checked((int)v)).ToArray();
        return Broadcast.Shape(c.X, shape, c.Node.Describe(), "shape");
    }

    private static int[] SqueezeShape(OpContext c, long[]? axes)
    {
        int rank = c.X.Length;
        if (axes is null) return c.X.Where(d => d != 1).ToArray();
        var norm = axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        foreach (int a in norm)
            if (a < 0 || a >= rank || c.X[a] != 1)
                throw new ShapeMismatchException("axes", $"{c.Node.Describe()}: cannot squeeze axis {a} of {Broadcast.Format(c.X)} (must exist and be 1).");
        return c.X.Where((_, i) => !norm.Contains(i)).ToArray();
    }

    private static int Axis(OpContext c)
    {
        int rank = c.X.Length, axis = (int)c.Node.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw c.Unsupported($"axis {c.Node.Int("axis", 0)} is out of range for rank {rank}.");
        return axis;
    }

    private static int[][] SplitShapes(OpContext c, long[]? split)
    {
        int axis = Axis(c), dim = c.X[axis], parts = c.Node.Outputs.Count;
        if (split is null)
        {
            if (c.Node.Find("num_outputs") is { } no) parts = (int)no.Int;
            if (parts < 1) throw c.Unsupported("needs at least one output.");
            int chunk = (dim + parts - 1) / parts; // opset 18: the last part is smaller when dim does not divide
            if (c.Node.Opset < 18 && dim % parts != 0)
                throw new ShapeMismatchException("split", $"{c.Node.Describe()}: dimension {dim} does not split into {parts} equal parts.");
            split = Enumerable.Range(0, parts).Select(i => (long)Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
        }
        if (split.Sum() != dim || split.Any(v => v < 0))
            throw new ShapeMismatchException("split", $"{c.Node.Describe()}: sizes [{string.Join(", ", split)}] do not add up to dimension {dim} of {Broadcast.Format(c.X)}.");
        return split.Select(v => { int[] s = [.. c.X]; s[axis] = (int)v; return s; }).ToArray();
    }

    private static NodeKernel CompileSplit(OpContext c, int[][] outs)
    {
        int axis = Axis(c);
        int outer = Broadcast.ElementCount(c.X[..axis]), inner = Broadcast.ElementCount(c.X[(axis + 1)..]), dim = c.X[axis];
        int[] sizes = outs.Select(s => s[axis]).ToArray();
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> x = k.Input(f, 0);
            int offset = 0;
            for (int p = 0; p < sizes.Length; p++)
            {
                var y = k.Output(f, p);
                int block = sizes[p] * inner;
                for (int o = 0; o < outer; o++) x.Slice((o * dim + offset) * inner, block).CopyTo(y.Slice(o * block, block));
                offset += sizes[p];
            }
        }, "Split");
    }

    /// <summary>A slice's output shape and, per output row (innermost dimension), where it starts in X and its step.</summary>
    private sealed record SliceGeometry(int[] Shape, int[] Start, int[] Step);

    private static SliceGeometry SlicePlan(OpContext c)
    {
        var n = c.Node;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (n.Opset < 10)
        {
            starts = n.Ints("starts") ?? throw c.Unsupported("starts is required.");
            ends = n.Ints("ends") ?? throw c.Unsupported("ends is required.");
            axes = n.Ints("axes");
        }
        else
        {
            starts = c.NeedConstant(1, "starts").AsInt64s();
            ends = c.NeedConstant(2, "ends").AsInt64s();
            axes = c.Has(3) ? c.NeedConstant(3, "axes").AsInt64s() : null;
            steps = c.Has(4) ? c.NeedConstant(4, "steps").AsInt64s() : null;
        }
        int rank = c.X.Length;
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || (steps is not null && steps.Length != starts.Length))
            throw new ShapeMismatchException("starts", $"{n.Describe()}: starts, ends, axes and steps must have the same length.");
        int[] shape = [.. c.X], start = new int[rank], step = Enumerable.Repeat(1, rank).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int a = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
            if (a < 0 || a >= rank) throw c.Unsupported($"axis {axes[i]} is out of range for rank {rank}.");
            long d = c.X[a], st = steps?[i] ?? 1, s = starts[i], e = ends[i];
            if (st == 0) throw c.Unsupported("a step of 0 is not allowed.");
            if (s < 0) s += d;
            if (e < 0) e += d;
            long len;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, d); e = Math.Clamp(e, 0, d);
                len = Math.Max(0, (e - s + st - 1) / st);
            }
            else
            {
                s = Math.Clamp(s, 0, d - 1); e = Math.Clamp(e, -1, d - 1);
                len = Math.Max(0, (s - e + (-st) - 1) / -st);
            }
            shape[a] = (int)len;
            start[a] = (int)Math.Max(0, s);
            step[a] = (int)st;
        }
        return new SliceGeometry(shape, start, step);
    }

    private static NodeKernel CompileSlice(OpContext c, int[][] outs)
    {
        var g = SlicePlan(c);
        int rank = c.X.Length;
        if (rank == 0) return c.Copy(outs);
        int[] xStrides = new int[rank];
        for (int d = rank - 1, s = 1; d >= 0; d--) { xStrides[d] = s; s *= c.X[d]; }
        int last = g.Shape[^1], lastStep = g.Step[^1];
        int rows = last == 0 ? 0 : Broadcast.ElementCount(g.Shape) / last;
        // Source offset of each output row's first element.
        var rowStart = new int[rows];
        var index = new int[rank];
        for (int r = 0; r < rows; r++)
        {
            int off = g.Start[^1] * xStrides[^1];
            for (int d = 0; d < rank - 1; d++) off += (g.Start[d] + index[d] * g.Step[d]) * xStrides[d];
            rowStart[r] = off;
            for (int d = rank - 2; d >= 0; d--) { if (++index[d] < g.Shape[d]) break; index[d] = 0; }
        }
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> x = k.Input(f, 0);
            var y = k.Output(f);
            for (int r = 0; r < rows; r++)
            {
                var yr = y.Slice(r * last, last);
                if (lastStep == 1) x.Slice(rowStart[r], last).CopyTo(yr);
                else for (int i = 0; i < last; i++) yr[i] = x[rowStart[r] + i * lastStep];
            }
        }, "Slice rows");
    }

    private static int RangeCount(OpContext c)
    {
        // The output length is a function of the values, and a plan fixes every buffer's size before it runs.
        string[] names = ["start", "limit", "delta"];
        for (int i = 0; i < 3; i++)
            if (c.Constant(i) is null)
                throw c.Unsupported($"{names[i]} is computed from input values at run time; the output length depends on start, limit and delta, so they must be constants or computed from input shapes.");
        double start = c.Constant(0)!.AsFloats()[0], limit = c.Constant(1)!.AsFloats()[0], delta = c.Constant(2)!.AsFloats()[0];
        if (delta == 0) throw c.Unsupported("delta must not be 0.");
        return (int)Math.Max(0, Math.Ceiling((limit - start) / delta));
    }
}
