using System.Diagnostics;
using System.Runtime.CompilerServices;
using Lacuna.Kernels.Elementwise;
using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// C[M×N] = act(alpha · A'·B'ᵀ + beta · C + bias) in tile terms: A' is op(A) seen as M lines × K, B' is op(B)ᵀ
/// seen as N lines × K, each line X(l, p) = Src[l·LineStride + p·KStride] (transposes and leading dimensions are
/// only strides here). A may instead be packed already over the full K (<see cref="GemmPackedA"/>): panel q
/// at Packed + q·PanelStride, its KC block starting at p0 at + p0·MR; likewise B (<see cref="GemmPackedB"/>),
/// whose KC block starts at + p0·width (NR, or the edge tile's width in a last panel packed at it).
/// </summary>
internal unsafe struct GemmOperand
{
    public float* Src;
    public nint LineStride, KStride;
    public float* Packed;
    public nint PanelStride;
}

internal unsafe struct GemmProblem
{
    public int M, N, K;
    public GemmOperand A, B;
    /// <summary>[M × RowStride]: C element (i, j) at C[i·RowStride + j].</summary>
    public float* C;
    public nint RowStride;
    public float Alpha, Beta;
    /// <summary>[M] for <see cref="BiasAxis.Row"/>, [N] for Column, null for None.</summary>
    public float* Bias;
    public BiasAxis BiasAxis;
    public Activation Activation;
    /// <summary>
    /// Applied to each NR-wide panel of C after its last KC block (<see cref="OutputEpilogue"/>): a residual laid out as C
    /// (same RowStride) and its activation (<see cref="Activation"/> must then be None), then a post-activation. Default: none.
    /// </summary>
    public OutputEpilogue Epilogue;
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
    /// Cache blocking: a 240 × 512 A block is 480 KiB (under Zen 5's 1 MiB L2), a 512 × 4096 B block 8 MiB (L3).
    /// KC was 256 (a 16-wide B panel at half of Zen 3's 32 KiB L1d); 512 measured faster with the 32-wide tiles on
    /// Zen 5 (`lacuna bench gemm --tiles`, vs OpenBLAS in the same process: 1008x1024x1024 0.99 → 1.03-1.05,
    /// 128x3072x768 0.95 → 0.97, 256x196x2304 0.89 → 0.90-0.93) although their 512 × 32 B panel is 64 KiB, past
    /// the 48 KiB L1d: the two B loads per k step come from L2 fast enough, and half the KC blocks halve the
    /// passes over C (each later block reads C back for beta = 1).
    /// </summary>
    public const int KcMax = 512, McMax = 240, NcMax = 4096;

    /// <summary>Below this many flops a second thread costs more to wake than it saves (a few µs of work).</summary>
    private const double MinFlopsPerExtraThread = 4e6;

    public static string Describe(GemmKernel k) => $"{k.Name} register tile, packed A/B, KC={KcMax} MC={McMax} NC={NcMax}";

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
    /// every part packs in full (A when splitting N, B when splitting M; taken as a cycle per float).
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
        bool avx2 = kernel.Tier >= IsaTier.Avx2Fma;
        int K = p.K;
        int kBlocks = Math.Max(1, CeilDiv(K, KcMax));
        int kcStep = CeilDiv(K, kBlocks);
        int rows = m1 - m0, cols = n1 - n0;
        int mc = CeilDiv(CeilDiv(rows, CeilDiv(rows, McMax)), mr) * mr;
        // Packed B is read in place, so one column block spans the part (its last panel is the packed last one).
        bool packedB = p.B.Packed != null;
        int nc = packedB ? cols : CeilDiv(CeilDiv(cols, CeilDiv(cols, NcMax)), nr) * nr;
        float* aBuf = p.A.Packed == null ? AlignedScratch.Get(AlignedScratch.GemmA, (long)mc * kcStep) : null;
        float* bBuf = packedB ? null : AlignedScratch.Get(AlignedScratch.GemmB, (long)nc * kcStep);

        GemmTileArgs t = default;
        t.RowStride = p.RowStride;
        t.Alpha = p.Alpha;
        for (int jc = n0; jc < n1; jc += nc)
        {
            int ncur = Math.Min(nc, n1 - jc);
            // Edge tail: a last panel narrow enough for the edge tile is packed at its width and computed by it.
            int fullCols = (ncur - 1) / nr * nr, lastCols = ncur - fullCols;
            var edge = kernel.Edge is { } e && lastCols <= e.NR ? e : null;
            for (int pc = 0; ;)
            {
                int kc = Math.Min(kcStep, K - pc);
                nint bps = (nint)kc * nr;
                float* bSrc = p.B.Src + jc * p.B.LineStride + pc * p.B.KStride;
                if (packedB) bps = p.B.PanelStride;
                else if (edge is null) GemmPack.Panels(bSrc, p.B.LineStride, p.B.KStride, ncur, kc, nr, bBuf, bps, avx2);
                else
                {
                    GemmPack.Panels(bSrc, p.B.LineStride, p.B.KStride, fullCols, kc, nr, bBuf, bps, avx2);
                    GemmPack.Panels(bSrc + fullCols * p.B.LineStride, p.B.LineStride, p.B.KStride, lastCols, kc, edge.NR,
                        bBuf + fullCols / nr * bps, (nint)kc * edge.NR, avx2);
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
                        t.B = packedB ? p.B.Packed + (jc + jr) / nr * bps + (nint)pc * (jr == fullCols && edge is not null ? edge.NR : nr)
                            : bBuf + jr / nr * bps;
                        t.ValidCols = Math.Min(nr, ncur - jr);
                        var tile = edge is not null && jr == fullCols ? edge.Function : fn;
                        int j = jc + jr;
                        for (int ir = 0; ir < mcur; ir += mr)
                        {
                            int i = ic + ir;
                            t.A = ap + ir / mr * aps;
                            t.ValidRows = Math.Min(mr, mcur - ir);
                            t.C = p.C + i * p.RowStride + j;
                            t.Bias = t.BiasAxis == BiasAxis.Row ? p.Bias + i : t.BiasAxis == BiasAxis.Column ? p.Bias + j : null;
                            tile(&t);
                        }
                        // The panel's MC x NR block of C is finished and still in L1/L2.
                        if (last && !p.Epilogue.IsNone) p.Epilogue.ApplyRows(p.C, (long)ic * p.RowStride + j, mcur, p.RowStride, t.ValidCols);
                    }
                }
                pc += kc;
                if (pc >= K) break;
            }
        }
    }
}
