using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Direct sparse convolution, one candidate per register tile of the sparse-conv shortlist (the AVX-512 widths and, on
/// such a machine, the AVX2 tile): the best width depends on the layer's grid (rn50's 7x7 grids are one partial pass
/// of any tile). The tiles' plans share one copy of the weights and offsets.
/// </summary>
internal sealed class SparseDirectCandidates : ConvCandidateProvider
{
    public override string Family => "sparse-direct";
    public override bool Applies(in ConvLayer layer) => layer.UnstructuredSparse;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var direct = SparseConv2dPlan.Create(layer.Weight, layer.WeightShape, layer.Bias, layer.P, layer.H, layer.W, layer.Act);
        foreach (var tile in SparseConvKernels.Candidates)
            candidates.Add(Candidate(tile == direct.Kernel ? "sparse-direct" : $"sparse-direct-{tile.Tier.ToString().ToLowerInvariant()}-1x{tile.Width}",
                direct.WithKernel(tile), direct));
    }

    private static ConvCandidate Candidate(string name, SparseConv2dPlan plan, SparseConv2dPlan owner) =>
        new()
        {
            Name = name, Run = (x, y, n) => plan.Run(x, y, n), Describe = plan.Describe, Owner = owner,
            RunWithEpilogue = (x, y, n, r, act, post) => plan.Run(x, y, n, r, act, 0, post),
        };
}

/// <summary>CSR SpMM for 1x1 stride-1 layers: Y[i] (M×HW) = W (M×C) · X[i] (C×HW).</summary>
internal sealed class CsrPointwiseCandidates : ConvCandidateProvider
{
    public override string Family => "spmm";
    public override bool Applies(in ConvLayer layer) => layer.UnstructuredSparse && layer.IsPointwise;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var spmm = SpmmPlan.Create(CsrMatrix.FromDense(layer.Weight, layer.M, layer.C), layer.Bias, layer.Act, layer.Precision);
        candidates.Add(new ConvCandidate
        {
            Name = "spmm", Run = SpmmConv.Images(spmm, layer.M, layer.C, layer.H * layer.W), Describe = spmm.Describe, Owner = spmm,
            RunWithEpilogue = SpmmConv.ImagesWithEpilogue(spmm, layer.M, layer.C, layer.H * layer.W),
        });
    }
}

/// <summary>CSR SpMM for strided 1x1 layers, on the gathered input (<see cref="StridedPointwise"/>).</summary>
internal sealed class CsrStridedCandidates : ConvCandidateProvider
{
    public override string Family => "spmm-strided";
    public override bool Applies(in ConvLayer layer) => layer.UnstructuredSparse && layer.IsStridedPointwise;

    public override void Add(in ConvLayer layer, List<ConvCandidate> candidates)
    {
        var spmm = SpmmPlan.Create(CsrMatrix.FromDense(layer.Weight, layer.M, layer.C), layer.Bias, layer.Act, layer.Precision);
        candidates.Add(new ConvCandidate
        {
            Name = "spmm-strided",
            Run = SpmmConv.Strided(spmm, layer.M, layer.C, layer.H, layer.W, layer.P),
            Describe = SpmmConv.Describe(spmm, $" on a stride-{layer.P.StrideH}x{layer.P.StrideW} gather"),
            Owner = spmm,
        });
    }
}
