namespace Lacuna.Kernels.Spmm;

/// <summary>
/// Arguments of one SpMM call: rows [M0, M1) of W over one register tile of Width columns.
/// Y[m·Ldy + j] = act(init + Σ_i w_i · X[col_i·Stride + j]) for j in [0, Valid), i over [Starts[m], Ends[m]) (a whole
/// CSR row, or its part in one block of K), init = Y's current value when Accumulate, else Bias[m], and act applied
/// only when Activate (the last K block); X is read for j in [0, Width), so callers point X at interior columns or at
/// a zero-padded panel (with bf16 activations X points at a <see cref="SpmmBf16Panel"/> and Stride counts its
/// ushorts). Cols are 16- or 32-bit and Values fp32 or bf16, as the kernel variant expects. Looping over
/// the rows inside the kernel keeps the activation bounds and pointers in registers across rows (short rows at 95%
/// sparsity have only a few non-zeros, so per-row call overhead would be a large share).
/// </summary>
internal unsafe struct SpmmArgs
{
    public float* X;
    public int Stride;
    public void* Cols;
    public void* Values;
    public int* Starts, Ends;
    public float* Bias;
    public bool Accumulate, Activate;
    public int M0, M1;
    public float* Y;
    public int Ldy;
    public int Valid;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>
/// One registry entry: a tier and a tile (Vectors × Lanes columns of X per pass), with one compiled body per
/// index width (16/32-bit), weight precision (fp32/bf16) and activation precision (fp32 X, or a bf16 panel of X).
/// </summary>
internal sealed unsafe class SpmmKernel
{
    private readonly delegate*<SpmmArgs*, void>[] _variants;

    public SpmmKernel(IsaTier tier, int lanes, int vectors, delegate*<SpmmArgs*, void>[] variants)
    {
        Tier = tier; Lanes = lanes; Vectors = vectors; _variants = variants;
    }

    public IsaTier Tier { get; }
    public int Lanes { get; }
    public int Vectors { get; }
    public int Width => Lanes * Vectors;
    public string Name => $"{Tier} 1x{Width}";

    /// <summary>The body for a plan's precision (weights and activations) and index width.</summary>
    public delegate*<SpmmArgs*, void> Function(SpmmPrecision precision, bool index16) =>
        _variants[((int)precision << 1) + (index16 ? 0 : 1)];

    public override string ToString() => Name;

    // Variants in the order Function reads them: (fp32 X: fp32 weights, bf16 weights; bf16 X: the same) × (16-, 32-bit indices).

    public static SpmmKernel Avx2<T>() where T : struct, ISpmmTile => new(IsaTier.Avx2Fma, 8, T.Vectors, new delegate*<SpmmArgs*, void>[]
    {
        &Spmm.Avx2Tile<T, Index16, WeightF32>, &Spmm.Avx2Tile<T, Index32, WeightF32>,
        &Spmm.Avx2Tile<T, Index16, WeightBf16>, &Spmm.Avx2Tile<T, Index32, WeightBf16>,
        &Spmm.Avx2TileBf16X<T, Index16, WeightF32>, &Spmm.Avx2TileBf16X<T, Index32, WeightF32>,
        &Spmm.Avx2TileBf16X<T, Index16, WeightBf16>, &Spmm.Avx2TileBf16X<T, Index32, WeightBf16>,
    });

    /// <summary>AVX-512 tiles of up to 8 vectors (the bf16-activation body has 8 accumulator pairs).</summary>
    public static SpmmKernel Avx512<T>() where T : struct, ISpmmTile => T.Vectors > 8
        ? throw new ArgumentOutOfRangeException(nameof(T), "AVX-512 SpMM tiles have at most 8 vectors.")
        : new(IsaTier.Avx512, 16, T.Vectors, new delegate*<SpmmArgs*, void>[]
    {
        &Spmm.Avx512Tile<T, Index16, WeightF32>, &Spmm.Avx512Tile<T, Index32, WeightF32>,
        &Spmm.Avx512Tile<T, Index16, WeightBf16>, &Spmm.Avx512Tile<T, Index32, WeightBf16>,
        &Spmm.Avx512TileBf16X<T, Index16, WeightF32>, &Spmm.Avx512TileBf16X<T, Index32, WeightF32>,
        &Spmm.Avx512TileBf16X<T, Index16, WeightBf16>, &Spmm.Avx512TileBf16X<T, Index32, WeightBf16>,
    });

    public static SpmmKernel Vector128<T>() where T : struct, ISpmmTile => new(IsaTier.Vector128, 4, T.Vectors, new delegate*<SpmmArgs*, void>[]
    {
        &Spmm.Vector128Tile<T, Index16, WeightF32>, &Spmm.Vector128Tile<T, Index32, WeightF32>,
        &Spmm.Vector128Tile<T, Index16, WeightBf16>, &Spmm.Vector128Tile<T, Index32, WeightBf16>,
        &Spmm.Vector128TileBf16X<T, Index16, WeightF32>, &Spmm.Vector128TileBf16X<T, Index32, WeightF32>,
        &Spmm.Vector128TileBf16X<T, Index16, WeightBf16>, &Spmm.Vector128TileBf16X<T, Index32, WeightBf16>,
    });

    public static SpmmKernel Scalar() => new(IsaTier.Scalar, 4, 1, new delegate*<SpmmArgs*, void>[]
    {
        &Spmm.ScalarTile<Tile1, Index16, WeightF32>, &Spmm.ScalarTile<Tile1, Index32, WeightF32>,
        &Spmm.ScalarTile<Tile1, Index16, WeightBf16>, &Spmm.ScalarTile<Tile1, Index32, WeightBf16>,
        &Spmm.ScalarTileBf16X<Tile1, Index16, WeightF32>, &Spmm.ScalarTileBf16X<Tile1, Index32, WeightF32>,
        &Spmm.ScalarTileBf16X<Tile1, Index16, WeightBf16>, &Spmm.ScalarTileBf16X<Tile1, Index32, WeightBf16>,
    });
}

/// <summary>The SpMM registry: the one list the plan, the tests and the benchmarks read. Widest tile first per tier.</summary>
internal static class SpmmKernels
{
    public static readonly SpmmKernel[] All =
    {
        // AVX-512 stops at 8 vectors: 10 and 12 measured slower than 7 and 8 on every DLMC N (rn50 0.9, 1 thread,
        // `bench spmm --tiles`: N = 3136 summed 6.89 ms for 12, 5.40 for 10, 4.54 for 8, 4.11 for 7).
        // With bf16 activations (a pair of vectors per load) 10- and 12-vector tiles were tried too: the tuning picked
        // them on most DLMC rn50 0.9 layers but gained nothing (1 thread, min of 15: geomean 1.25x of fp32 SpMM with
        // them, 1.24-1.26x without; 1024x256x196 0.082 ms either way), so the tiles stay one list up to 8.
        SpmmKernel.Avx512<Tile8>(), SpmmKernel.Avx512<Tile7>(), SpmmKernel.Avx512<Tile6>(), SpmmKernel.Avx512<Tile5>(),
        SpmmKernel.Avx512<Tile4>(), SpmmKernel.Avx512<Tile3>(), SpmmKernel.Avx512<Tile2>(), SpmmKernel.Avx512<Tile1>(),
        SpmmKernel.Avx2<Tile12>(), SpmmKernel.Avx2<Tile10>(), SpmmKernel.Avx2<Tile8>(), SpmmKernel.Avx2<Tile7>(),
        SpmmKernel.Avx2<Tile6>(), SpmmKernel.Avx2<Tile5>(), SpmmKernel.Avx2<Tile4>(), SpmmKernel.Avx2<Tile3>(),
        SpmmKernel.Avx2<Tile2>(), SpmmKernel.Avx2<Tile1>(),
        SpmmKernel.Vector128<Tile4>(), SpmmKernel.Vector128<Tile2>(), SpmmKernel.Vector128<Tile1>(),
        SpmmKernel.Scalar(),
    };

    public static IEnumerable<SpmmKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    public static IsaTier BestTier => Supported.Max(k => k.Tier);

    /// <summary>The tiles of one tier, widest first.</summary>
    public static SpmmKernel[] OfTier(IsaTier tier) => All.Where(k => k.Tier == tier).ToArray();
}
