using Lacuna.Kernels.NmConv;
using Lacuna.Pruning;

namespace Lacuna.Graph.Ops;

/// <summary>
/// N:M direct convolution (<see cref="NmConv2dPlan"/>) for a k×k layer whose W [M × C·kh·kw] satisfies an N:M pattern:
/// the N:M product without the im2col copy. Offered beside the pattern's im2col candidate
/// (<see cref="StructuredCandidates"/>) and timed against it, the CSR direct conv and dense. Not for 1x1 stride-1
/// layers, where the N:M SpMM reads the image as is.
/// </summary>
internal sealed class NmDirectCandidates : ConvCandidateProvider
{
    public override string Family => "nm-direct";

    public override bool Applies(in ConvLayer layer) => !layer.IsPointwise && Nm(layer) is not null;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var pattern = Nm(layer)!;
        var plan = NmConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W,
            pattern.N, pattern.M, pattern.RowsPerPattern, layer.Act);
        candidates.Add(Candidate(pattern, plan));
    }

    /// <summary>The first N:M pattern the weights satisfy (detection lists the most constrained first: 1:8 before 2:4).</summary>
    private static NmPattern? Nm(in ConvLayer layer)
    {
        if (layer.P.Groups != 1) return null;
        foreach (var p in layer.Patterns)
            if (p is NmPattern nm) return nm;
        return null;
    }

    private static ConvCandidate Candidate(NmPattern pattern, NmConv2dPlan plan) => new()
    {
        Name = $"pattern-{pattern.Name}-direct",
        Pattern = pattern.Name,
        Run = (x, y, n) => plan.Run(x, y, n),
        Describe = () => $"{plan.Describe()} (pattern {pattern.Name})",
    };
}
