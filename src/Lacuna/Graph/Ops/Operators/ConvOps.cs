namespace Lacuna.Graph.Ops.Operators;

/// <summary>Convolution: 2-D Conv through <see cref="ConvKernel"/> (the planner's dense or sparse candidates).</summary>
internal static class ConvOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Conv", new(1, 21), OpTraits.None, Shape, (c, _) => ConvKernel.Create(c.Node, c.InShapes, c.Constant, c.Cache))
        {
            Attributes = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
            Kernels = "ConvPlanner (dense direct/pointwise/im2col, sparse direct, SpMM, structured patterns); ReferenceConv2d for run-time weights",
            ConformanceCases = ["test_conv", "test_basic_conv"],
        },
    ];

    private static int[][] Shape(OpContext c)
    {
        if (c.X.Length != 4) throw c.Unsupported($"only 2-D convolution (rank-4 input) is supported; input is rank {c.X.Length}.");
        return [OpAttributes.Conv(c.Node, c.InShapes[1]).OutputShape(c.X, c.InShapes[1])];
    }
}
