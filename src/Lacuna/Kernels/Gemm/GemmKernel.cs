namespace Lacuna.Kernels;

/// <summary>
/// Arguments of one GEMM register tile (MR rows × NR columns of C, one KC block of the reduction):
/// acc[i, j] = Σ_{p &lt; Kc} A[p·MR + i] · B[p·NR + j], then the epilogue
/// out = alpha · acc + beta · C (C not read when beta is 0) + bias, act(out) — bias and act only in the last KC block
/// (the driver passes Bias = null and ActivationKind.None before it, and beta = 1 after the first block).
/// </summary>
internal unsafe struct GemmTileArgs
{
    /// <summary>[Kc × MR]: packed A micro-panel, zero rows beyond the valid ones.</summary>
    public float* A;
    /// <summary>[Kc × NR]: packed B micro-panel, zero columns beyond the valid ones.</summary>
    public float* B;
    public int Kc;
    /// <summary>C element (i, j) of this tile is C[i·RowStride + j].</summary>
    public float* C;
    public nint RowStride;
    /// <summary>Valid rows (≤ MR) and columns (≤ NR); the rest is computed and dropped.</summary>
    public int ValidRows, ValidCols;
    public float Alpha, Beta;
    /// <summary>Bias at this tile's origin: Bias[i] for <see cref="BiasAxis.Row"/>, Bias[j] for Column; null with None.</summary>
    public float* Bias;
    public BiasAxis BiasAxis;
    public ActivationKind Activation;
    public float Min, Max;

    /// <summary>Whether the tile is complete, so the kernel may store vectors straight into C.</summary>
    public readonly bool IsFullTile(int mr, int nr) => ValidRows == mr && ValidCols == nr;
}

/// <summary>One registry entry: a tier, a register tile (MR rows × NR columns of C) and its function.</summary>
internal sealed unsafe class GemmKernel
{
    public GemmKernel(IsaTier tier, int mr, int nr, delegate*<GemmTileArgs*, void> function, GemmKernel? edge = null)
    {
        Tier = tier; MR = mr; NR = nr; Function = function; Edge = edge;
    }

    public IsaTier Tier { get; }
    public int MR { get; }
    public int NR { get; }
    public delegate*<GemmTileArgs*, void> Function { get; }

    /// <summary>
    /// A narrower tile (same MR) for the last column panel when it has at most Edge.NR valid columns: N = 49 is
    /// 3·16 + 1, and a 6x8 tile computes that 1 column at half the cost of a 6x16 one.
    /// </summary>
    public GemmKernel? Edge { get; }
    public string Name => Edge is null ? $"{Tier} {MR}x{NR}" : $"{Tier} {MR}x{NR} (edge {Edge.MR}x{Edge.NR})";
    public override string ToString() => Name;
}

/// <summary>The GEMM registry: the one list the dispatcher, the tests and the benchmarks read.</summary>
internal static unsafe class GemmKernels
{
    private static readonly GemmKernel s_avx2Edge = new(IsaTier.Avx2Fma, 6, 8, &Gemm.Avx2Tile6x8);
    private static readonly GemmKernel s_avx512Edge = new(IsaTier.Avx512, 16, 8, &Gemm.Avx512Tile16x8);

    public static readonly GemmKernel[] All =
    {
        new(IsaTier.Avx512, 16, 16, &Gemm.Avx512Tile16x16, s_avx512Edge),
        s_avx512Edge,
        new(IsaTier.Avx2Fma, 6, 16, &Gemm.Avx2Tile6x16, s_avx2Edge),
        s_avx2Edge,
        new(IsaTier.Vector128, 4, 8, &Gemm.Vector128Tile4x8),
        new(IsaTier.Scalar, 4, 4, &Gemm.ScalarTile4x4),
    };

    /// <summary>Entries this process can run (tier supported and not above <see cref="IsaTiers.Best"/>).</summary>
    public static IEnumerable<GemmKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>The first entry of the best supported tier, once per process.</summary>
    public static GemmKernel Best { get; } = Supported.OrderByDescending(k => k.Tier).First();

    /// <summary>On an AVX-512 machine, the AVX2 tile, for matrices too short for 16-row tiles; otherwise <see cref="Best"/>.</summary>
    private static readonly GemmKernel s_short = BestTier == IsaTier.Avx512 ? All.First(k => k.Tier == IsaTier.Avx2Fma) : Best;

    /// <summary>
    /// The dispatcher's pick for op(A) of <paramref name="m"/> rows: <see cref="Best"/>, except that on an AVX-512
    /// machine the 6-row AVX2 tile takes matrices where it computes enough fewer padding rows (m = 1, a batch-1
    /// fully connected layer, runs 6 rows instead of 16): the higher utilization(m, MR) · speed, with the AVX2 tile
    /// at 0.8 of the AVX-512 one (ResNet-50's pointwise convs, `lacuna bench dense-conv`: see Gemm.Avx512.cs).
    /// </summary>
    public static GemmKernel For(int m)
    {
        if (ReferenceEquals(s_short, Best)) return Best;
        double wide = Utilization(m, Best.MR), narrow = Utilization(m, s_short.MR) * 0.8;
        return narrow > wide ? s_short : Best;
    }

    private static double Utilization(int n, int tile) => n <= 0 ? 1 : (double)n / ((n + tile - 1) / tile * tile);
}
