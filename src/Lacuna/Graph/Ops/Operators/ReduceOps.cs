using System.Numerics.Tensors;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// ReduceMean, ReduceSum and ReduceMax: axes an attribute before opset 18 (13 for ReduceSum), an optional constant
/// input since (with noop_with_empty_axes).
/// Axes that form one contiguous block reduce as [outer, r, inner] with TensorPrimitives (rows summed, or a row of
/// inner sums accumulated); any other set through a precomputed output index per element.
/// </summary>
internal static class ReduceOps
{
    private enum Kind { Mean, Sum, Max }

    public static IEnumerable<OpDef> Defs =>
    [
        .. Pair("ReduceMean", Kind.Mean, 18), .. Pair("ReduceSum", Kind.Sum, 13), .. Pair("ReduceMax", Kind.Max, 18),
    ];

    /// <summary>The attribute-axes definition up to <paramref name="inputFrom"/> − 1 and the input-axes one from it.</summary>
    private static OpDef[] Pair(string name, Kind kind, int inputFrom)
    {
        string[] cases = ["test_" + string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()))];
        const string kernels = "TensorPrimitives rows / column sums; index map for scattered axes";
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

    private static NodeKernel Compile(OpContext c, int[][] outs, long[]? axes, Kind kind)
    {
        var p = Plan(c, axes);
        if (p.Noop) return c.Copy(outs);
        int[] x = c.X;
        int rank = x.Length, first = Array.IndexOf(p.Reduced, true), lastR = Array.LastIndexOf(p.Reduced, true);
        if (first < 0) return c.Copy(outs);
        int r = 1;
        for (int d = first; d <= lastR; d++) if (p.Reduced[d]) r *= x[d];
        // Mean: the sum times 1/r (r = 0: 0 · ∞ gives NaN, the mean of nothing); Sum: times 1; Max: no scaling.
        float scale = kind == Kind.Mean ? 1f / r : 1f;
        bool max = kind == Kind.Max;
        float empty = max ? float.NegativeInfinity : 0f;
        string name = c.Node.OpType;
        if (p.Reduced[first..(lastR + 1)].All(v => v))
        {
            int outer = Broadcast.ElementCount(x[..first]), inner = Broadcast.ElementCount(x[(lastR + 1)..]);
            if (inner == 1)
                return c.Lambda(outs, (k, f) =>
                {
                    ReadOnlySpan<float> xs = k.Input(f, 0);
                    var y = k.Output(f);
                    for (int o = 0; o < outer; o++)
                        y[o] = r == 0 ? empty * scale : max ? TensorPrimitives.Max(xs.Slice(o * r, r)) : TensorPrimitives.Sum(xs.Slice(o * r, r)) * scale;
                }, name + " rows");
            return c.Lambda(outs, (k, f) =>
            {
                ReadOnlySpan<float> xs = k.Input(f, 0);
                var y = k.Output(f);
                for (int o = 0; o < outer; o++)
                {
                    var yo = y.Slice(o * inner, inner);
                    yo.Fill(empty);
                    for (int j = 0; j < r; j++)
                        if (max) TensorPrimitives.Max(yo, xs.Slice((o * r + j) * inner, inner), yo);
                        else TensorPrimitives.Add(yo, xs.Slice((o * r + j) * inner, inner), yo);
                    if (scale != 1f) TensorPrimitives.Multiply(yo, scale, yo);
                }
            }, name + " column sums");
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
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> xs = k.Input(f, 0);
            var y = k.Output(f);
            y.Fill(empty);
            for (int i = 0; i < count; i++)
                y[target[i]] = max ? MathF.Max(y[target[i]], xs[i]) : y[target[i]] + xs[i];
            if (scale != 1f) TensorPrimitives.Multiply(y, scale, y);
        }, name + " (index map)");
    }
}
