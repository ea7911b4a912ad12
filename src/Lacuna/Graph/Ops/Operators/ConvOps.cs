namespace Lacuna.Graph.Ops.Operators;

/// <summary>Convolution: 1-D (as 2-D with H = 1) and 2-D Conv through <see cref="ConvKernel"/> (the planner's dense or sparse candidates).</summary>
internal static class ConvOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Conv", new(1, 21), OpTraits.None, Shape, (c, _) => ConvKernel.Create(c.Node, c.InShapes, c.Constant, c.Cache))
        {
            Attributes = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
            Kernels = "ConvPlanner (dense direct/pointwise/im2col, sparse direct, SpMM); ReferenceConv2d for run-time weights",
            ConformanceCases = ["test_conv", "test_basic_conv"],
        },
    ];

    private static int[][] Shape(OpContext c)
    {
        if (c.X.Length is not (3 or 4) || c.InShapes[1].Length != c.X.Length)
            throw c.Unsupported($"only 1-D and 2-D convolution (rank-3 or rank-4 input and weight) are supported; input is rank {c.X.Length}, weight rank {c.InShapes[1].Length}.");
        var (x, w) = OpAttributes.Conv2dView(c.X, c.InShapes[1]);
        int[] y = OpAttributes.Conv(c.Node, c.InShapes[1]).OutputShape(x, w);
        return [c.X.Length == 3 ? [y[0], y[1], y[3]] : y];
    }
}
