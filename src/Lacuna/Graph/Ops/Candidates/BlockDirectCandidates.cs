using Lacuna.Kernels.BlockConv;
using Lacuna.Pruning;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Block-direct convolution (<see cref="BlockConv2dPlan"/>) for a layer whose W [M × C·kh·kw] satisfies an r×1 block
/// pattern: the block SpMM's register reuse without its im2col copy, which on ResNet-50's 3x3 layers cost 3-4x the
/// product itself. Offered beside the pattern's own im2col candidate (<see cref="StructuredCandidates"/>) and timed
/// against it, the CSR direct conv and dense. Not for 1x1 stride-1 layers, where the block SpMM reads the image as is.
/// </summary>
internal sealed class BlockDirectCandidates : ConvCandidateProvider
{
    public override string Family => "block-direct";

    public override bool Applies(in ConvLayer layer) => !layer.IsPointwise && RowBlock(layer) is not null;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var pattern = RowBlock(layer)!;
        var plan = BlockConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W, pattern.BlockRows, layer.Act);
        candidates.Add(Candidate(pattern, plan));
    }

    /// <summary>The first r×1 block pattern the weights satisfy (detection lists the widest first: 16x1 before 8x1).</summary>
    private static BlockPattern? RowBlock(in ConvLayer layer)
    {
        if (layer.P.Groups != 1) return null;
        foreach (var p in layer.Patterns)
            if (p is BlockPattern { BlockCols: 1 } b) return b;
        return null;
    }

    private static ConvCandidate Candidate(BlockPattern pattern, BlockConv2dPlan plan) => new()
    {
        Name = $"pattern-{pattern.Name}-direct",
        Pattern = pattern.Name,
        Run = (x, y, n) => plan.Run(x, y, n),
        Describe = () => $"{plan.Describe()} (pattern {pattern.Name})",
    };
}
