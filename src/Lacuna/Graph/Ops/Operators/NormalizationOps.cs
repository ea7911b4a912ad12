using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>Normalization: BatchNormalization (inference; folded into a preceding Conv by <see cref="GraphPasses"/>), LRN, Softmax.</summary>
internal static class NormalizationOps
{
    private static readonly string[] BatchNormAttributes = ["epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs"];

    public static IEnumerable<OpDef> Defs =>
    [
        // Before opset 9 `spatial` chose per-channel (1) or per-element (0) statistics; only per-channel is implemented.
        new("BatchNormalization", new(1, 8), OpTraits.None, BatchNormShape, BatchNorm)
        { Attributes = BatchNormAttributes, ConformanceCases = ["test_batchnorm"] },
        new("BatchNormalization", new(9, 21), OpTraits.None, BatchNormShape, BatchNorm)
        { Attributes = BatchNormAttributes, ConformanceCases = ["test_batchnorm"] },
        new("LRN", new(1, 21), OpTraits.None, c => [c.X], Lrn)
        { Attributes = ["alpha", "beta", "bias", "size"], ConformanceCases = ["test_lrn"] },
        // Before opset 13 Softmax flattens the input to 2-D at axis (default 1) and normalizes each row.
        new("Softmax", new(1, 12), OpTraits.None, c => [c.X], (c, o) =>
        {
            int[] flat = ReferenceShapeOps.FlattenShape(c.X, (int)c.Node.Int("axis", 1));
            return c.Lambda(o, (k, f) => ReferenceNormalization.Softmax(k.Input(f, 0), flat, k.Output(f), 1));
        }) { Attributes = ["axis"], ConformanceCases = SoftmaxCases },
        new("Softmax", new(13, 21), OpTraits.None, c => [c.X], (c, o) =>
        {
            int axis = (int)c.Node.Int("axis", -1);
            return c.Lambda(o, (k, f) => ReferenceNormalization.Softmax(k.Input(f, 0), k.InShapes[0], k.Output(f), axis));
        }) { Attributes = ["axis"], ConformanceCases = SoftmaxCases },
    ];

    private static readonly string[] SoftmaxCases = ["test_softmax", "!test_softmax_cross_entropy"];

    private static int[][] BatchNormShape(OpContext c)
    {
        var n = c.Node;
        if (n.Int("training_mode", 0) != 0 || n.Outputs.Skip(1).Any(o => o.Length > 0))
            throw c.Unsupported("training mode (running statistics outputs) is not supported.");
        if (n.Opset < 9 && n.Int("spatial", 1) != 1) throw c.Unsupported("spatial=0 is not supported.");
        return [c.X];
    }

    private static NodeKernel BatchNorm(OpContext c, int[][] outs)
    {
        float eps = c.Node.Float("epsilon", 1e-5f);
        return c.Lambda(outs, (k, f) => ReferenceNormalization.BatchNormalization(k.Input(f, 0), k.InShapes[0],
            k.Input(f, 1), k.Input(f, 2), k.Input(f, 3), k.Input(f, 4), k.Output(f), eps));
    }

    private static NodeKernel Lrn(OpContext c, int[][] outs)
    {
        var n = c.Node;
        int size = (int)n.Int("size", 0);
        float alpha = n.Float("alpha", 1e-4f), beta = n.Float("beta", 0.75f), bias = n.Float("bias", 1f);
        return c.Lambda(outs, (k, f) => ReferenceNormalization.Lrn(k.Input(f, 0), k.InShapes[0], k.Output(f), size, alpha, beta, bias));
    }
}
