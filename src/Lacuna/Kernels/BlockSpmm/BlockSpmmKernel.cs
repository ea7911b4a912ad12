using Lacuna.Kernels.Spmm;

namespace Lacuna.Kernels.BlockSpmm;

/// <summary>
/// Arguments of one block SpMM call: block rows [Br0, Br1) of a BSR W with blocks of R (the kernel's) × C, over
/// columns [J0, J1) of X [K × N] and Y [M × N] (row-major, both with stride N). For every stored block b of block
/// row br and every column k0 + jj of it inside K: Y[br·R + i, j] += Values[b·R·C + i·C + jj] · X[k0 + jj, j], then
/// Y = act(sum + Bias[row]) for the rows below M. One X vector load feeds R FMAs (one per row of the block).
/// </summary>
internal unsafe struct BlockSpmmArgs
{
    public float* X;
    public int N, K, M;
    public float* Values;
    public int* Offsets, Cols;
    public int R, C;
    public float* Bias;
    public float* Y;
    public int Br0, Br1, J0, J1;
    public ActivationKind Activation;
    public float Min, Max;
    /// <summary>Loop order: block rows outside the column tiles (Y streamed row by row) instead of inside (an X panel
    /// of one tile reused by every block row). Which wins depends on K, n and the cache; the plan times both.</summary>
    public bool RowsOuter;
}

/// <summary>Rows per block a kernel body is compiled for (its accumulators: Rows × vectors).</summary>
internal interface IBlockRows { static abstract int Rows { get; } }
internal struct Rows1 : IBlockRows { public static int Rows => 1; }
internal struct Rows2 : IBlockRows { public static int Rows => 2; }
internal struct Rows4 : IBlockRows { public static int Rows => 4; }
internal struct Rows8 : IBlockRows { public static int Rows => 8; }
internal struct Rows16 : IBlockRows { public static int Rows => 16; }

/// <summary>Whether blocks are one column wide (r×1: no loop over a block's columns) or C wide (read from the args).</summary>
internal interface IBlockCols { static abstract bool One { get; } }
internal struct OneCol : IBlockCols { public static bool One => true; }
internal struct AnyCols : IBlockCols { public static bool One => false; }

/// <summary>Whether a tile is the last, partial one (masked X loads and Y stores).</summary>
internal interface IBlockTail { static abstract bool Masked { get; } }
internal struct FullTile : IBlockTail { public static bool Masked => false; }
internal struct PartialTile : IBlockTail { public static bool Masked => true; }

/// <summary>Whether an AVX-512 body prefetches the X rows of the block a few entries ahead (the plan times both).</summary>
internal interface IBlockPrefetch { static abstract bool On { get; } }
internal struct NoPrefetch : IBlockPrefetch { public static bool On => false; }
internal struct PrefetchX : IBlockPrefetch { public static bool On => true; }

/// <summary>One registry entry: a tier, the block rows its body handles and its tile (vectors × lanes columns).</summary>
internal sealed unsafe class BlockSpmmKernel
{
    private readonly delegate*<BlockSpmmArgs*, void> _oneCol, _anyCols;

    public BlockSpmmKernel(IsaTier tier, int rows, int lanes, int vectors, bool prefetch, delegate*<BlockSpmmArgs*, void> oneCol, delegate*<BlockSpmmArgs*, void> anyCols)
    {
        Tier = tier; Rows = rows; Lanes = lanes; Vectors = vectors; Prefetch = prefetch; _oneCol = oneCol; _anyCols = anyCols;
    }

    public IsaTier Tier { get; }
    public int Rows { get; }
    public int Lanes { get; }
    public int Vectors { get; }
    public bool Prefetch { get; }
    public string Name => $"{Tier} {Rows}x(1x{Lanes * Vectors}){(Prefetch ? " prefetch" : "")}";

    public delegate*<BlockSpmmArgs*, void> Function(int blockCols) => blockCols == 1 ? _oneCol : _anyCols;

    public override string ToString() => Name;

    /// <summary>Columns one tile covers (the vector lanes times the tile's vectors).</summary>
    public int Width => Lanes * Vectors;

    // The generated bodies declare accumulators for rows × vectors ≤ 24 (AVX-512, 32 registers: 24 + up to 6 X
    // vectors + the broadcast weight), ≤ 12 (AVX2, 16 registers: 4x3 = 12 + 3 + 1) or ≤ 8 (Vector128); more would spill.
    public static BlockSpmmKernel Avx512<TR, TT, TP>() where TR : struct, IBlockRows where TT : struct, ISpmmTile where TP : struct, IBlockPrefetch =>
        TR.Rows * TT.Vectors > 24 || TT.Vectors > 6 ? throw new ArgumentOutOfRangeException(nameof(TT), "AVX-512 block tiles hold at most 24 accumulators and 6 X vectors.")
        : new(IsaTier.Avx512, TR.Rows, 16, TT.Vectors, TP.On, &BlockSpmm.RunAvx512<TR, TT, OneCol, TP>, &BlockSpmm.RunAvx512<TR, TT, AnyCols, TP>);

    public static BlockSpmmKernel Avx2<TR, TT>() where TR : struct, IBlockRows where TT : struct, ISpmmTile =>
        TR.Rows * TT.Vectors > 12 ? throw new ArgumentOutOfRangeException(nameof(TT), "AVX2 block tiles hold at most 12 accumulators.")
        : new(IsaTier.Avx2Fma, TR.Rows, 8, TT.Vectors, false, &BlockSpmm.RunAvx2<TR, TT, OneCol>, &BlockSpmm.RunAvx2<TR, TT, AnyCols>);

    public static BlockSpmmKernel Vector128<TR, TT>() where TR : struct, IBlockRows where TT : struct, ISpmmTile =>
        TR.Rows * TT.Vectors > 8 ? throw new ArgumentOutOfRangeException(nameof(TT), "Vector128 block tiles hold at most 8 accumulators.")
        : new(IsaTier.Vector128, TR.Rows, 4, TT.Vectors, false, &BlockSpmm.RunVector128<TR, TT, OneCol>, &BlockSpmm.RunVector128<TR, TT, AnyCols>);

    /// <summary>The scalar body reads R from the args, so one entry serves every block height up to 16.</summary>
    public static BlockSpmmKernel Scalar() => new(IsaTier.Scalar, 16, 1, 1, false, &BlockSpmm.Scalar, &BlockSpmm.Scalar);
}

/// <summary>
/// The block SpMM registry: per tier, the bodies (rows × tile) it has, tallest first. A body of RB rows runs any
/// block height RB divides, as sub-blocks. On AVX-512 a 16-row body can hold only one X vector (16 accumulators),
/// so every block entry costs 1 X load + 16 broadcasts per 16 FMAs, about one load per FMA, which is load-bound
/// on a core with 2 loads and 2 FMAs per cycle; 8 rows × 3 vectors (3 + 8 loads per 24 FMAs) and 4 × 6 (6 + 4 per
/// 24) spend under half a load per FMA, at the price of re-reading the X tile once per sub-block and of a wider
/// tile (more lanes wasted past n). Which wins depends on n, K and the cache, so the plan times the candidates. The
/// prefetching variants help where X spills out of L1 (3x3 layers on im2col: measured 1.44-1.52x -> 1.67-1.77x the
/// CSR kernel at 1 thread) and cost a load slot per line where it does not, so they are candidates too. AVX2 (16
/// registers): 4 rows × 3 vectors (3 + 4 loads per 12 FMAs) won every ResNet-50 shape over 8x1 and 4x2 (geomean
/// 1.00-1.12x -> 1.21-1.26x the CSR kernel with AVX-512 switched off).
/// </summary>
internal static class BlockSpmmKernels
{
    public static readonly BlockSpmmKernel[] All =
    {
        BlockSpmmKernel.Avx512<Rows16, Tile1, NoPrefetch>(), BlockSpmmKernel.Avx512<Rows8, Tile3, NoPrefetch>(), BlockSpmmKernel.Avx512<Rows8, Tile3, PrefetchX>(),
        BlockSpmmKernel.Avx512<Rows8, Tile2, NoPrefetch>(), BlockSpmmKernel.Avx512<Rows8, Tile2, PrefetchX>(),
        BlockSpmmKernel.Avx512<Rows4, Tile6, NoPrefetch>(), BlockSpmmKernel.Avx512<Rows4, Tile6, PrefetchX>(), BlockSpmmKernel.Avx512<Rows4, Tile4, NoPrefetch>(),
        BlockSpmmKernel.Avx512<Rows2, Tile4, NoPrefetch>(), BlockSpmmKernel.Avx512<Rows1, Tile4, NoPrefetch>(),
        BlockSpmmKernel.Avx2<Rows8, Tile1>(), BlockSpmmKernel.Avx2<Rows4, Tile3>(), BlockSpmmKernel.Avx2<Rows4, Tile2>(),
        BlockSpmmKernel.Avx2<Rows2, Tile4>(), BlockSpmmKernel.Avx2<Rows1, Tile4>(),
        BlockSpmmKernel.Vector128<Rows4, Tile2>(), BlockSpmmKernel.Vector128<Rows2, Tile2>(), BlockSpmmKernel.Vector128<Rows1, Tile4>(),
        BlockSpmmKernel.Scalar(),
    };

    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>
    /// The kernel of <paramref name="tier"/> for blocks of <paramref name="blockRows"/> rows: the tallest body whose
    /// height divides it (a 16-row block on AVX2 runs as two 8-row halves, a 3-row block as three 1-row blocks).
    /// </summary>
    public static BlockSpmmKernel For(IsaTier tier, int blockRows) => Candidates(tier, blockRows)[0];

    /// <summary>
    /// The bodies of <paramref name="tier"/> that can run blocks of <paramref name="blockRows"/> rows, tallest first:
    /// those whose height divides it, leaving out heights under 4 unless nothing taller divides (a body of 1 or 2
    /// rows re-reads the X tile for every row and never wins on a block of 4 or more).
    /// </summary>
    public static BlockSpmmKernel[] Candidates(IsaTier tier, int blockRows)
    {
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), $"Block height must be positive (got {blockRows}).");
        var fit = All.Where(k => k.Tier == tier && (k.Tier == IsaTier.Scalar ? k.Rows >= blockRows : blockRows % k.Rows == 0)).ToArray();
        if (fit.Length == 0) throw new ArgumentOutOfRangeException(nameof(blockRows), $"No {tier} block body runs blocks of {blockRows} rows.");
        return fit.Where(k => k.Rows >= Math.Min(4, fit[0].Rows)).ToArray();
    }
}

internal static unsafe partial class BlockSpmm
{
    /// <summary>How many block entries ahead the prefetching bodies fetch X (about 100 FMAs of work on an 8x3 body).</summary>
    private const int PrefetchAhead = 6;

    /// <summary>Scalar: every column of [J0, J1) on its own, R accumulators (R ≤ 16 from the args).</summary>
    public static void Scalar(BlockSpmmArgs* a)
    {
        int r = a->R, c = a->C, k = a->K, m = a->M;
        nint n = a->N;
        var act = new Activation(a->Activation, a->Min, a->Max);
        float* acc = stackalloc float[16];
        for (int br = a->Br0; br < a->Br1; br++)
        {
            int rows = Math.Min(r, m - br * r);
            for (int j = a->J0; j < a->J1; j++)
            {
                for (int i = 0; i < r; i++) acc[i] = 0f;
                for (int b = a->Offsets[br], end = a->Offsets[br + 1]; b < end; b++)
                {
                    int k0 = a->Cols[b] * c, kc = Math.Min(c, k - k0);
                    float* w = a->Values + (nint)b * r * c;
                    for (int jj = 0; jj < kc; jj++)
                    {
                        float xv = a->X[(k0 + jj) * n + j];
                        for (int i = 0; i < r; i++) acc[i] += w[i * c + jj] * xv;
                    }
                }
                for (int i = 0; i < rows; i++)
                    a->Y[(br * r + i) * n + j] = act.Apply(acc[i] + a->Bias[br * r + i]);
            }
        }
    }
}
