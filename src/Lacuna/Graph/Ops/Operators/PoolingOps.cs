using Lacuna.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Pooling: MaxPool / AveragePool over 1, 2 or 3 spatial axes, GlobalAverage/MaxPool. 2-D runs the fast kernels, and
/// 1-D runs them as 2-D with H = 1; 3-D and MaxPool's Indices output run the N-D reference (<see cref="ReferencePoolNd"/>).
/// </summary>
internal static class PoolingOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("MaxPool", new(1, 21), OpTraits.None, PoolShape, (c, o) => Pool(c, o, max: true))
        {
            Attributes = ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"],
            Kernels = "MaxPool2d (2-D; 1-D as H = 1); N-D reference (3-D, Indices output)",
            ConformanceCases = ["test_maxpool"],
        },
        new("AveragePool", new(1, 21), OpTraits.None, PoolShape, (c, o) => Pool(c, o, max: false))
        {
            Attributes = ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"],
            Kernels = "AveragePool2d (2-D; 1-D as H = 1); N-D reference (3-D)",
            ConformanceCases = ["test_averagepool"],
        },
        new("GlobalAveragePool", new(1, 21), OpTraits.None, c => [ReferencePool.GlobalAveragePoolShape(c.X)],
            (c, o) => c.Lambda(o, (k, f) => GlobalPool.Average(k.Input(f, 0), k.InShapes[0], k.Output(f)), "GlobalPool.Average"))
        {
            Kernels = "GlobalPool.Average",
            ConformanceCases = ["test_globalaveragepool"],
        },
        new("GlobalMaxPool", new(1, 21), OpTraits.None, c => [ReferencePool.GlobalMaxPoolShape(c.X)],
            (c, o) => c.Lambda(o, (k, f) => GlobalPool.Max(k.Input(f, 0), k.InShapes[0], k.Output(f)), "GlobalPool.Max"))
        {
            Kernels = "GlobalPool.Max",
            ConformanceCases = ["test_globalmaxpool"],
        },
    ];

    /// <summary>The node's pooling attributes for its input rank (kernel_shape required; strides, pads, dilations default to 1, 0, 1).</summary>
    private static PoolNdParams Params(OpContext c)
    {
        var n = c.Node;
        string autoPad = n.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "")) throw c.Unsupported($"auto_pad {autoPad} was not resolved (input spatial size unknown).");
        if (c.X.Length < 3) throw c.Unsupported($"input must be rank ≥ 3 (N, C, spatial...); got rank {c.X.Length}.");
        int k = c.X.Length - 2;
        int[] Ints(string name, int fill, int count)
        {
            long[] v = n.Ints(name) ?? Enumerable.Repeat((long)fill, count).ToArray();
            if (v.Length != count) throw c.Unsupported($"{name} has {v.Length} values; a rank-{c.X.Length} input needs {count}.");
            return v.Select(x => checked((int)x)).ToArray();
        }
        if (n.Ints("kernel_shape") is null) throw c.Unsupported("kernel_shape is required.");
        int[] kernel = Ints("kernel_shape", 1, k), pads = Ints("pads", 0, 2 * k);
        long storage = n.Int("storage_order", 0), ceil = n.Int("ceil_mode", 0), include = n.Int("count_include_pad", 0);
        if (storage is not (0 or 1)) throw c.Unsupported($"storage_order must be 0 or 1; got {storage}.");
        if (ceil is not (0 or 1)) throw c.Unsupported($"ceil_mode must be 0 or 1; got {ceil}.");
        if (include is not (0 or 1)) throw c.Unsupported($"count_include_pad must be 0 or 1; got {include}.");
        var p = new PoolNdParams(kernel, Ints("strides", 1, k), pads[..k], pads[k..], Ints("dilations", 1, k), ceil != 0, include != 0, storage != 0);
        p.Validate();
        return p;
    }

    private static int[][] PoolShape(OpContext c)
    {
        int[] y = Params(c).OutputShape(c.X, c.Node.OpType);
        if (!c.HasOutput(1)) return [y];
        if (c.Node.OpType != "MaxPool") throw c.Unsupported("has one output only.");
        long count = 1;
        foreach (int d in c.X) count *= d;
        if (count > InferenceSession.MaxExactInteger)
            throw c.Unsupported($"the Indices output needs flat indices up to {count - 1}; int64 values travel as exact floats only up to {InferenceSession.MaxExactInteger}.");
        return [y, y];
    }

    /// <summary>One or two spatial axes as <see cref="Pool2dParams"/> (1-D as H = 1 with a 1-tall window).</summary>
    private static Pool2dParams As2d(PoolNdParams p) => p.Rank == 2
        ? new(p.Kernel[0], p.Kernel[1], p.Strides[0], p.Strides[1], p.PadsBegin[0], p.PadsBegin[1], p.PadsEnd[0], p.PadsEnd[1], p.Dilations[0], p.Dilations[1], p.CeilMode, p.CountIncludePad)
        : new(1, p.Kernel[0], 1, p.Strides[0], 0, p.PadsBegin[0], 0, p.PadsEnd[0], 1, p.Dilations[0], p.CeilMode, p.CountIncludePad);

    private static NodeKernel Pool(OpContext c, int[][] outs, bool max)
    {
        var p = Params(c);
        bool indices = c.HasOutput(1);
        if (!indices && p.Rank is 1 or 2)
        {
            var p2 = As2d(p);
            int[] shape4 = p.Rank == 2 ? c.X : [c.X[0], c.X[1], 1, c.X[2]];
            string suffix = p.Rank == 1 ? " (1-D as H = 1)" : "";
            if (max) return c.Lambda(outs, (k, f) => MaxPool2d.Compute(k.Input(f, 0), shape4, k.Output(f), p2), "MaxPool2d" + suffix);
            return c.Lambda(outs, (k, f) => AveragePool2d.Compute(k.Input(f, 0), shape4, k.Output(f), p2), "AveragePool2d" + suffix);
        }
        int count = Broadcast.ElementCount(outs[0]);
        if (!max) return c.Lambda(outs, (k, f) => ReferencePoolNd.AveragePool(k.Input(f, 0), k.InShapes[0], k.Output(f), p), "ReferencePoolNd.AveragePool");
        return c.Lambda(outs, (k, f) =>
        {
            if (!indices) { ReferencePoolNd.MaxPool(k.Input(f, 0), k.InShapes[0], k.Output(f), [], p); return; }
            var at = new long[count];
            ReferencePoolNd.MaxPool(k.Input(f, 0), k.InShapes[0], k.Output(f), at, p);
            var y1 = k.Output(f, 1);
            for (int i = 0; i < count; i++) y1[i] = at[i]; // exact: checked against MaxExactInteger at planning
        }, indices ? "ReferencePoolNd.MaxPool + Indices" : "ReferencePoolNd.MaxPool");
    }
}
