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
    public GemmKernel(IsaTier tier, int mr, int nr, delegate*<GemmTileArgs*, void> function, GemmKernel? edge = null, double speed = 1)
    {
        Tier = tier; MR = mr; NR = nr; Function = function; Edge = edge; Speed = speed;
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

    /// <summary>
    /// Measured throughput on full tiles relative to the AVX-512 16x16 tile (`lacuna bench gemm --tiles` on a large
    /// square product), the dispatcher's weight when it trades padding against speed (<see cref="GemmKernels.For"/>).
    /// </summary>
    public double Speed { get; }

    /// <summary>
    /// Share of the computed columns that are real for an N-column product: full NR panels, then the last panel at
    /// the edge tile's width when it fits there.
    /// </summary>
    public double ColumnUtilization(int n)
    {
        if (n <= 0) return 1;
        int full = (n - 1) / NR * NR, last = n - full;
        return (double)n / (full + (Edge is { } e && last <= e.NR ? e.NR : NR));
    }
    public string Name => Edge is null ? $"{Tier} {MR}x{NR}" : $"{Tier} {MR}x{NR} (edge {Edge.MR}x{Edge.NR})";
    public override string ToString() => Name;
}

/// <summary>The GEMM registry: the one list the dispatcher, the tests and the benchmarks read.</summary>
internal static unsafe class GemmKernels
{
    private static readonly GemmKernel s_avx2Edge = new(IsaTier.Avx2Fma, 6, 8, &Gemm.Avx2Tile6x8);
    private static readonly GemmKernel s_avx512Edge = new(IsaTier.Avx512, 16, 8, &Gemm.Avx512Tile16x8);
    private static readonly GemmKernel s_avx512Edge14 = new(IsaTier.Avx512, 14, 16, &Gemm.Avx512Tile14x16);
    private static readonly GemmKernel s_avx512Edge12 = new(IsaTier.Avx512, 12, 16, &Gemm.Avx512Tile12x16);

    // Speeds: Zen 5, `lacuna bench gemm --tiles --m 1008 --n 1024 --k 1024 --threads 1` (every tile full there), best
    // of 11 interleaved: 16x16 185-188 GFLOP/s, 12x32 204-206, 14x32 201-203, the AVX2 6x16 108. 14x32 holds more
    // accumulators but spends 16 loads on 28 FMAs where 12x32 spends 14 on 24, and measured a little slower.
    public static readonly GemmKernel[] All =
    {
        new(IsaTier.Avx512, 12, 32, &Gemm.Avx512Tile12x32, s_avx512Edge12, speed: 1.10),
        new(IsaTier.Avx512, 14, 32, &Gemm.Avx512Tile14x32, s_avx512Edge14, speed: 1.08),
        new(IsaTier.Avx512, 16, 16, &Gemm.Avx512Tile16x16, s_avx512Edge),
        s_avx512Edge14,
        s_avx512Edge12,
        s_avx512Edge,
        new(IsaTier.Avx2Fma, 6, 16, &Gemm.Avx2Tile6x16, s_avx2Edge, speed: 0.8),
        s_avx2Edge,
        new(IsaTier.Vector128, 4, 8, &Gemm.Vector128Tile4x8),
        new(IsaTier.Scalar, 4, 4, &Gemm.ScalarTile4x4),
    };

    /// <summary>Entries this process can run (tier supported and not above <see cref="IsaTiers.Best"/>).</summary>
    public static IEnumerable<GemmKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>The first entry of the best supported tier, once per process: the pick for large products.</summary>
    public static GemmKernel Best { get; } = Supported.OrderByDescending(k => k.Tier).First();

    /// <summary>
    /// The entries the dispatcher chooses among: the best tier's tiles that are not only another's edge, and on an
    /// AVX-512 machine also the AVX2 6-row tile, for matrices too short for 12- to 16-row tiles.
    /// </summary>
    public static IReadOnlyList<GemmKernel> Candidates { get; } = Supported
        .Where(k => !All.Any(o => ReferenceEquals(o.Edge, k)))
        .Where(k => k.Tier == BestTier || (BestTier == IsaTier.Avx512 && k.Tier == IsaTier.Avx2Fma))
        .ToArray();

    /// <summary>
    /// The dispatcher's pick for op(A) of <paramref name="m"/> rows times op(B) of <paramref name="n"/> columns
    /// (n ≤ 0: not known, e.g. weights packed before the batch is): the candidate with the highest
    /// utilization(m, MR) · column utilization(n) · speed. On an AVX-512 machine the wide 12x32 and 14x32 tiles take
    /// large products; the 16x16 one M a multiple of 16 with N narrow (49 columns are 0.875 of 3·16 + 8 against 0.77 of
    /// 32 + 32), and the 6-row AVX2 tile the shortest matrices (m = 1, a batch-1 fully connected layer, runs 6 rows
    /// instead of 12 to 16).
    /// </summary>
    public static GemmKernel For(int m, int n = 0) => For(m, n, Best, null);

    /// <summary>
    /// <see cref="For(int, int)"/> among the candidates <paramref name="allowed"/> accepts (those that read a packed
    /// operand's layout), <paramref name="fallback"/> when none does.
    /// </summary>
    public static GemmKernel For(int m, int n, GemmKernel fallback, Func<GemmKernel, bool>? allowed)
    {
        GemmKernel best = fallback;
        double bestScore = -1;
        foreach (var k in Candidates)
        {
            if (allowed is not null && !allowed(k)) continue;
            double score = Utilization(m, k.MR) * k.ColumnUtilization(n) * k.Speed;
            if (score > bestScore + 1e-9) { best = k; bestScore = score; }
        }
        return best;
    }

    private static double Utilization(int n, int tile) => n <= 0 ? 1 : (double)n / ((n + tile - 1) / tile * tile);
}
