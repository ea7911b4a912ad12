using System.Numerics.Tensors;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// ReduceMean: axes an attribute before opset 18, an optional constant input since (with noop_with_empty_axes).
/// Axes that form one contiguous block reduce as [outer, r, inner] with TensorPrimitives (rows summed, or a row of
/// inner sums accumulated); any other set through a precomputed output index per element.
/// </summary>
internal static class ReduceOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("ReduceMean", new(1, 17), OpTraits.None, c => [Plan(c, c.Node.Ints("axes")).Shape], (c, o) => Compile(c, o, c.Node.Ints("axes")))
        { Attributes = ["axes", "keepdims"], Kernels = "TensorPrimitives rows / column sums", ConformanceCases = ["test_reduce_mean"] },
        new("ReduceMean", new(18, 21), OpTraits.None, c => [Plan(c, Axes(c)).Shape], (c, o) => Compile(c, o, Axes(c)))
        { Attributes = ["keepdims", "noop_with_empty_axes"], Kernels = "TensorPrimitives rows / column sums", ConformanceCases = ["test_reduce_mean"] },
    ];

    private static long[]? Axes(OpContext c) => c.Has(1) ? c.NeedConstant(1, "axes").AsInt64s() : null;

    private sealed record ReducePlan(int[] Shape, bool[] Reduced, bool Noop);

    private static ReducePlan Plan(OpContext c, long[]? axes)
    {
        int rank = c.X.Length;
        bool keep = c.Node.Int("keepdims", 1) != 0;
        if ((axes is null || axes.Length == 0) && c.Node.Int("noop_with_empty_axes", 0) != 0)
            return new ReducePlan(c.X, new bool[rank], true);
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0) Array.Fill(reduced, true);
        else
            foreach (long a in axes)
            {
                int ax = (int)(a < 0 ? a + rank : a);
                if (ax < 0 || ax >= rank) throw c.Unsupported($"axis {a} is out of range for rank {rank}.");
                reduced[ax] = true;
            }
        var shape = new List<int>();
        for (int d = 0; d < rank; d++)
            if (!reduced[d]) shape.Add(c.X[d]);
            else if (keep) shape.Add(1);
        return new ReducePlan([.. shape], reduced, false);
    }

    private static NodeKernel Compile(OpContext c, int[][] outs, long[]? axes)
    {
        var p = Plan(c, axes);
        if (p.Noop) return c.Copy(outs);
        int[] x = c.X;
        int rank = x.Length, first = Array.IndexOf(p.Reduced, true), lastR = Array.LastIndexOf(p.Reduced, true);
        if (first < 0) return c.Copy(outs);
        int r = 1;
        for (int d = first; d <= lastR; d++) r *= x[d];
        float scale = 1f / r; // r = 0: 0 · ∞ gives NaN, the mean of nothing
        if (p.Reduced[first..(lastR + 1)].All(v => v))
        {
            int outer = Broadcast.ElementCount(x[..first]), inner = Broadcast.ElementCount(x[(lastR + 1)..]);
            if (inner == 1)
                return c.Lambda(outs, (k, f) =>
                {
                    ReadOnlySpan<float> xs = k.Input(f, 0);
                    var y = k.Output(f);
                    for (int o = 0; o < outer; o++) y[o] = r == 0 ? float.NaN : TensorPrimitives.Sum(xs.Slice(o * r, r)) * scale;
                }, "ReduceMean rows");
            return c.Lambda(outs, (k, f) =>
            {
                ReadOnlySpan<float> xs = k.Input(f, 0);
                var y = k.Output(f);
                for (int o = 0; o < outer; o++)
                {
                    var yo = y.Slice(o * inner, inner);
                    yo.Clear();
                    for (int j = 0; j < r; j++) TensorPrimitives.Add(yo, xs.Slice((o * r + j) * inner, inner), yo);
                    TensorPrimitives.Multiply(yo, r == 0 ? float.NaN : scale, yo);
                }
            }, "ReduceMean column sums");
        }
        // Non-contiguous axes: each input element's output index, precomputed.
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
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> xs = k.Input(f, 0);
            var y = k.Output(f);
            y.Clear();
            for (int i = 0; i < count; i++) y[target[i]] += xs[i];
            TensorPrimitives.Multiply(y, scale, y);
        }, "ReduceMean (index map)");
    }
}
