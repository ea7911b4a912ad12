using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Normalization: BatchNormalization (inference; folded into a preceding Conv by <see cref="GraphPasses"/>, else the
/// per-channel FMA kernel, as after DenseNet's Concats; training mode since opset 14 through <see cref="BatchNormTraining"/>), InstanceNormalization, LRN, Softmax and LogSoftmax, each on
/// its fast kernel in <c>Kernels/Normalization</c> (the references stay the specification the tests hold them to).
/// </summary>
internal static class NormalizationOps
{
    private static readonly string[] BatchNormAttributes = ["epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs"];

    public static IEnumerable<OpDef> Defs =>
    [
        // Before opset 9 `spatial` chose per-channel (1) or per-element (0) statistics; only per-channel is implemented.
        new("BatchNormalization", new(1, 8), OpTraits.None, BatchNormShape, BatchNorm)
        { Attributes = BatchNormAttributes, Kernels = "BatchNorm", ConformanceCases = ["test_batchnorm"] },
        new("BatchNormalization", new(9, 13), OpTraits.None, BatchNormShape, BatchNorm)
        { Attributes = BatchNormAttributes, Kernels = "BatchNorm", ConformanceCases = ["test_batchnorm"] },
        // Since opset 14 training_mode = 1 normalizes with the batch's statistics and outputs the running mean and variance.
        new("BatchNormalization", new(14, 21), OpTraits.None, BatchNormShape, BatchNorm)
        { Attributes = BatchNormAttributes, Kernels = "BatchNorm; training_mode: BatchNormTraining (batch statistics, running mean/var outputs)", ConformanceCases = ["test_batchnorm"] },
        new("InstanceNormalization", new(1, 21), OpTraits.None, c => [c.X], (c, o) =>
        {
            float eps = c.Node.Float("epsilon", 1e-5f);
            return c.Lambda(o, (k, f) => InstanceNorm.Compute(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.Input(f, 2), k.Output(f), eps), "InstanceNorm");
        }) { Attributes = ["epsilon"], Kernels = "InstanceNorm", ConformanceCases = ["test_instancenorm"] },
        new("LRN", new(1, 21), OpTraits.None, c => [c.X], Lrn)
        { Attributes = ["alpha", "beta", "bias", "size"], Kernels = "Lrn", ConformanceCases = ["test_lrn"] },
        // Before opset 13 Softmax flattens the input to 2-D at axis (default 1) and normalizes each row.
        new("Softmax", new(1, 12), OpTraits.None, c => [c.X], (c, o) => SoftmaxKernel(c, o, log: false, flatten: true))
        { Attributes = ["axis"], Kernels = "Softmax", ConformanceCases = SoftmaxCases },
        new("Softmax", new(13, 21), OpTraits.None, c => [c.X], (c, o) => SoftmaxKernel(c, o, log: false, flatten: false))
        { Attributes = ["axis"], Kernels = "Softmax", ConformanceCases = SoftmaxCases },
        new("LogSoftmax", new(1, 12), OpTraits.None, c => [c.X], (c, o) => SoftmaxKernel(c, o, log: true, flatten: true))
        { Attributes = ["axis"], Kernels = "Softmax.ComputeLog", ConformanceCases = ["test_logsoftmax"] },
        new("LogSoftmax", new(13, 21), OpTraits.None, c => [c.X], (c, o) => SoftmaxKernel(c, o, log: true, flatten: false))
        { Attributes = ["axis"], Kernels = "Softmax.ComputeLog", ConformanceCases = ["test_logsoftmax"] },
    ];

    private static readonly string[] SoftmaxCases = ["test_softmax", "!test_softmax_cross_entropy"];

    /// <summary>Opsets 1-12 flatten the input to 2-D at axis (default 1) and normalize rows; 13+ normalize one axis (default -1).</summary>
    private static NodeKernel SoftmaxKernel(OpContext c, int[][] outs, bool log, bool flatten)
    {
        int[] shape = flatten ? ReferenceShapeOps.FlattenShape(c.X, (int)c.Node.Int("axis", 1)) : c.X;
        int axis = flatten ? 1 : (int)c.Node.Int("axis", -1);
        return log
            ? c.Lambda(outs, (k, f) => Softmax.ComputeLog(k.Input(f, 0), shape, k.Output(f), axis), "Softmax.ComputeLog")
            : c.Lambda(outs, (k, f) => Softmax.Compute(k.Input(f, 0), shape, k.Output(f), axis), "Softmax");
    }

    private static int[][] BatchNormShape(OpContext c)
    {
        var n = c.Node;
        if (n.Opset < 9 && n.Int("spatial", 1) != 1) throw c.Unsupported("spatial=0 is not supported.");
        bool extraOutputs = n.Outputs.Skip(1).Any(o => o.Length > 0);
        if (n.Opset < 14 && extraOutputs)
            throw c.Unsupported("training outputs (running and saved statistics) before opset 14 are not supported; opset 14+ training_mode is.");
        if (n.Opset >= 14 && extraOutputs && n.Int("training_mode", 0) == 0)
            throw c.Unsupported("running_mean and running_var are outputs of training mode only (training_mode = 0).");
        if (n.Opset >= 14 && n.Outputs.Count > 3) throw c.Unsupported($"has {n.Outputs.Count} outputs; Y, running_mean and running_var expected.");
        return n.Opset >= 14 && n.Int("training_mode", 0) != 0
            ? [.. new[] { c.X, [c.X.Length > 1 ? c.X[1] : 0], [c.X.Length > 1 ? c.X[1] : 0] }.Take(Math.Max(1, n.Outputs.Count))]
            : [c.X];
    }

    private static NodeKernel BatchNorm(OpContext c, int[][] outs)
    {
        float eps = c.Node.Float("epsilon", 1e-5f), momentum = c.Node.Float("momentum", 0.9f);
        bool training = c.Node.Opset >= 14 && c.Node.Int("training_mode", 0) != 0;
        // A fused Relu (GraphPasses.FuseActivations) is the kernel's own max in the same pass; a fused Clip is a
        // second pass over the output while it is still in cache.
        var act = c.Node.FusedActivation;
        bool relu = act.Kind == ActivationKind.Relu;
        string name = (training ? "BatchNormTraining" : "BatchNorm") + act.Kind switch { ActivationKind.Relu => "+Relu", ActivationKind.Clip => "+Clip", _ => "" };
        bool wantMean = c.HasOutput(1), wantVar = c.HasOutput(2);
        return c.Lambda(outs, (k, f) =>
        {
            var y = k.Output(f);
            if (training)
                BatchNormTraining.Compute(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.Input(f, 2), k.Input(f, 3), k.Input(f, 4), y,
                    wantMean ? k.Output(f, 1) : default, wantVar ? k.Output(f, 2) : default, eps, momentum, relu);
            else
                Kernels.Normalization.BatchNorm.Compute(k.Input(f, 0), k.InShapes[0],
                    k.Input(f, 1), k.Input(f, 2), k.Input(f, 3), k.Input(f, 4), y, eps, relu);
            if (act.Kind == ActivationKind.Clip) ClipInPlace(y, act.Min, act.Max);
        }, name);
    }

    /// <summary>min(max(y, lo), hi) with NaN kept, as <see cref="Activation.Apply"/> defines Clip.</summary>
    private static void ClipInPlace(Span<float> y, float lo, float hi)
    {
        TensorPrimitives.Max(y, lo, y);
        TensorPrimitives.Min(y, hi, y);
    }

    private static NodeKernel Lrn(OpContext c, int[][] outs)
    {
        var n = c.Node;
        int size = (int)n.Int("size", 0);
        float alpha = n.Float("alpha", 1e-4f), beta = n.Float("beta", 0.75f), bias = n.Float("bias", 1f);
        return c.Lambda(outs, (k, f) => Kernels.Normalization.Lrn.Compute(k.Input(f, 0), k.InShapes[0], k.Output(f), size, alpha, beta, bias), "Lrn");
    }
}
