using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>Pooling: MaxPool / AveragePool (2-D on the fast kernels, other ranks on the reference), GlobalAverage/MaxPool.</summary>
internal static class PoolingOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("MaxPool", new(1, 21), OpTraits.None, PoolShape, (c, o) => Pool(c, o, max: true))
        {
            Attributes = ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"],
            Kernels = "MaxPool2d (rank 4); reference",
            ConformanceCases = ["test_maxpool"],
        },
        new("AveragePool", new(1, 21), OpTraits.None, PoolShape, (c, o) => Pool(c, o, max: false))
        {
            Attributes = ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"],
            Kernels = "AveragePool2d (rank 4); reference",
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

    private static int[][] PoolShape(OpContext c)
    {
        if (c.HasOutput(1)) throw c.Unsupported("the Indices output is not supported.");
        return [OpAttributes.Pool(c.Node).OutputShape(c.X, c.Node.OpType)];
    }

    private static NodeKernel Pool(OpContext c, int[][] outs, bool max)
    {
        var p = OpAttributes.Pool(c.Node);
        if (max && c.X.Length == 4)
            return c.Lambda(outs, (k, f) => MaxPool2d.Compute(k.Input(f, 0), k.InShapes[0], k.Output(f), p), "MaxPool2d");
        if (c.X.Length == 4)
            return c.Lambda(outs, (k, f) => AveragePool2d.Compute(k.Input(f, 0), k.InShapes[0], k.Output(f), p), "AveragePool2d");
        return c.Lambda(outs, (k, f) =>
        {
            if (max) ReferencePool.MaxPool(k.Input(f, 0), k.InShapes[0], k.Output(f), p);
            else ReferencePool.AveragePool(k.Input(f, 0), k.InShapes[0], k.Output(f), p);
        });
    }
}
