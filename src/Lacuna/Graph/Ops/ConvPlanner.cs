using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>One way to run a conv layer with constant weights, as the planner measured it.</summary>
internal sealed record ConvCandidate
{
    public required string Name { get; init; }
    public required Action<ReadOnlySpan<float>, Span<float>, int> Run { get; init; }
    public required Func<string> Describe { get; init; }
    public double MeasuredMs { get; init; } = double.NaN;
}

/// <summary>A conv layer's prepared kernels (weights packed once) and its per-image input and output lengths.</summary>
internal sealed record ConvCandidates(IReadOnlyList<ConvCandidate> Kernels, int OutLength, int InLength);

/// <summary>
/// Picks, per conv layer, the fastest of the dense conv lowerings (the shape rule's pick, named "dense", and the
/// others), direct sparse conv and (for 1x1 layers) CSR SpMM, strided 1x1 layers also on a gathered input
/// (<see cref="StridedPointwise"/>), by timing each on the layer's real weights
/// and shape at the batch size and thread count the plan is for (<see cref="KernelTimer.FastestRounds"/>):
/// a kernel that wins at batch 1 need not win at batch 8, where the dense GEMM's panels fill up. Sparse candidates
/// are only tried at weight sparsity ≥ <see cref="MinSparsity"/>: below
/// it the sweeps never showed sparse ahead (`lacuna bench sweep --m 256 --k 2304 --n 196`: crossover 0.70 for
/// SpMM; `lacuna bench conv --sweep --layer "rn50 3x3/2 128@56"`: 0.50 for direct sparse conv).
/// </summary>
internal static class ConvPlanner
{
    public const double MinSparsity = 0.5;

    /// <summary>Builds the candidate kernels for a layer (packing its weights); nothing is timed yet.</summary>
    public static ConvCandidates Prepare(
        ReadOnlySpan<float> weight, int[] weightShape, ReadOnlySpan<float> bias, Conv2dParams p, int h, int w,
        Activation act, bool allowSparse, SpmmPrecision spmmPrecision = SpmmPrecision.Float32)
    {
        // Every candidate is built by a static helper that captures only its own plan: a lambda written here would
        // share this method's closure object, and the chosen kernel would keep every other candidate's packed weights
        // alive (ResNet-50 at 0.9: about 100 MB of dense weights held by sparse kernels).
        var dense = DenseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act);
        int m = weightShape[0], c = weightShape[1] * p.Groups;
        long count = (long)m * weightShape[1] * weightShape[2] * weightShape[3];
        int outLength = m * p.OutputHeight(h) * p.OutputWidth(w), inLength = c * h * w;
        long zeros = 0;
        for (long i = 0; i < count; i++) if (weight[(int)i] == 0f) zeros++;
        double sparsity = count == 0 ? 0 : (double)zeros / count;
        var candidates = new List<ConvCandidate> { Dense("dense", dense, "") };
        // The other dense lowerings, timed too: the shape rule in DenseConv2dPlan.ChooseAlgorithm was set on one
        // machine at batch 1 and is within a few percent on many shapes, so the measured pick is the safer one.
        if (p.Groups == 1)
            foreach (var alg in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Pointwise })
            {
                if (alg == dense.Algorithm || (alg == ConvAlgorithm.Pointwise && !IsPointwise(weightShape, p))) continue;
                candidates.Add(Dense($"dense-{alg.ToString().ToLowerInvariant()}", DenseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act, alg), ""));
            }
        // Depthwise layers: the one-channel direct tiles too, timed against the depthwise sweep.
        if (dense.Algorithm == ConvAlgorithm.Depthwise)
            candidates.Add(Dense("dense-direct", DenseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act, ConvAlgorithm.Direct), ""));
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w), ohw = oh * ow;
        bool strided1x1 = StridedPointwise.Applies(weightShape, p);
        if (strided1x1)
        {
            // The gathered input is a stride-1 1x1 conv: the dense plan's own shape rule picks its algorithm.
            var pointwise = DenseConv2dPlan.Create(weight, weightShape, bias, p with { StrideH = 1, StrideW = 1 }, oh, ow, act);
            candidates.Add(Dense("dense-strided-pointwise", pointwise, $" on a stride-{p.StrideH}x{p.StrideW} gather") with
            {
                Run = StridedPointwise.Wrap(c, h, w, p, DenseRun(pointwise)),
            });
        }
        if (!allowSparse || p.Groups != 1 || sparsity < MinSparsity)
            return new ConvCandidates(candidates, outLength, inLength);

        // One candidate per register tile of the sparse-conv shortlist (the AVX-512 widths and, on such a machine, the
        // AVX2 tile): the best width depends on the layer's grid (rn50's 7x7 grids are one partial pass of any tile).
        // The tiles' plans share one copy of the weights and offsets.
        var direct = SparseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act);
        foreach (var tile in SparseConvKernels.Candidates)
            candidates.Add(SparseDirect(tile == direct.Kernel ? "sparse-direct" : $"sparse-direct-{tile.Tier.ToString().ToLowerInvariant()}-1x{tile.Width}",
                direct.WithKernel(tile)));
        if (IsPointwise(weightShape, p))
        {
            var spmm = SpmmPlan.Create(CsrMatrix.FromDense(weight[..(int)count], m, c), bias, act, spmmPrecision);
            candidates.Add(new ConvCandidate { Name = "spmm", Run = SpmmRun(spmm, m, c, h * w), Describe = spmm.Describe });
        }
        if (strided1x1)
        {
            var spmm = SpmmPlan.Create(CsrMatrix.FromDense(weight[..(int)count], m, c), bias, act, spmmPrecision);
            candidates.Add(new ConvCandidate
            {
                Name = "spmm-strided",
                Run = StridedPointwise.Wrap(c, h, w, p, SpmmRun(spmm, m, c, ohw)),
                Describe = StridedDescription(spmm, p),
            });
        }
        return new ConvCandidates(candidates, outLength, inLength);
    }

    private static Action<ReadOnlySpan<float>, Span<float>, int> DenseRun(DenseConv2dPlan plan) => (x, y, n) => plan.Run(x, y, n);

    private static ConvCandidate Dense(string name, DenseConv2dPlan plan, string suffix) =>
        new() { Name = name, Run = DenseRun(plan), Describe = () => $"DenseConv2d {plan.Describe()}{suffix}" };

    private static ConvCandidate SparseDirect(string name, SparseConv2dPlan plan) =>
        new() { Name = name, Run = (x, y, n) => plan.Run(x, y, n), Describe = plan.Describe };

    /// <summary>One image at a time: Y[i] (M×HW) = W (M×C) · X[i] (C×HW).</summary>
    private static Action<ReadOnlySpan<float>, Span<float>, int> SpmmRun(SpmmPlan spmm, int m, int c, int hw) => (x, y, n) =>
    {
        for (int i = 0; i < n; i++)
            spmm.Run(x.Slice(i * c * hw, c * hw), hw, y.Slice(i * m * hw, m * hw));
    };

    private static Func<string> StridedDescription(SpmmPlan spmm, Conv2dParams p) =>
        () => $"{spmm.Describe()} on a stride-{p.StrideH}x{p.StrideW} gather";

    private static bool IsPointwise(int[] weightShape, Conv2dParams p) =>
        weightShape[2] == 1 && weightShape[3] == 1 && p.StrideH == 1 && p.StrideW == 1 && p.DilationH == 1 && p.DilationW == 1
        && p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0;

    /// <summary>
    /// Times every candidate at <paramref name="batch"/> images on the current thread setting and returns the
    /// fastest with all measurements. A single candidate is returned untimed.
    /// </summary>
    public static (ConvCandidate Chosen, IReadOnlyList<ConvCandidate> Measured) Choose(ConvCandidates prepared, int batch)
    {
        if (prepared.Kernels.Count == 1) return (prepared.Kernels[0], prepared.Kernels);
        int n = Math.Max(1, batch);
        using var xs = Tensor.Random(17, new[] { n, prepared.InLength });
        var ys = new float[(long)n * prepared.OutLength];
        var ms = KernelTimer.FastestRounds(prepared.Kernels.Select(k => (Action)(() => k.Run(xs.Span, ys, n))).ToList());
        var measured = prepared.Kernels.Select((k, i) => k with { MeasuredMs = ms[i] }).ToList();
        return (Choose(measured), measured);
    }

    /// <summary>The candidate with the lowest measured time (the dense one on ties or when nothing was timed).</summary>
    public static ConvCandidate Choose(IReadOnlyList<ConvCandidate> candidates)
    {
        var best = candidates[0];
        foreach (var c in candidates)
            if (c.MeasuredMs < best.MeasuredMs) best = c;
        return best;
    }
}
