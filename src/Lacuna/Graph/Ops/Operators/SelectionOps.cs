using Lacuna.Kernels.Reduce;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Operators that select by index: ArgMax/ArgMin (int64 indices as exact floats, on <see cref="ArgReduce"/>), and
/// GatherElements / GatherND with constant or run-time indices (each index checked, negative counted from the end;
/// these run their reference, <see cref="ReferenceIndexing"/>, which copies a slice per index tuple).
/// </summary>
internal static class SelectionOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        ArgDef("ArgMax", max: true), ArgDef("ArgMin", max: false),
        new("GatherElements", new(11, 21), OpTraits.None, c => [GatherElementsShape(c)], (c, o) =>
        {
            int axis = GatherElementsAxis(c);
            int[] data = c.X, index = c.InShapes[1];
            return c.Lambda(o, (k, f) => ReferenceIndexing.GatherElements(k.Input(f, 0), data, k.Input(f, 1), index, axis, k.Output(f)), "ReferenceIndexing.GatherElements");
        }) { Attributes = ["axis"], Kernels = "reference (index per element)", ConformanceCases = ["test_gather_elements"] },
        new("GatherND", new(11, 21), OpTraits.None, c => [ReferenceIndexing.GatherNDShape(c.X, c.InShapes[1], BatchDims(c))], (c, o) =>
        {
            int batchDims = BatchDims(c);
            int[] data = c.X, index = c.InShapes[1];
            return c.Lambda(o, (k, f) => ReferenceIndexing.GatherND(k.Input(f, 0), data, k.Input(f, 1), index, batchDims, k.Output(f)), "ReferenceIndexing.GatherND");
        }) { Attributes = ["batch_dims"], Kernels = "reference (slice copy per index tuple)", ConformanceCases = ["test_gathernd"] },
    ];

    private static OpDef ArgDef(string name, bool max) =>
        new(name, new(1, 21), OpTraits.None, c => [ArgShape(c)], (c, o) =>
        {
            var (axis, outer, r, inner) = ArgGeometry(c);
            bool last = c.Node.Int("select_last_index", 0) != 0;
            return c.Lambda(o, (k, f) => ArgReduce.Run(k.Input(f, 0), outer, r, inner, max, last, k.Output(f)), $"ArgReduce {(inner == 1 ? "rows" : "columns")}");
        }) { Attributes = ["axis", "keepdims", "select_last_index"], Kernels = "ArgReduce: Vector<float> running extreme per column; row scan", ConformanceCases = ["test_" + name.ToLowerInvariant()] };

    private static (int Axis, int Outer, int R, int Inner) ArgGeometry(OpContext c)
    {
        int rank = c.X.Length;
        long a = c.Node.Int("axis", 0), keep = c.Node.Int("keepdims", 1), last = c.Node.Int("select_last_index", 0);
        if (rank < 1) throw c.Unsupported("input must have rank ≥ 1.");
        int axis = (int)(a < 0 ? a + rank : a);
        if (axis < 0 || axis >= rank) throw c.Unsupported($"axis {a} is out of range for rank {rank}.");
        if (keep is not (0 or 1)) throw c.Unsupported($"keepdims must be 0 or 1; got {keep}.");
        if (last is not (0 or 1)) throw c.Unsupported($"select_last_index must be 0 or 1; got {last}.");
        if (c.X[axis] == 0) throw c.Unsupported($"axis {a} of {Broadcast.Format(c.X)} is empty: there is no extreme to index.");
        return (axis, Broadcast.ElementCount(c.X[..axis]), c.X[axis], Broadcast.ElementCount(c.X[(axis + 1)..]));
    }

    private static int[] ArgShape(OpContext c)
    {
        int axis = ArgGeometry(c).Axis;
        return c.Node.Int("keepdims", 1) != 0 ? c.X.Select((d, i) => i == axis ? 1 : d).ToArray() : c.X.Where((_, i) => i != axis).ToArray();
    }

    private static int GatherElementsAxis(OpContext c)
    {
        int rank = c.X.Length;
        long a = c.Node.Int("axis", 0);
        int axis = (int)(a < 0 ? a + rank : a);
        if (axis < 0 || axis >= rank) throw c.Unsupported($"axis {a} is out of range for rank {rank}.");
        return axis;
    }

    private static int[] GatherElementsShape(OpContext c)
    {
        int axis = GatherElementsAxis(c);
        int[] data = c.X, index = c.InShapes[1];
        if (index.Length != data.Length)
            throw new ShapeMismatchException("indices", $"{c.Node.Describe()}: indices {Broadcast.Format(index)} must have the rank of data {Broadcast.Format(data)}.");
        for (int d = 0; d < data.Length; d++)
            if (d != axis && index[d] > data[d])
                throw new ShapeMismatchException("indices", $"{c.Node.Describe()}: indices {Broadcast.Format(index)} exceed data {Broadcast.Format(data)} along axis {d}.");
        return index;
    }

    private static int BatchDims(OpContext c)
    {
        long b = c.Node.Int("batch_dims", 0);
        int limit = Math.Min(c.X.Length, c.InShapes[1].Length);
        if (b < 0 || b >= limit) throw c.Unsupported($"batch_dims {b} must be in [0, {limit - 1}].");
        return (int)b;
    }
}
