using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.BlockConv;

/// <summary>
/// Arguments of one block-direct-conv call: one group of <see cref="BlockConvKernel.Rows"/> output channels over the
/// flattened grid points [Start, End) of the phase planes (<see cref="SparseConv.PhasePlanes"/>).
/// grid[r][g] = act(Bias[r] + Σ_i Weights[i·Rows + r] · Planes[Offsets[i] + g]): the entries are the (c, kh, kw)
/// positions where any of the group's channels has a non-zero weight, so one loaded input vector feeds Rows FMAs.
/// Only [Start, End) of the planes is read (tails under a mask or scalar) and only [Start, End) of each grid row written.
/// </summary>
internal unsafe struct BlockConvArgs
{
    public float* Planes;
    /// <summary>[Count]: offsets of the entries' (c, kh, kw) into the planes.</summary>
    public int* Offsets;
    /// <summary>[Count × Rows]: the group's weights at each entry, zero for channels past the layer's last.</summary>
    public float* Weights;
    public int Count;
    /// <summary>[Rows]</summary>
    public float* Bias;
    /// <summary>Grid row of the group's first channel, indexed by absolute grid point; rows are GridStride apart.</summary>
    public float* Grid;
    public nint GridStride;
    public int Start, End;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: tier, channels per group (Rows), grid points per full pass, and function.</summary>
internal sealed unsafe class BlockConvKernel
{
    public BlockConvKernel(IsaTier tier, int rows, int width, delegate*<BlockConvArgs*, void> function)
    {
        Tier = tier; Rows = rows; Width = width; Function = function;
    }

    public IsaTier Tier { get; }
    public int Rows { get; }
    public int Width { get; }
    public delegate*<BlockConvArgs*, void> Function { get; }
    public string Name => $"{Tier} {Rows}x{Width}";
    public override string ToString() => Name;
}

/// <summary>Channels per group as a type, so each tier's tile is compiled once per row count with the unused rows removed.</summary>
internal interface IBlockRows
{
    static abstract int Rows { get; }
}

internal struct Rows1 : IBlockRows { public static int Rows => 1; }
internal struct Rows2 : IBlockRows { public static int Rows => 2; }
internal struct Rows4 : IBlockRows { public static int Rows => 4; }
internal struct Rows8 : IBlockRows { public static int Rows => 8; }

/// <summary>The block-direct-conv registry, read by the plan, the planner, the tests and the benchmark.</summary>
internal static unsafe class BlockConvKernels
{
    /// <summary>
    /// Per tier the widest group first. AVX-512: 8 channels × 3 vectors (24 accumulators, 3 loads and 8 broadcasts
    /// per 24 FMAs), a 16-row block as two groups; 4 channels × 6 vectors (6 loads and 4 broadcasts per 24 FMAs) and
    /// narrower for narrower blocks (a group wider than the block would run the union of two blocks' positions).
    /// AVX2: 4 channels × 3 ymm (12 accumulators).
    /// </summary>
    public static readonly BlockConvKernel[] All =
    {
        new(IsaTier.Avx512, 8, 48, &BlockConv.Avx512<Rows8, Tile3>),
        new(IsaTier.Avx512, 4, 96, &BlockConv.Avx512<Rows4, Tile6>),
        new(IsaTier.Avx512, 2, 96, &BlockConv.Avx512<Rows2, Tile6>),
        new(IsaTier.Avx512, 1, 96, &BlockConv.Avx512<Rows1, Tile6>),
        new(IsaTier.Avx2Fma, 4, 24, &BlockConv.Avx2<Rows4>),
        new(IsaTier.Avx2Fma, 2, 24, &BlockConv.Avx2<Rows2>),
        new(IsaTier.Avx2Fma, 1, 24, &BlockConv.Avx2<Rows1>),
        new(IsaTier.Vector128, 4, 8, &BlockConv.Vector128<Rows4>),
        new(IsaTier.Vector128, 2, 8, &BlockConv.Vector128<Rows2>),
        new(IsaTier.Vector128, 1, 8, &BlockConv.Vector128<Rows1>),
        new(IsaTier.Scalar, 4, 1, &BlockConv.Scalar<Rows4>),
        new(IsaTier.Scalar, 2, 1, &BlockConv.Scalar<Rows2>),
        new(IsaTier.Scalar, 1, 1, &BlockConv.Scalar<Rows1>),
    };

    public static IEnumerable<BlockConvKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>
    /// The best tier's entry for weights pruned in blockRows×1 blocks: the widest group whose row count divides
    /// blockRows, so every group lies inside one block row and runs exactly that block row's non-zero positions.
    /// </summary>
    public static BlockConvKernel For(int blockRows)
    {
        if (blockRows < 1) ThrowHelper.OutOfRange(nameof(blockRows), blockRows, "Block rows must be at least 1.");
        return All.Where(k => k.Tier == BestTier).First(k => blockRows % k.Rows == 0);
    }
}
