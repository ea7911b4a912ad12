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
        var dense = DenseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act);
        var denseCandidate = new ConvCandidate { Name = "dense", Run = (x, y, n) => dense.Run(x, y, n), Describe = () => $"DenseConv2d {dense.Describe()}" };
        int m = weightShape[0], c = weightShape[1] * p.Groups;
        long count = (long)m * weightShape[1] * weightShape[2] * weightShape[3];
        int outLength = m * p.OutputHeight(h) * p.OutputWidth(w), inLength = c * h * w;
        long zeros = 0;
        for (long i = 0; i < count; i++) if (weight[(int)i] == 0f) zeros++;
        double sparsity = count == 0 ? 0 : (double)zeros / count;
        var candidates = new List<ConvCandidate> { denseCandidate };
        // The other dense lowerings, timed too: the shape rule in DenseConv2dPlan.ChooseAlgorithm was set on one
        // machine at batch 1 and is within a few percent on many shapes, so the measured pick is the safer one.
        if (p.Groups == 1)
            foreach (var alg in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Pointwise })
            {
                if (alg == dense.Algorithm || (alg == ConvAlgorithm.Pointwise && !IsPointwise(weightShape, p))) continue;
                var other = DenseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act, alg);
                candidates.Add(new ConvCandidate { Name = $"dense-{alg.ToString().ToLowerInvariant()}", Run = (x, y, n) => other.Run(x, y, n), Describe = () => $"DenseConv2d {other.Describe()}" });
            }
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w), ohw = oh * ow;
        var unitStride = p with { StrideH = 1, StrideW = 1 };
        bool strided1x1 = StridedPointwise.Applies(weightShape, p);
        if (strided1x1)
        {
            // The gathered input is a stride-1 1x1 conv: the dense plan's own shape rule picks its algorithm.
            var pointwise = DenseConv2dPlan.Create(weight, weightShape, bias, unitStride, oh, ow, act);
            candidates.Add(new ConvCandidate
            {
                Name = "dense-strided-pointwise",
                Run = StridedPointwise.Wrap(c, h, w, p, (x, y, n) => pointwise.Run(x, y, n)),
                Describe = () => $"DenseConv2d {pointwise.Describe()} on a stride-{p.StrideH}x{p.StrideW} gather",
            });
        }
        if (!allowSparse || p.Groups != 1 || sparsity < MinSparsity)
            return new ConvCandidates(candidates, outLength, inLength);

        var direct = SparseConv2dPlan.Create(weight, weightShape, bias, p, h, w, act);
        candidates.Add(new ConvCandidate { Name = "sparse-direct", Run = (x, y, n) => direct.Run(x, y, n), Describe = direct.Describe });
        if (IsPointwise(weightShape, p))
        {
            int hw = h * w;
            var spmm = SpmmPlan.Create(CsrMatrix.FromDense(weight[..(int)count], m, c), bias, act, spmmPrecision);
            candidates.Add(new ConvCandidate
            {
                Name = "spmm",
                Run = (x, y, n) =>
                {
                    for (int i = 0; i < n; i++)
                        spmm.Run(x.Slice(i * c * hw, c * hw), hw, y.Slice(i * m * hw, m * hw));
                },
                Describe = spmm.Describe,
            });
        }
        if (strided1x1)
        {
            var spmm = SpmmPlan.Create(CsrMatrix.FromDense(weight[..(int)count], m, c), bias, act, spmmPrecision);
            candidates.Add(new ConvCandidate
            {
                Name = "spmm-strided",
                Run = StridedPointwise.Wrap(c, h, w, p, (x, y, n) =>
                {
                    for (int i = 0; i < n; i++)
                        spmm.Run(x.Slice(i * c * ohw, c * ohw), ohw, y.Slice(i * m * ohw, m * ohw));
                }),
                Describe = () => $"{spmm.Describe()} on a stride-{p.StrideH}x{p.StrideW} gather",
            });
        }
        return new ConvCandidates(candidates, outLength, inLength);
    }

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
