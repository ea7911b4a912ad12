using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Turns a node plus its input shapes (and any constant inputs) into a <see cref="NodeKernel"/> whose
/// <see cref="NodeKernel.OutShapes"/> are the inferred output shapes. Conv and Gemm/MatMul use the fast kernels;
/// every other operator runs the reference implementation (the specification).
/// </summary>
internal static class OpCompiler
{
    /// <summary>Operators that run at run time; the shape/constant operators are folded at load instead.</summary>
    public static readonly HashSet<string> RuntimeOps =
    [
        "Conv", "Gemm", "MatMul", "Relu", "Clip", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Add", "Mul", "Sum", "Concat", "Flatten", "Reshape", "Softmax", "Identity", "Dropout", "Pad", "Transpose", "LRN",
        "Unsqueeze", "Gather",
    ];

    /// <summary>
    /// Conv plans of one session. Candidate kernels are prepared (weights packed) once per node and input H×W;
    /// the choice among them is timed and cached per (node, H, W, batch, threads): the node fixes the weight
    /// shape and sparsity pattern, and a kernel's rank can change with batch size and thread count.
    /// </summary>
    public sealed class PlanCache
    {
        public PlanCache(bool allowSparse = true) => AllowSparse = allowSparse;

        /// <summary>Whether the planner may pick sparse kernels (false: the dense plan, for comparisons).</summary>
        public bool AllowSparse { get; }

        /// <summary>Precision of the SpMM candidates (<see cref="PassOptions.SparsePrecision"/>).</summary>
        public Kernels.Spmm.SpmmPrecision SparsePrecision { get; init; }
        public ConcurrentDictionary<(GraphNode Node, int H, int W), Lazy<ConvCandidates>> Prepared { get; } = new();
        public ConcurrentDictionary<(GraphNode Node, int H, int W, int Batch, int Threads), Lazy<ConvPlan>> Conv { get; } = new();
        public ConcurrentDictionary<(GraphNode Node, int Batch, int Threads), Lazy<FcPlan>> Fc { get; } = new();
    }

    /// <summary>A pruned fully connected layer's choice: the sparse kernel, or null for the dense GEMM; what was measured.</summary>
    public sealed record FcPlan(SparseFullyConnected? Sparse, string Measured);

    /// <summary>A conv layer's measured candidates and the one it runs.</summary>
    public sealed record ConvPlan(ConvCandidate Chosen, IReadOnlyList<ConvCandidate> Candidates)
    {
        public string Describe() => Candidates.Count == 1
            ? Chosen.Describe()
            : $"{Chosen.Describe()} [{string.Join(", ", Candidates.Select(c => $"{c.Name} {c.MeasuredMs:F3} ms"))}]";
    }

    public static NodeKernel Compile(GraphNode n, int[][] s, Func<int, GraphTensor?> constant, PlanCache? cache)
    {
        if (!RuntimeOps.Contains(n.OpType)) throw UnsupportedOperatorException.For(n, "operator is not supported.");
        int[] x = s.Length > 0 ? s[0] : [];
        LambdaKernel K(int[][] outs, LambdaKernel.Body body, string name = "reference") =>
            new(body, name) { Node = n, InShapes = s, OutShapes = outs };
        LambdaKernel Copy() => K([x], (k, f) => k.Input(f, 0).CopyTo(k.Output(f)), "copy");
        switch (n.OpType)
        {
            case "Identity":
                return Copy();
            case "Dropout":
                if (n.Outputs.Count > 1 && n.Outputs[1].Length > 0) throw UnsupportedOperatorException.For(n, "the mask output is not supported.");
                return Copy();
            case "Relu":
                // Max(x, 0) keeps NaN, like the reference Relu (IEEE 754 maximum).
                return K([x], (k, f) => TensorPrimitives.Max(k.Input(f, 0), 0f, k.Output(f)), "TensorPrimitives");
            case "Clip":
            {
                float min = n.Opset < 11 ? n.Float("min", float.NegativeInfinity) : float.NegativeInfinity;
                float max = n.Opset < 11 ? n.Float("max", float.PositiveInfinity) : float.PositiveInfinity;
                bool minIn = n.Opset >= 11 && n.Inputs.Count > 1 && n.Inputs[1].Length > 0;
                bool maxIn = n.Opset >= 11 && n.Inputs.Count > 2 && n.Inputs[2].Length > 0;
                return K([x], (k, f) => ReferenceElementwise.Clip(k.Input(f, 0), k.Output(f),
                    minIn ? k.Input(f, 1)[0] : min, maxIn ? k.Input(f, 2)[0] : max));
            }
            case "Add" or "Mul":
            {
                int[] os = ReferenceElementwise.BinaryShape(x, s[1], n.OpType);
                bool add = n.OpType == "Add";
                var act = add ? n.FusedActivation : Activation.None; // only Add takes a fused activation (GraphPasses)
                if (add && x.AsSpan().SequenceEqual(s[1]))
                    return K([os], (k, f) => AddActivation.Run(k.Input(f, 0), k.Input(f, 1), k.Output(f), act), "AddActivation");
                if (x.AsSpan().SequenceEqual(s[1]))
                    return K([os], (k, f) => TensorPrimitives.Multiply(k.Input(f, 0), k.Input(f, 1), k.Output(f)), "TensorPrimitives");
                return K([os], (k, f) =>
                {
                    if (add) ReferenceElementwise.Add(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.InShapes[1], k.Output(f));
                    else ReferenceElementwise.Mul(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.InShapes[1], k.Output(f));
                    ApplyActivation(k.Output(f), act);
                });
            }
            case "Sum":
                return K([ReferenceElementwise.SumShape(s)], (k, f) =>
                {
                    var arrays = Enumerable.Range(0, s.Length).Select(i => k.Input(f, i).ToArray()).ToList();
                    ReferenceElementwise.Sum(arrays, s, k.Output(f));
                });
            case "Concat":
            {
                if (n.Find("axis") is null) throw UnsupportedOperatorException.For(n, "axis is required.");
                int axis = (int)n.Int("axis", 0);
                return K([ReferenceShapeOps.ConcatShape(s, axis)], (k, f) =>
                {
                    var arrays = Enumerable.Range(0, s.Length).Select(i => k.Input(f, i).ToArray()).ToList();
                    ReferenceShapeOps.Concat(arrays, s, axis, k.Output(f));
                });
            }
            case "Flatten":
                return K([ReferenceShapeOps.FlattenShape(x, (int)n.Int("axis", 1))], (k, f) => k.Input(f, 0).CopyTo(k.Output(f)), "copy");
            case "Reshape":
            {
                var shape = n.Opset < 5 ? n.Ints("shape") : constant(1)?.AsInt64s();
                if (shape is null) throw UnsupportedOperatorException.For(n, "the target shape must be a constant.");
                bool allowZero = n.Int("allowzero", 0) != 0;
                return K([ReferenceShapeOps.ReshapeShape(x, ResolveBatchMarkers(shape, allowZero), allowZero)], (k, f) => k.Input(f, 0).CopyTo(k.Output(f)), "copy");
            }
            case "Unsqueeze":
            {
                GraphTensor Need(int i) => constant(i) ?? throw UnsupportedOperatorException.For(n, "axes must be a constant.");
                return K([ConstantFolder.UnsqueezeShape(n, x, Need)], (k, f) => k.Input(f, 0).CopyTo(k.Output(f)), "copy");
            }
            case "Gather":
            {
                var indices = constant(1) ?? throw UnsupportedOperatorException.For(n, "indices must be a constant.");
                int[] src = ConstantFolder.GatherSources(n, x, indices.Dims, indices.AsInt64s(), out int[] dims);
                return K([dims], (k, f) =>
                {
                    var data = k.Input(f, 0); var y = k.Output(f);
                    for (int i = 0; i < src.Length; i++) y[i] = data[src[i]];
                }, "gather");
            }
            case "Transpose":
            {
                int[] perm = n.Ints("perm")?.Select(v => (int)v).ToArray() ?? [];
                return K([ReferenceShapeOps.TransposeShape(x, perm)], (k, f) => ReferenceShapeOps.Transpose(k.Input(f, 0), k.InShapes[0], perm, k.Output(f)));
            }
            case "Softmax":
            {
                if (n.Opset >= 13)
                {
                    int axis = (int)n.Int("axis", -1);
                    return K([x], (k, f) => ReferenceNormalization.Softmax(k.Input(f, 0), k.InShapes[0], k.Output(f), axis));
                }
                // Before opset 13 Softmax flattens the input to 2-D at axis (default 1) and normalizes each row.
                int[] flat = ReferenceShapeOps.FlattenShape(x, (int)n.Int("axis", 1));
                return K([x], (k, f) => ReferenceNormalization.Softmax(k.Input(f, 0), flat, k.Output(f), 1));
            }
            case "LRN":
            {
                int size = (int)n.Int("size", 0);
                float alpha = n.Float("alpha", 1e-4f), beta = n.Float("beta", 0.75f), bias = n.Float("bias", 1f);
                return K([x], (k, f) => ReferenceNormalization.Lrn(k.Input(f, 0), k.InShapes[0], k.Output(f), size, alpha, beta, bias));
            }
            case "BatchNormalization":
            {
                if (n.Int("training_mode", 0) != 0 || n.Outputs.Skip(1).Any(o => o.Length > 0))
                    throw UnsupportedOperatorException.For(n, "training mode (running statistics outputs) is not supported.");
                if (n.Opset < 9 && n.Int("spatial", 1) != 1) throw UnsupportedOperatorException.For(n, "spatial=0 is not supported.");
                float eps = n.Float("epsilon", 1e-5f);
                return K([x], (k, f) => ReferenceNormalization.BatchNormalization(k.Input(f, 0), k.InShapes[0],
                    k.Input(f, 1), k.Input(f, 2), k.Input(f, 3), k.Input(f, 4), k.Output(f), eps));
            }
            case "MaxPool" or "AveragePool":
            {
                if (n.Outputs.Count > 1 && n.Outputs[1].Length > 0) throw UnsupportedOperatorException.For(n, "the Indices output is not supported.");
                var p = OpAttributes.Pool(n);
                bool max = n.OpType == "MaxPool";
                if (max && x.Length == 4)
                    return K([p.OutputShape(x, n.OpType)], (k, f) => Kernels.Pooling.MaxPool2d.Compute(k.Input(f, 0), k.InShapes[0], k.Output(f), p), "MaxPool2d");
                return K([p.OutputShape(x, n.OpType)], (k, f) =>
                {
                    if (max) ReferencePool.MaxPool(k.Input(f, 0), k.InShapes[0], k.Output(f), p);
                    else ReferencePool.AveragePool(k.Input(f, 0), k.InShapes[0], k.Output(f), p);
                });
            }
            case "GlobalAveragePool":
            {
                // Vectorized float sums per plane (the reference accumulates in double, one dependent add per
                // element: 0.11 ms on ResNet-50's 2048x7x7, a whole 1x1 conv layer's worth at 0.9 sparsity).
                int[] os = ReferencePool.GlobalAveragePoolShape(x);
                int planes = x[0] * x[1], spatial = ReferenceCheck.Product(x.AsSpan(2));
                if (spatial == 0)
                    return K([os], (k, f) => ReferencePool.GlobalAveragePool(k.Input(f, 0), k.InShapes[0], k.Output(f)));
                return K([os], (k, f) =>
                {
                    var input = k.Input(f, 0);
                    var output = k.Output(f);
                    for (int p = 0; p < planes; p++) output[p] = TensorPrimitives.Sum(input.Slice(p * spatial, spatial)) / spatial;
                }, "TensorPrimitives");
            }
            case "Pad":
                return CompilePad(n, s, constant, K);
            case "Conv":
                return ConvKernel.Create(n, s, constant, cache);
            case "Gemm":
                return GemmKernel.CreateGemm(n, s, constant, cache);
            case "MatMul":
                return GemmKernel.CreateMatMul(n, s);
        }
        throw UnsupportedOperatorException.For(n, "operator is not supported.");
    }

    private static NodeKernel CompilePad(GraphNode n, int[][] s, Func<int, GraphTensor?> constant,
        Func<int[][], LambdaKernel.Body, string, LambdaKernel> make)
    {
        var mode = OpAttributes.PadModeOf(n);
        long[]? pads;
        float value;
        if (n.Opset < 11)
        {
            pads = n.Ints("pads");
            value = n.Float("value", 0f);
        }
        else
        {
            pads = constant(1)?.AsInt64s();
            if (n.Inputs.Count > 3 && n.Inputs[3].Length > 0) throw UnsupportedOperatorException.For(n, "the axes input is not supported.");
            var v = n.Inputs.Count > 2 && n.Inputs[2].Length > 0 ? constant(2) : null;
            value = v?.AsFloats()[0] ?? 0f;
            if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0 && v is null)
            {
                // constant_value computed at run time: read the scalar on every call.
                if (pads is null) throw UnsupportedOperatorException.For(n, "pads must be a constant.");
                int[] pp = pads.Select(x => (int)x).ToArray();
                return make([ReferenceShapeOps.PadShape(s[0], pp)], (k, f) => ReferenceShapeOps.Pad(k.Input(f, 0), k.InShapes[0], pp, k.Output(f), mode, k.Input(f, 2)[0]), "reference");
            }
        }
        if (pads is null) throw UnsupportedOperatorException.For(n, "pads must be a constant.");
        int[] p = pads.Select(v => (int)v).ToArray();
        return make([ReferenceShapeOps.PadShape(s[0], p)], (k, f) => ReferenceShapeOps.Pad(k.Input(f, 0), k.InShapes[0], p, k.Output(f), mode, value), "reference");
    }

    /// <summary>A fused Relu/Clip applied after the fact, exactly as the separate node would compute it.</summary>
    private static void ApplyActivation(Span<float> y, Activation act)
    {
        if (act.Kind == ActivationKind.Relu) TensorPrimitives.Max(y, 0f, y);
        else if (act.Kind == ActivationKind.Clip) ReferenceElementwise.Clip(y, y, act.Min, act.Max);
    }

    /// <summary>Folded Shape outputs mark the run-time batch with <see cref="ConstantFolder.BatchMarker"/>; Reshape copies it (0).</summary>
    private static long[] ResolveBatchMarkers(long[] shape, bool allowZero)
    {
        if (!shape.Contains(ConstantFolder.BatchMarker)) return shape;
        if (allowZero) throw new LacunaFormatException("Reshape", "a run-time batch dimension cannot be copied when allowzero=1.");
        return shape.Select(v => v == ConstantFolder.BatchMarker ? 0 : v).ToArray();
    }
}
