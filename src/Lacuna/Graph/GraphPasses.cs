using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Graph;

/// <summary>Which optimizations <see cref="GraphPasses.Optimize"/> applies (all on by default; tests switch them off to compare).</summary>
/// <remarks><see cref="FoldBatchNorm"/> also folds per-channel constant Mul/Add into the producing Conv or BatchNormalization.</remarks>
public sealed record PassOptions(bool FoldBatchNorm = true, bool FuseActivations = true, bool RemoveIdentities = true,
    bool SparseKernels = true)
{
    public static PassOptions None => new(false, false, false);

    /// <summary>
    /// Precision of the SpMM plans of sparse 1x1 convolutions (fp32 by default). <see cref="SpmmPrecision.BFloat16Activations"/>
    /// lets them read their input as bf16 (fp32 weights and sums; each layer's tuning keeps fp32 where that is faster):
    /// `lacuna bench spmm --bf16x` reports its speed and error.
    /// </summary>
    public SpmmPrecision SparsePrecision { get; init; }

    /// <summary>Which structured sparsity patterns become planner candidates (<see cref="PatternPlanning.Detect"/> by default).</summary>
    public PatternPlanning Patterns { get; init; } = PatternPlanning.Detect;

    /// <summary>
    /// Stops a plan being built: checked before each node is compiled (the sparse planner times candidates per layer,
    /// so a ResNet-50 plan takes seconds to minutes), so a server told to stop while planning stops within one layer's
    /// timing instead of after the whole model. Planning then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public CancellationToken PlanningCancellation { get; init; }

    /// <summary>
    /// Whether a residual Add (and its fused activation) becomes the epilogue of the Conv producing one operand
    /// (<see cref="GraphPasses.FuseResidualAdds"/>; needs <see cref="FuseActivations"/>). Off: the Add runs as its own node.
    /// </summary>
    public bool FuseResidualAdds { get; init; } = true;

    /// <summary>
    /// Whether exported multi-head attention (head split, Q·Kᵀ, scale, mask, Softmax, ·V, head merge) becomes one fused
    /// node (<see cref="GraphPasses.FuseAttention"/>; needs <see cref="FuseActivations"/>). Off: the exported nodes run.
    /// </summary>
    public bool FuseAttention { get; init; } = true;

    /// <summary>All passes, dense kernels only: the baseline a sparse plan is compared with.</summary>
    public static PassOptions Dense => new(SparseKernels: false);
}

/// <summary>Graph rewrites that keep the computed function (up to float rounding).</summary>
public static partial class GraphPasses
{
    public static void Optimize(ModelGraph g, PassOptions options)
    {
        if (options.RemoveIdentities) RemoveIdentities(g);
        if (options.FoldBatchNorm)
        {
            FoldBatchNorm(g);
            FoldPerChannelAffine(g);
        }
        if (options.FuseActivations)
        {
            FuseChannelShuffle(g);
            FuseLayerNorm(g);
            FuseGelu(g);
            if (options.FuseAttention) FuseAttention(g);
            SumOfTwoToAdd(g);
            FuseMatMulBias(g);
            FuseActivations(g);
            FuseGeluIntoMatMul(g);
            if (options.FuseAttention) FuseQkvProjections(g);
            if (options.FuseResidualAdds) FuseResidualAdds(g);
        }
    }

    /// <summary>
    /// A Sum of two inputs is an Add (the same broadcasting in every opset): Caffe2 exports ResNet's residual as Sum,
    /// and as Add it gets the one-pass, threaded AddActivation kernel with the following Relu fused.
    /// </summary>
    public static int SumOfTwoToAdd(ModelGraph g)
    {
        int changed = 0;
        foreach (var n in g.Nodes)
        {
            if (n.OpType != "Sum" || n.Inputs.Count != 2 || n.Inputs.Any(i => i.Length == 0)) continue;
            n.OpType = "Add";
            changed++;
        }
        return changed;
    }

    /// <summary>
    /// Reshape [N, C, H, W] → [N, g, C/g, H, W], Transpose (0, 2, 1, 3, 4), Reshape back to [N, C, H, W] (how
    /// ShuffleNet exports its channel shuffle: three copies) becomes one ChannelShuffle node, one copy of whole planes.
    /// Shapes are checked at one batch here and again by the operator at every plan.
    /// </summary>
    public static int FuseChannelShuffle(ModelGraph g)
    {
        int fused = 0;
        var consumers = g.Consumers();
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        Dictionary<string, int[]>? shapes = null;
        foreach (var t in g.Nodes.ToList())
        {
            if (t.OpType != "Transpose" || t.Ints("perm") is not [0, 2, 1, 3, 4]) continue;
            var split = g.Nodes.Find(n => n.OpType == "Reshape" && n.Outputs[0] == t.Inputs[0]);
            var merge = consumers.GetValueOrDefault(t.Outputs[0]) is [{ OpType: "Reshape" } m] && m.Inputs[0] == t.Outputs[0] ? m : null;
            if (split is null || merge is null || !IsConstantReshape(g, split) || !IsConstantReshape(g, merge)) continue;
            if (consumers[split.Outputs[0]].Count != 1 || outputs.Contains(split.Outputs[0]) || outputs.Contains(t.Outputs[0])) continue;
            long groups = g.Initializers[split.Inputs[1]].AsInt64s() is [_, var gr, _, _, _] ? gr : 0;
            if (groups < 1) continue;
            shapes ??= ConstantFolder.InferShapes(g);
            if (!shapes.TryGetValue(split.Inputs[0], out var x) || x.Length != 4 || x[1] % groups != 0) continue;
            if (!shapes[split.Outputs[0]].SequenceEqual([x[0], (int)groups, x[1] / (int)groups, x[2], x[3]])) continue;
            if (!shapes[merge.Outputs[0]].SequenceEqual(x)) continue;
            var shuffle = new GraphNode(t.Name, "ChannelShuffle", [split.Inputs[0], split.Inputs[1], merge.Inputs[1]], [merge.Outputs[0]],
                [GraphAttribute.Of("groups", groups)], t.Opset);
            int at = g.Nodes.IndexOf(split);
            g.Nodes.Remove(split);
            g.Nodes.Remove(t);
            g.Nodes.Remove(merge);
            g.Nodes.Insert(Math.Min(at, g.Nodes.Count), shuffle);
            fused++;
        }
        return fused;
    }

    private static bool IsConstantReshape(ModelGraph g, GraphNode r) =>
        r.Opset >= 5 && r.Int("allowzero", 0) == 0 && r.Inputs.Count == 2 && g.Initializers.ContainsKey(r.Inputs[1]);

    /// <summary>
    /// Identity and inference-mode Dropout forward their input: readers are rewired to it. A Dropout mask nobody reads
    /// (what PyTorch exports for AlexNet, VGG, SqueezeNet) goes with the node; a read one keeps it.
    /// </summary>
    public static int RemoveIdentities(ModelGraph g)
    {
        int removed = 0;
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var read = g.Nodes.SelectMany(n => n.Inputs).ToHashSet();
        foreach (var n in g.Nodes.ToList())
        {
            if (n.OpType is not ("Identity" or "Dropout")) continue;
            if (n.OpType == "Dropout" && n.Inputs.Count > 2 && n.Inputs[2].Length > 0) continue; // training_mode: the kernel checks it
            if (n.Outputs.Skip(1).Any(o => o.Length > 0 && (read.Contains(o) || outputs.Contains(o)))) continue;
            if (outputs.Contains(n.Outputs[0])) continue; // keep graph output names
            Rewire(g, n.Outputs[0], n.Inputs[0]);
            g.Nodes.Remove(n);
            removed++;
        }
        return removed;
    }

    /// <summary>
    /// Conv → BatchNormalization with constant parameters becomes one Conv:
    /// s = scale/√(var+ε); W'[m] = W[m]·s[m]; b'[m] = (b[m] − mean[m])·s[m] + B[m]. Computed in double.
    /// </summary>
    public static int FoldBatchNorm(ModelGraph g)
    {
        int folded = 0;
        var consumers = g.Consumers();
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var bn in g.Nodes.ToList())
        {
            if (bn.OpType != "BatchNormalization" || bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.Int("training_mode", 0) != 0) continue;
            var conv = g.Nodes.Find(c => c.OpType == "Conv" && c.Outputs[0] == bn.Inputs[0]);
            if (conv is null || consumers[conv.Outputs[0]].Count != 1 || outputs.Contains(conv.Outputs[0])) continue;
            if (conv.FusedActivation.Kind != ActivationKind.None) continue;
            if (!g.Initializers.TryGetValue(conv.Inputs[1], out var w)) continue;
            var p = new GraphTensor?[4];
            for (int i = 0; i < 4; i++) p[i] = g.Initializers.GetValueOrDefault(bn.Inputs[i + 1]);
            if (p.Any(t => t is null)) continue;
            float[] scale = p[0]!.AsFloats(), shift = p[1]!.AsFloats(), mean = p[2]!.AsFloats(), variance = p[3]!.AsFloats();
            double eps = bn.Float("epsilon", 1e-5f);
            int m = w.Dims[0], per = w.Length / Math.Max(1, m);
            float[] oldBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? g.Initializers[conv.Inputs[2]].AsFloats() : new float[m];
            float[] wv = w.AsFloats(), nw = new float[wv.Length], nb = new float[m];
            for (int o = 0; o < m; o++)
            {
                double s = scale[o] / Math.Sqrt(variance[o] + eps);
                for (int i = 0; i < per; i++) nw[o * per + i] = (float)(wv[o * per + i] * s);
                nb[o] = (float)((oldBias[o] - mean[o]) * s + shift[o]);
            }
            string wName = Unique(g, conv.Name + "_bnfold_W"), bName = Unique(g, conv.Name + "_bnfold_B");
            g.AddInitializer(new GraphTensor(wName, w.Dims, nw));
            g.AddInitializer(new GraphTensor(bName, [m], nb));
            conv.Inputs[1] = wName;
            if (conv.Inputs.Count > 2) conv.Inputs[2] = bName; else conv.Inputs.Add(bName);
            conv.Outputs[0] = bn.Outputs[0];
            g.Nodes.Remove(bn);
            folded++;
        }
        RemoveUnusedInitializers(g);
        return folded;
    }

    /// <summary>
    /// Mul by, or Add of, a constant per-channel (or scalar) tensor after a Conv, Gemm or BatchNormalization that feeds
    /// only it, as Caffe2 and TensorFlow exports write a batch norm's affine part, is folded into the producer's
    /// parameters (Conv: W'[m] = W[m]·s[m], b'[m] = b[m]·s[m] + t[m]; Gemm: the same per output column, with C
    /// rewritten as beta·C and beta = 1; BatchNormalization: scale' = scale·s, B' = B·s + t), so
    /// the producer's activation epilogue can then take the following Relu. Non-finite constants are left alone
    /// (0·inf in the weights would change the result). Computed in double.
    /// </summary>
    public static int FoldPerChannelAffine(ModelGraph g)
    {
        int folded = 0;
        Dictionary<string, int[]>? shapes = null;
        var consumers = g.Consumers();
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var producerOf = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var p in g.Nodes)
            if (p.OpType is "Conv" or "Gemm" or "BatchNormalization") producerOf[p.Outputs[0]] = p;
        // In topological order, so a Mul → Add chain folds in one sweep (the producer takes each output name in turn).
        foreach (var op in g.TopologicalOrder())
        {
            if (op.OpType is not ("Mul" or "Add") || op.Inputs.Count != 2) continue;
            int ci = g.Initializers.ContainsKey(op.Inputs[1]) ? 1 : g.Initializers.ContainsKey(op.Inputs[0]) ? 0 : -1;
            if (ci < 0) continue;
            string value = op.Inputs[1 - ci];
            if (!producerOf.TryGetValue(value, out var producer) || producer.FusedActivation.Kind != ActivationKind.None) continue;
            if (consumers[value].Count != 1 || outputs.Contains(value)) continue;
            shapes ??= ConstantFolder.InferShapes(g);
            if (!shapes.TryGetValue(value, out var outShape) || outShape.Length < 2) continue;
            var k = PerChannel(g.Initializers[op.Inputs[ci]], outShape);
            if (k is null || !k.All(float.IsFinite)) continue;
            bool mul = op.OpType == "Mul";
            bool ok = producer.OpType switch
            {
                "Conv" => FoldIntoConv(g, producer, k, outShape[1], mul),
                "Gemm" => FoldIntoGemm(g, producer, k, outShape[1], mul),
                _ => FoldIntoBatchNorm(g, producer, k, outShape[1], mul),
            };
            if (!ok) continue;
            producer.Outputs[0] = op.Outputs[0];
            producerOf.Remove(value);
            producerOf[op.Outputs[0]] = producer;
            shapes[op.Outputs[0]] = outShape;
            g.Nodes.Remove(op);
            folded++;
        }
        RemoveUnusedInitializers(g);
        return folded;
    }

    /// <summary>
    /// The constant as one value per channel (axis 1 of <paramref name="outShape"/>) when it broadcasts only along the
    /// channels (shape [M], [M,1,1], [1,M,1,1] right-aligned, or a scalar) and does not grow the output; else null.
    /// </summary>
    private static float[]? PerChannel(GraphTensor t, int[] outShape)
    {
        if (t.Floats is null || t.Dims.Length > outShape.Length) return null;
        int rank = outShape.Length, m = outShape[1];
        var padded = Enumerable.Repeat(1, rank - t.Dims.Length).Concat(t.Dims).ToArray();
        for (int d = 0; d < rank; d++)
            if (padded[d] != 1 && (d != 1 || padded[d] != m)) return null;
        float[] v = t.AsFloats();
        return padded[1] == m ? v : Enumerable.Repeat(v[0], m).ToArray();
    }

    private static bool FoldIntoConv(ModelGraph g, GraphNode conv, float[] k, int m, bool mul)
    {
        if (!g.Initializers.TryGetValue(conv.Inputs[1], out var w) || w.Dims[0] != m) return false;
        bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
        if (hasBias && !g.Initializers.ContainsKey(conv.Inputs[2])) return false;
        float[] bias = hasBias ? g.Initializers[conv.Inputs[2]].AsFloats() : new float[m], nb = new float[m];
        for (int o = 0; o < m; o++) nb[o] = mul ? (float)((double)bias[o] * k[o]) : (float)((double)bias[o] + k[o]);
        if (mul)
        {
            float[] wv = w.AsFloats(), nw = new float[wv.Length];
            int per = wv.Length / m;
            for (int o = 0; o < m; o++)
                for (int i = 0; i < per; i++) nw[o * per + i] = (float)((double)wv[o * per + i] * k[o]);
            string wName = Unique(g, conv.Name + "_scaled_W");
            g.AddInitializer(new GraphTensor(wName, w.Dims, nw));
            conv.Inputs[1] = wName;
        }
        string bName = Unique(g, conv.Name + (mul ? "_scaled_B" : "_shifted_B"));
        g.AddInitializer(new GraphTensor(bName, [m], nb));
        if (hasBias) conv.Inputs[2] = bName; else conv.Inputs.Add(bName);
        return true;
    }

    /// <summary>
    /// Gemm Y = alpha·op(A)·op(B) + beta·C with constant B and a per-column (or absent) C: column n of op(B) is scaled,
    /// and the bias e = beta·C becomes the new C (beta = 1). A per-row or full C, or a run-time one, is left alone.
    /// </summary>
    private static bool FoldIntoGemm(ModelGraph g, GraphNode gemm, float[] k, int n, bool mul)
    {
        if (gemm.Opset < 7 || !g.Initializers.TryGetValue(gemm.Inputs[1], out var b) || b.Dims.Length != 2) return false;
        bool tb = gemm.Int("transB", 0) != 0;
        if ((tb ? b.Dims[0] : b.Dims[1]) != n) return false;
        bool hasC = gemm.Inputs.Count > 2 && gemm.Inputs[2].Length > 0;
        float beta = gemm.Float("beta", 1f);
        var bias = new double[n];
        if (hasC)
        {
            if (!g.Initializers.TryGetValue(gemm.Inputs[2], out var c)) return false;
            bool perColumn = c.Dims.All(d => d == 1) || (c.Dims.Length <= 2 && c.Dims[^1] == n && c.Dims.SkipLast(1).All(d => d == 1));
            if (!perColumn) return false;
            float[] cv = c.AsFloats();
            for (int o = 0; o < n; o++) bias[o] = (double)beta * cv[cv.Length == 1 ? 0 : o];
        }
        for (int o = 0; o < n; o++) bias[o] = mul ? bias[o] * k[o] : bias[o] + k[o];
        if (mul)
        {
            float[] bv = b.AsFloats(), nb = new float[bv.Length];
            int rows = b.Dims[0], cols = b.Dims[1];
            for (int r = 0; r < rows; r++)
                for (int col = 0; col < cols; col++)
                    nb[r * cols + col] = (float)((double)bv[r * cols + col] * k[tb ? r : col]);
            string bName = Unique(g, gemm.Name + "_scaled_B");
            g.AddInitializer(new GraphTensor(bName, b.Dims, nb));
            gemm.Inputs[1] = bName;
        }
        string cName = Unique(g, gemm.Name + (mul ? "_scaled_C" : "_shifted_C"));
        g.AddInitializer(new GraphTensor(cName, [n], bias.Select(v => (float)v).ToArray()));
        if (hasC) gemm.Inputs[2] = cName; else gemm.Inputs.Add(cName);
        gemm.Set(GraphAttribute.Of("beta", 1f));
        return true;
    }

    private static bool FoldIntoBatchNorm(ModelGraph g, GraphNode bn, float[] k, int m, bool mul)
    {
        if (bn.Outputs.Skip(1).Any(o => o.Length > 0)) return false;
        if (!g.Initializers.TryGetValue(bn.Inputs[1], out var scale) || !g.Initializers.TryGetValue(bn.Inputs[2], out var shift)) return false;
        if (scale.Length != m || shift.Length != m) return false;
        float[] sc = scale.AsFloats(), sh = shift.AsFloats(), nsc = (float[])sc.Clone(), nsh = new float[m];
        for (int o = 0; o < m; o++)
        {
            if (mul) nsc[o] = (float)((double)sc[o] * k[o]);
            nsh[o] = mul ? (float)((double)sh[o] * k[o]) : (float)((double)sh[o] + k[o]);
        }
        string scName = Unique(g, bn.Name + "_scaled_scale"), shName = Unique(g, bn.Name + "_shifted_B");
        g.AddInitializer(new GraphTensor(scName, scale.Dims, nsc));
        g.AddInitializer(new GraphTensor(shName, shift.Dims, nsh));
        bn.Inputs[1] = scName;
        bn.Inputs[2] = shName;
        return true;
    }

    /// <summary>
    /// Relu, or Clip with constant bounds, after a Conv/Gemm/Add/BatchNormalization (or Relu after a MatMul with a fused bias) that feeds only it becomes that
    /// node's epilogue (Add: the residual sum of a ResNet block, computed with its Relu in one pass, see
    /// <c>AddActivation</c>; BatchNormalization: DenseNet's pre-activation BN → ReLU after each Concat, which cannot
    /// fold into a conv, becomes one pass of multiply-add-max). After that a Sigmoid, HardSigmoid or HardSwish after a
    /// Conv that feeds only it becomes the Conv's post-activation (<see cref="GraphNode.FusedPost"/>), applied to each
    /// block of output as the kernel finishes it: MobileNetV3's HardSwish layers and squeeze-excitation gates.
    /// </summary>
    public static int FuseActivations(ModelGraph g)
    {
        int fused = 0;
        var consumers = g.Consumers();
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var act in g.Nodes.ToList())
        {
            if (PostActivationOf(act) is { } post)
            {
                var conv = g.Nodes.Find(p => p.OpType == "Conv" && p.Outputs.Count == 1 && p.Outputs[0] == act.Inputs[0]);
                if (conv is null || conv.FusedPost.Kind != Kernels.Elementwise.PostActivationKind.None || GraphPasses.HasResidual(conv)) continue;
                if (consumers[conv.Outputs[0]].Count != 1 || outputs.Contains(conv.Outputs[0])) continue;
                conv.FusedPost = post;
                conv.Outputs[0] = act.Outputs[0];
                g.Nodes.Remove(act);
                fused++;
                continue;
            }
            Activation a;
            if (act.OpType == "Relu") a = Activation.Relu;
            else if (act.OpType == "Clip" && ClipBounds(g, act) is { } b) a = Activation.Clip(b.Min, b.Max);
            else continue;
            // A MatMul takes one only with a fused bias (FuseMatMulBias), as a token-linear kernel's ReLU epilogue.
            var producer = g.Nodes.Find(p => (p.OpType is "Conv" or "Gemm" or "Add" or "BatchNormalization"
                || p.OpType == "MatMul" && p.Inputs.Count == 3 && a.Kind == ActivationKind.Relu) && p.Outputs[0] == act.Inputs[0]);
            // Not after a post-activation, which the kernel applies last.
            if (producer is null || producer.FusedActivation.Kind != ActivationKind.None || producer.FusedPost.Kind != Kernels.Elementwise.PostActivationKind.None) continue;
            if (consumers[producer.Outputs[0]].Count != 1 || outputs.Contains(producer.Outputs[0])) continue;
            producer.FusedActivation = a;
            producer.Outputs[0] = act.Outputs[0];
            g.Nodes.Remove(act);
            fused++;
        }
        return fused;
    }

    /// <summary>The post-activation a node computes, if it is one a conv can fuse (one input, opset-defined attributes only).</summary>
    private static Kernels.Elementwise.PostActivation? PostActivationOf(GraphNode n) => n switch
    {
        { OpType: "Sigmoid", Inputs.Count: 1, Outputs.Count: 1 } => Kernels.Elementwise.PostActivation.Sigmoid,
        { OpType: "HardSwish", Inputs.Count: 1, Outputs.Count: 1 } => Kernels.Elementwise.PostActivation.HardSwish,
        { OpType: "HardSigmoid", Inputs.Count: 1, Outputs.Count: 1 } => Kernels.Elementwise.PostActivation.HardSigmoid(n.Float("alpha", 0.2f), n.Float("beta", 0.5f)),
        _ => null,
    };

    private static (float Min, float Max)? ClipBounds(ModelGraph g, GraphNode clip)
    {
        if (clip.Opset < 11) return (clip.Float("min", float.NegativeInfinity), clip.Float("max", float.PositiveInfinity));
        float? Bound(int i) => i >= clip.Inputs.Count || clip.Inputs[i].Length == 0 ? null
            : g.Initializers.TryGetValue(clip.Inputs[i], out var t) ? t.AsFloats()[0] : float.NaN;
        float? min = Bound(1), max = Bound(2);
        if (min is float.NaN || max is float.NaN) return null; // a run-time bound cannot be fused
        return (min ?? float.NegativeInfinity, max ?? float.PositiveInfinity);
    }

    private static void Rewire(ModelGraph g, string from, string to)
    {
        foreach (var n in g.Nodes)
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] == from) n.Inputs[i] = to;
    }

    public static void RemoveUnusedInitializers(ModelGraph g)
    {
        var used = g.Nodes.SelectMany(n => n.Inputs).Concat(g.Outputs.Select(o => o.Name)).ToHashSet();
        foreach (var name in g.Initializers.Keys.ToList())
            if (!used.Contains(name)) g.Initializers.Remove(name);
    }

    private static string Unique(ModelGraph g, string name)
    {
        string n = name;
        for (int i = 1; g.Initializers.ContainsKey(n); i++) n = $"{name}_{i}";
        return n;
    }
}
