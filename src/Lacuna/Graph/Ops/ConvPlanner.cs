using Lacuna.Kernels;
using Lacuna.Kernels.Elementwise;
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

    /// <summary>
    /// The same kernel with a residual sum and a post-activation fused into its epilogue (y = post(act(conv(x) + r)),
    /// each block done while in cache), where the kernel has one; null runs <see cref="Run"/> and then each as a pass of
    /// its own. A copy made with <c>with</c> that replaces <see cref="Run"/> must replace or clear this too.
    /// </summary>
    public EpilogueConvRun? RunWithEpilogue { get; init; }

    /// <summary>Whether <see cref="RunWithEpilogue"/> is used for a residual too (else only for a post-activation alone).</summary>
    public bool EpilogueTakesResidual { get; init; } = true;

    /// <summary>The structured sparsity pattern the kernel runs ("nm:2:4"), null for dense and CSR kernels.</summary>
    public string? Pattern { get; init; }

    /// <summary>
    /// The plan that owns the candidate's packed weights (candidates of one family may share it), disposed by
    /// <see cref="ConvPlanner.ReleaseAllBut"/> when the layer runs another plan; null where only the finalizers free them.
    /// </summary>
    public IDisposable? Owner { get; init; }
}

/// <summary>
/// A conv kernel run with its epilogue fused: y[batch, M, OH, OW] = post(act(conv(x) + residual)), the residual shaped as y
/// (empty: none, and then <paramref name="act"/> is unused).
/// </summary>
internal delegate void EpilogueConvRun(ReadOnlySpan<float> x, Span<float> y, int batch, ReadOnlySpan<float> residual, Activation act, PostActivation post);

/// <summary>A conv layer's prepared kernels (weights packed once) and its per-image input and output lengths.</summary>
internal sealed record ConvCandidates(IReadOnlyList<ConvCandidate> Kernels, int OutLength, int InLength);

/// <summary>
/// Picks, per conv layer, the fastest of the candidates the kernel families offer (<see cref="Providers"/>: the dense
/// conv lowerings, the shape rule's pick named "dense"; depthwise tiles; strided 1x1 layers on a gathered input
/// (<see cref="StridedPointwise"/>); direct sparse conv; CSR SpMM; the structured patterns the weights satisfy; block-direct conv for r×1 blocks),
/// by timing each on the layer's real weights
/// and shape at the batch size and thread count the plan is for (<see cref="KernelTimer.FastestRounds"/>):
/// a kernel that wins at batch 1 need not win at batch 8, where the dense GEMM's panels fill up. The unstructured
/// sparse candidates are only tried at weight sparsity ≥ <see cref="MinSparsity"/>: below
/// it the sweeps never showed sparse ahead (`lacuna bench sweep --m 256 --k 2304 --n 196`: crossover 0.70 for
/// SpMM; `lacuna bench conv --sweep --layer "rn50 3x3/2 128@56"`: 0.50 for direct sparse conv). Structured
/// candidates are tried wherever the weights satisfy their pattern (2:4 is exactly 0.5).
/// </summary>
internal static class ConvPlanner
{
    public const double MinSparsity = 0.5;

    /// <summary>
    /// The kernel families, dense first (its first candidate, "dense", wins ties). A new family is one more entry;
    /// a new structured pattern needs none (<see cref="StructuredCandidates"/> takes every pattern the weights satisfy).
    /// </summary>
    internal static readonly ConvCandidateProvider[] Providers =
    [
        new DenseLoweringCandidates(),
        new DepthwiseCandidates(),
        new StridedPointwiseDenseCandidates(),
        new SparseDirectCandidates(),
        new CsrPointwiseCandidates(),
        new CsrStridedCandidates(),
        new StructuredCandidates(),
        new BlockDirectCandidates(),
        new NmDirectCandidates(),
    ];

    /// <summary>Builds the candidate kernels for a layer (packing its weights); nothing is timed yet.</summary>
    /// <param name="patterns">Which structured patterns to offer (null: <see cref="PatternPlanning.Detect"/>).</param>
    public static ConvCandidates Prepare(
        ReadOnlySpan<float> weight, int[] weightShape, ReadOnlySpan<float> bias, Conv2dParams p, int h, int w,
        Activation act, bool allowSparse, SpmmPrecision spmmPrecision = SpmmPrecision.Float32, PatternPlanning? patterns = null)
    {
        var layer = new ConvLayer(weight, weightShape, bias, p, h, w, act, allowSparse, spmmPrecision, patterns ?? PatternPlanning.Detect);
        return Prepare(layer, Providers);
    }

    /// <summary>The candidates of the given <paramref name="providers"/> that apply to the layer, in list order.</summary>
    internal static ConvCandidates Prepare(in ConvLayer layer, IReadOnlyList<ConvCandidateProvider> providers)
    {
        var candidates = new List<ConvCandidate>();
        if (layer.ForcePatterns)
        {
            // A forced pattern that applies is the layer's only candidate: the others are not even packed.
            foreach (var provider in providers.OfType<StructuredCandidates>())
                if (provider.Applies(layer)) provider.Add(layer, candidates);
            if (candidates.Count > 0) return new ConvCandidates([candidates[0]], layer.OutLength, layer.InLength);
        }
        foreach (var provider in providers)
            if (provider.Applies(layer)) provider.Add(layer, candidates);
        return new ConvCandidates(candidates, layer.OutLength, layer.InLength);
    }

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

    /// <summary>
    /// Frees the packed weights of every prepared candidate but those <paramref name="kept"/> runs (owners that <paramref name="kept"/>
    /// shares are spared; a kept candidate from an earlier preparation shares none): the losers' copies of the layer's weights
    /// went to the finalizers before, so after planning they held native memory until the next collections and, while
    /// they were pinned arrays, left holes between the kept plans that stayed resident.
    /// </summary>
    public static void ReleaseAllBut(ConvCandidates prepared, ConvCandidate kept)
    {
        foreach (var c in prepared.Kernels)
            if (c.Owner is { } owner && !ReferenceEquals(owner, kept.Owner)) owner.Dispose();
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
