using Lacuna.Pruning;

namespace Lacuna.Graph.Ops;

/// <summary>
/// The structured sparsity patterns (block, N:M, TASD series, GS, and any family added later) that the layer's
/// W [M × C·kh·kw] satisfies (<see cref="ConvLayer.Patterns"/>): each pattern's own plan
/// (<see cref="SparsityPattern.CreatePlan"/>) becomes a candidate, on 1x1 layers directly, on strided 1x1 layers
/// through the gather, and on any other layer through im2col. A pattern whose plan is null for this shape adds
/// nothing. One group only: a grouped conv is not one W [M × K].
/// </summary>
internal sealed class StructuredCandidates : ConvCandidateProvider
{
    public override string Family => "pattern";
    public override bool Applies(in ConvLayer layer) => layer.Patterns.Count > 0;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        foreach (var pattern in layer.Patterns)
        {
            if (pattern.CreatePlan(layer.Weight, layer.M, layer.K, layer.Bias, layer.Act) is not { } plan) continue;
            candidates.Add(layer.IsPointwise ? Candidate(pattern, "", SpmmConv.Images(plan, layer.M, layer.C, layer.H * layer.W), plan, "")
                : layer.IsStridedPointwise ? Candidate(pattern, "-strided", SpmmConv.Strided(plan, layer.M, layer.C, layer.H, layer.W, layer.P), plan,
                    $" on a stride-{layer.P.StrideH}x{layer.P.StrideW} gather")
                : Candidate(pattern, "-im2col", SpmmConv.Im2Col(layer.Geometry, plan), plan, " on im2col"));
        }
    }

    /// <summary>"pattern-nm:2:4" and so on: the candidate name says the pattern, the description the plan.</summary>
    private static ConvCandidate Candidate(SparsityPattern pattern, string lowering, Action<ReadOnlySpan<float>, Span<float>, int> run,
        Kernels.Spmm.ISpmmPlan plan, string suffix) => new()
    {
        Name = $"pattern-{pattern.Name}{lowering}",
        Pattern = pattern.Name,
        Run = run,
        Describe = SpmmConv.Describe(plan, $" (pattern {pattern.Name}){suffix}"),
        Owner = plan as IDisposable,
    };
}
