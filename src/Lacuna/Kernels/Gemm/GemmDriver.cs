using System.Runtime.CompilerServices;
using System.Diagnostics;
using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// One GEMM operand in tile orientation, seen as lines × k (lines are the tile rows for the A role, the tile
/// columns for the B role). Either packed per call from X(l, p) = Src[l·LineStride + p·KStride], or already
/// packed over the full K: panel q at Packed + q·PanelStride, its KC block starting at p0 at + p0·width.
/// </summary>
internal unsafe struct GemmOperand
{
    public float* Src;
    public nint LineStride, KStride;
    public float* Packed;
    public nint PanelStride;
}

/// <summary>
/// A GEMM in the orientation the register tile computes: C'(i, j) = Σ_p A'(i, p) · B'(j, p) for i &lt; M, j &lt; N,
/// C' element (i, j) at C[i·RowStride + j·ColStride] (the driver may compute Cᵀ = op(B)ᵀ·op(A)ᵀ; then
/// M and N, the operands, the strides and the bias axis are swapped by the caller).
/// </summary>
internal unsafe struct GemmProblem
{
    public int M, N, K;
    public GemmOperand A, B;
    public float* C;
    public nint RowStride, ColStride;
    public float Alpha, Beta;
    public float* Bias;
    public BiasAxis BiasAxis;
    public Activation Activation;
}

/// <summary>
/// The blocked loop nest around a register tile (Goto/BLIS order): NC columns → KC block of the reduction
/// (pack B: KC × NC into NR-wide panels) → MC rows (pack A: MC × KC into MR-high panels, L2-resident) →
/// NR panel (its KC × NR B panel stays in L1) → MR panel → tile. Threads take disjoint tile ranges of C,
/// each packing into its own scratch.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>
    /// Cache blocking for Zen 3 (32 KiB L1d, 512 KiB L2): a 256 × 16 B panel is 16 KiB (half of L1),
    /// a 240 × 256 A block 240 KiB (half of L2), a 256 × 4096 B block 4 MiB (L3).
    /// </summary>
    public const int KcMax = 256, McMax = 240, NcMax = 4096;

    /// <summary>Below this many flops a second thread costs more to wake than it saves (a few µs of work).</summary>
    private const double MinFlopsPerExtraThread = 4e6;

    public static string Describe(GemmKernel k) => $"{k.Name} register tile, packed A/B, KC={KcMax} MC={McMax} NC={NcMax}";

    /// <summary>
    /// Whether computing Cᵀ = op(B)ᵀ·op(A)ᵀ wastes fewer tile lanes than C = op(A)·op(B): small N (49, 196 in
    /// ResNet-50's late layers) fills NR-wide vectors badly, while M (channels) is a multiple of 16.
    /// Transposed tiles store through the scalar epilogue, hence the 5% handicap.
    /// </summary>
    public static bool PreferTransposed(GemmKernel k, int m, int n)
    {
        double normal = Utilization(m, k.MR) * Utilization(n, k.NR);
        double transposed = Utilization(n, k.MR) * Utilization(m, k.NR) * 0.95;
        return transposed > normal;
    }

    /// <summary>Fraction of computed lanes that are real: n / (ceil(n / tile) · tile).</summary>
    public static double Utilization(int n, int tile) => n == 0 ? 1 : (double)n / ((n + tile - 1) / tile * tile);

    public static void Run(GemmKernel kernel, in GemmProblem p, int threads)
    {
        var (parts, splitN) = Partition(kernel, p, threads);
        if (parts <= 1)
        {
            RunPart(kernel, p, 0, p.M, 0, p.N);
            return;
        }
        var q = p;
        WorkerPool.Shared.Run(parts, part =>
        {
            if (splitN)
            {
                var (n0, n1) = WorkerPool.Range(q.N, parts, part, kernel.NR);
                if (n1 > n0) RunPart(kernel, q, 0, q.M, n0, n1);
            }
            else
            {
                var (m0, m1) = WorkerPool.Range(q.M, parts, part, kernel.MR);
                if (m1 > m0) RunPart(kernel, q, m0, m1, 0, q.N);
            }
        });
    }

    /// <summary>
    /// At most <paramref name="threads"/> parts on tile boundaries, along N or M, whichever finishes first:
    /// the slowest part's tiles (a tile-k-step costs MR·NR·2 / 32 cycles at the FMA peak) plus the operand
    /// every part packs in full (A when splitting N, B when splitting M; about a cycle per float).
    /// </summary>
    private static (int Parts, bool SplitN) Partition(GemmKernel k, in GemmProblem p, int threads)
    {
        double flops = 2.0 * p.M * p.N * p.K;
        int parts = (int)Math.Min(threads, 1 + flops / MinFlopsPerExtraThread);
        if (parts <= 1) return (1, true);
        long mTiles = (p.M + k.MR - 1) / k.MR, nTiles = (p.N + k.NR - 1) / k.NR;
        double tile = (double)p.K * k.MR * k.NR / 16;
        double packA = p.A.Packed != null ? 0 : (double)p.M * p.K;
        double packB = p.B.Packed != null ? 0 : (double)p.N * p.K;
        double costN = (nTiles + parts - 1) / parts * mTiles * tile + packA + packB / parts;
        double costM = (mTiles + parts - 1) / parts * nTiles * tile + packB + packA / parts;
        return (parts, costN <= costM);
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>Tile rows [m0, m1) × columns [n0, n1) of the problem; m0, n0 on tile boundaries.</summary>
    // Tiering would run the first calls in unoptimized code for a few hundred ms; the loop nest is hot from the first call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPart(GemmKernel kernel, in GemmProblem p, int m0, int m1, int n0, int n1)
    {
        int mr = kernel.MR, nr = kernel.NR;
        Debug.Assert(m0 % mr == 0 && n0 % nr == 0);
        var fn = kernel.Function;
        bool avx2 = kernel.Tier == IsaTier.Avx2Fma;
        int K = p.K;
        int kBlocks = Math.Max(1, CeilDiv(K, KcMax));
        int kcStep = CeilDiv(K, kBlocks);
        int rows = m1 - m0, cols = n1 - n0;
        int mc = CeilDiv(CeilDiv(rows, CeilDiv(rows, McMax)), mr) * mr;
        int nc = CeilDiv(CeilDiv(cols, CeilDiv(cols, NcMax)), nr) * nr;
        float* aBuf = p.A.Packed == null ? GemmScratch.Get(GemmScratch.APanels, (long)mc * kcStep) : null;
        float* bBuf = p.B.Packed == null ? GemmScratch.Get(GemmScratch.BPanels, (long)nc * kcStep) : null;

        GemmTileArgs t = default;
        t.RowStride = p.RowStride;
        t.ColStride = p.ColStride;
        t.Alpha = p.Alpha;
        for (int jc = n0; jc < n1; jc += nc)
        {
            int ncur = Math.Min(nc, n1 - jc);
            for (int pc = 0; ;)
            {
                int kc = Math.Min(kcStep, K - pc);
                float* bp;
                nint bps;
                if (p.B.Packed != null)
                {
                    bp = p.B.Packed + jc / nr * p.B.PanelStride + (nint)pc * nr;
                    bps = p.B.PanelStride;
                }
                else
                {
                    bps = (nint)kc * nr;
                    GemmPack.Panels(p.B.Src + jc * p.B.LineStride + pc * p.B.KStride, p.B.LineStride, p.B.KStride, ncur, kc, nr, bBuf, bps, avx2);
                    bp = bBuf;
                }
                bool last = pc + kc >= K;
                t.Kc = kc;
                t.Beta = pc == 0 ? p.Beta : 1f;
                t.BiasAxis = last ? p.BiasAxis : BiasAxis.None;
                t.Activation = last ? p.Activation.Kind : ActivationKind.None;
                t.Min = p.Activation.Min;
                t.Max = p.Activation.Max;
                for (int ic = m0; ic < m1; ic += mc)
                {
                    int mcur = Math.Min(mc, m1 - ic);
                    float* ap;
                    nint aps;
                    if (p.A.Packed != null)
                    {
                        ap = p.A.Packed + ic / mr * p.A.PanelStride + (nint)pc * mr;
                        aps = p.A.PanelStride;
                    }
                    else
                    {
                        aps = (nint)kc * mr;
                        GemmPack.Panels(p.A.Src + ic * p.A.LineStride + pc * p.A.KStride, p.A.LineStride, p.A.KStride, mcur, kc, mr, aBuf, aps, avx2);
                        ap = aBuf;
                    }
                    for (int jr = 0; jr < ncur; jr += nr)
                    {
                        t.B = bp + jr / nr * bps;
                        t.ValidCols = Math.Min(nr, ncur - jr);
                        int j = jc + jr;
                        float* cCol = p.C + j * p.ColStride;
                        for (int ir = 0; ir < mcur; ir += mr)
                        {
                            int i = ic + ir;
                            t.A = ap + ir / mr * aps;
                            t.ValidRows = Math.Min(mr, mcur - ir);
                            t.C = cCol + i * p.RowStride;
                            t.Bias = t.BiasAxis == BiasAxis.Row ? p.Bias + i : t.BiasAxis == BiasAxis.Column ? p.Bias + j : null;
                            fn(&t);
                        }
                    }
                }
                pc += kc;
                if (pc >= K) break;
            }
        }
    }
}
