using Lacuna.Kernels.DirectConv;

namespace Lacuna.Graph.Ops;

/// <summary>
/// The dense plan (its shape rule's pick, named "dense", always first: <see cref="ConvPlanner.Choose(IReadOnlyList{ConvCandidate})"/>
/// keeps it on ties) and, for one group, the other dense lowerings, timed too: the shape rule in
/// <see cref="DenseConv2dPlan.ChooseAlgorithm"/> was set on one machine at batch 1 and is within a few percent on
/// many shapes, so the measured pick is the safer one.
/// </summary>
internal sealed class DenseLoweringCandidates : ConvCandidateProvider
{
    public override string Family => "dense";
    public override bool Applies(in ConvLayer layer) => true;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var dense = DenseConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W, layer.Act);
        candidates.Add(Dense("dense", dense, ""));
        if (layer.P.Groups != 1) return;
        // The direct tile scores were measured on two CPUs; the runner-up is timed too, so a third CPU that ranks
        // them differently still gets its faster tile.
        var ranked = DirectConvKernels.Ranked(layer.Geometry);
        if (ranked.Length > 1)
        {
            var second = dense.Algorithm == ConvAlgorithm.Direct ? ranked[1] : ranked[0];
            candidates.Add(Dense($"dense-direct-{second.Rows}x{second.Width}", DenseConv2dPlan.Create(layer.Weight, layer.WeightShape,
                layer.Bias, layer.P, layer.H, layer.W, layer.Act, ConvAlgorithm.Direct, second), ""));
        }
        foreach (var alg in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Pointwise })
        {
            if (alg == dense.Algorithm || (alg == ConvAlgorithm.Direct && ranked.Length > 1) || (alg == ConvAlgorithm.Pointwise && !layer.IsPointwise)) continue;
            candidates.Add(Dense($"dense-{alg.ToString().ToLowerInvariant()}",
                DenseConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W, layer.Act, alg), ""));
        }
    }

    public static Action<ReadOnlySpan<float>, Span<float>, int> Run(DenseConv2dPlan plan) => (x, y, n) => plan.Run(x, y, n);

    public static ConvCandidate Dense(string name, DenseConv2dPlan plan, string suffix) =>
        new()
        {
            Name = name, Run = Run(plan), Describe = () => $"DenseConv2d {plan.Describe()}{suffix}", Owner = plan,
            // The post-activation in the kernel's epilogue, but a residual as ConvKernel's separate pass: summed per
            // direct-conv work item (one output row of 32 channels) or GEMM panel, R was read in short strided streams,
            // and the dense ResNet-50 measured 3-5 % slower at 2 threads than with the pass (`lacuna run --dense`, two runs each).
            RunWithEpilogue = plan.FusesEpilogue ? (x, y, n, r, act, post) => plan.Run(x, y, n, r, act, 0, post) : null,
            EpilogueTakesResidual = false,
        };
}

/// <summary>Depthwise layers: the one-channel direct tiles too, timed against the depthwise sweep.</summary>
internal sealed class DepthwiseCandidates : ConvCandidateProvider
{
    public override string Family => "depthwise";
    public override bool Applies(in ConvLayer layer) => layer.DenseAlgorithm == ConvAlgorithm.Depthwise;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates) =>
        candidates.Add(DenseLoweringCandidates.Dense("dense-direct",
            DenseConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W, layer.Act, ConvAlgorithm.Direct), ""));
}

/// <summary>
/// Strided 1x1 layers as a stride-1 pointwise conv on the gathered input (<see cref="StridedPointwise"/>); the
/// dense plan's own shape rule picks the pointwise algorithm.
/// </summary>
internal sealed class StridedPointwiseDenseCandidates : ConvCandidateProvider
{
    public override string Family => "dense-strided-pointwise";
    public override bool Applies(in ConvLayer layer) => layer.IsStridedPointwise;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var p = layer.P;
        var g = layer.Geometry;
        var pointwise = DenseConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, p with { StrideH = 1, StrideW = 1 }, g.OH, g.OW, layer.Act);
        candidates.Add(DenseLoweringCandidates.Dense("dense-strided-pointwise", pointwise, $" on a stride-{p.StrideH}x{p.StrideW} gather") with
        {
            Run = StridedPointwise.Wrap(layer.C, layer.H, layer.W, p, DenseLoweringCandidates.Run(pointwise)),
            RunWithEpilogue = null, // the pointwise plan's own would read the gathered input's shape, not this layer's
        });
    }
}
