using Lacuna.Kernels.Reduce;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// The reductions ReduceMean, Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum and LogSumExp: axes an attribute before
/// opset 18 (13 for ReduceSum), an optional constant input since (with noop_with_empty_axes).
/// Axes that form one contiguous block reduce as [outer, r, inner] on <see cref="ReduceKernels"/> (rows, or rows of
/// inner accumulated); any other set through a precomputed output index per element.
/// Reference: <see cref="Kernels.Reference.ReferenceReduce"/>.
/// </summary>
internal static class ReduceOps
{
    public static IEnumerable<OpDef> Defs => Enum.GetValues<ReduceKind>().SelectMany(k => Pair(k, k == ReduceKind.Sum ? 13 : 18));

    /// <summary>The attribute-axes definition up to <paramref name="inputFrom"/> − 1 and the input-axes one from it.</summary>
    private static OpDef[] Pair(ReduceKind kind, int inputFrom)
    {
        string name = ReduceKernels.OperatorName(kind);
        string prefix = "test_" + string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
        // "test_reduce_sum" would also own test_reduce_sum_square_*, "test_reduce_log_sum" test_reduce_log_sum_exp_*.
        string[] cases = kind switch
        {
            ReduceKind.Sum => [prefix, "!test_reduce_sum_square"],
            ReduceKind.LogSum => [prefix, "!test_reduce_log_sum_exp"],
            _ => [prefix],
        };
        const string kernels = "ReduceKernels: TensorPrimitives rows / accumulated rows; index map for scattered axes";
        return
        [
            new(name, new(1, inputFrom - 1), OpTraits.None, c => [Plan(c, c.Node.Ints("axes")).Shape], (c, o) => Compile(c, o, c.Node.Ints("axes"), kind))
            { Attributes = ["axes", "keepdims"], Kernels = kernels, ConformanceCases = cases },
            new(name, new(inputFrom, 21), OpTraits.None, c => [Plan(c, Axes(c)).Shape], (c, o) => Compile(c, o, Axes(c), kind))
            { Attributes = ["keepdims", "noop_with_empty_axes"], Kernels = kernels, ConformanceCases = cases },
        ];
    }

    private static long[]? Axes(OpContext c) => c.Has(1) ? c.NeedConstant(1, "axes").AsInt64s() : null;

    private sealed record ReducePlan(int[] Shape, bool[] Reduced, bool Noop);

    private static ReducePlan Plan(OpContext c, long[]? axes)
    {
        int rank = c.X.Length;
        long keepdims = c.Node.Int("keepdims", 1), noop = c.Node.Int("noop_with_empty_axes", 0);
        if (keepdims is not (0 or 1)) throw c.Unsupported($"keepdims must be 0 or 1; got {keepdims}.");
        if (noop is not (0 or 1)) throw c.Unsupported($"noop_with_empty_axes must be 0 or 1; got {noop}.");
        if ((axes is null || axes.Length == 0) && noop != 0)
            return new ReducePlan(c.X, new bool[rank], true);
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0) Array.Fill(reduced, true);
        else
            foreach (long a in axes)
            {
                int ax = (int)(a < 0 ? a + rank : a);
                if (ax < 0 || ax >= rank) throw c.Unsupported($"axis {a} is out of range for rank {rank}.");
                if (reduced[ax]) throw c.Unsupported($"axis {a} is listed twice in axes [{string.Join(", ", axes)}].");
                reduced[ax] = true;
            }
        var shape = new List<int>();
        for (int d = 0; d < rank; d++)
            if (!reduced[d]) shape.Add(c.X[d]);
            else if (keepdims != 0) shape.Add(1);
        return new ReducePlan([.. shape], reduced, false);
    }

    private static NodeKernel Compile(OpContext c, int[][] outs, long[]? axes, ReduceKind kind)
    {
        var p = Plan(c, axes);
        int[] x = c.X;
        int rank = x.Length, first = Array.IndexOf(p.Reduced, true), lastR = Array.LastIndexOf(p.Reduced, true);
        if (p.Noop) return c.Copy(outs); // the specification: the output equals the input
        // A rank-0 input: one group of one element, finished (L1 |x|, LogSum log x ...).
        if (first < 0) return c.Lambda(outs, (k, f) => ReduceKernels.Rows(kind, k.Input(f, 0), 1, k.Output(f)), c.Node.OpType + " (no axes)");
        int r = 1;
        for (int d = first; d <= lastR; d++) if (p.Reduced[d]) r *= x[d];
        string name = c.Node.OpType;
        if (p.Reduced[first..(lastR + 1)].All(v => v))
        {
            int outer = Broadcast.ElementCount(x[..first]), inner = Broadcast.ElementCount(x[(lastR + 1)..]);
            if (inner == 1)
                return c.Lambda(outs, (k, f) => ReduceKernels.Rows(kind, k.Input(f, 0), r, k.Output(f)), name + " rows");
            return c.Lambda(outs, (k, f) => ReduceKernels.Columns(kind, k.Input(f, 0), outer, r, inner, k.Output(f)), name + " accumulated rows");
        }
        // Scattered axes: each input element's output index, precomputed.
        int count = Broadcast.ElementCount(x);
        int[] keptShape = x.Select((d, i) => p.Reduced[i] ? 1 : d).ToArray();
        int[] target = new int[count];
        var idx = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int o = 0;
            for (int d = 0; d < rank; d++) o = o * keptShape[d] + (p.Reduced[d] ? 0 : idx[d]);
            target[i] = o;
            for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < x[d]) break; idx[d] = 0; }
        }
        return c.Lambda(outs, (k, f) => ReduceKernels.Scattered(kind, k.Input(f, 0), target, r, k.Output(f)), name + " (index map)");
    }
}
