using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.SparseConv;

/// <summary>
/// Arguments of one sparse-conv row kernel call: one output channel over grid points [Start, End).
/// grid[g] = act(Bias + Σ_i Values[i] · Planes[Offsets[i] + g]) for g in [Start, End). Grid is written for
/// exactly those points; reads of Planes may run up to one register tile past End (covered by the slack).
/// </summary>
internal unsafe struct SparseConvArgs
{
    public float* Planes;
    public float* Values;
    public int* Offsets;
    public int Count;
    public float Bias;
    public float* Grid;
    public int Start, End;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: tier, register tile width (grid points per pass) and function.</summary>
internal sealed unsafe class SparseConvKernel
{
    public SparseConvKernel(IsaTier tier, int width, delegate*<SparseConvArgs*, void> function)
    {
        Tier = tier; Width = width; Function = function;
    }

    public IsaTier Tier { get; }
    public int Width { get; }
    public delegate*<SparseConvArgs*, void> Function { get; }
    public string Name => $"{Tier} 1x{Width}";
    public override string ToString() => Name;
}

/// <summary>The sparse-conv registry, read by the plan, the tests and the benchmark.</summary>
internal static unsafe class SparseConvKernels
{
    public static readonly SparseConvKernel[] All =
    {
        // The first entry is the plan's default. AVX-512 against the AVX2 tile in one interleaved run (`lacuna bench conv
        // --sparsity 0.9 --threads 1 --repeat 15`, fastest repeat, geomean over the 13 layers, on a loaded 2-core share
        // of a Zen 5): 1x256 1.10x, 1x128 1.10x, 1x64 1.08x, fastest per layer 1.16x; in the conv planner's own timings
        // of ResNet-50 at DLMC 0.9 (17 direct sparse layers) 1x256 won 10 and 11 of them in two runs (sums 8.7 ms
        // against 10.0 ms for the AVX2 tile, 9.1 ms for 1x64). 1x32 measured 0.95x and 1x192 was never clearly ahead
        // of its neighbours, so they are not candidates.
        new(IsaTier.Avx512, 256, &SparseConv.Avx512Row<Tile16>),
        new(IsaTier.Avx512, 128, &SparseConv.Avx512Row<Tile8>),
        new(IsaTier.Avx512, 64, &SparseConv.Avx512Row<Tile4>),
        new(IsaTier.Avx2Fma, 64, &SparseConv.Avx2Row64),
        new(IsaTier.Vector128, 16, &SparseConv.Vector128Row16),
        new(IsaTier.Scalar, 4, &SparseConv.ScalarRow4),
    };

    public static IEnumerable<SparseConvKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>
    /// The entries the conv planner times on each layer, the plan's default first: the best tier's, and on an AVX-512
    /// machine the AVX2 tile too (as for SpMM and the dense direct conv, where the AVX2 tiles stay candidates).
    /// </summary>
    public static SparseConvKernel[] Candidates { get; } =
        Supported.Where(k => k.Tier == BestTier || (BestTier == IsaTier.Avx512 && k.Tier == IsaTier.Avx2Fma)).ToArray();

    /// <summary>The plan's kernel when none is forced: the best tier's first entry.</summary>
    public static SparseConvKernel Best => Candidates[0];
}
