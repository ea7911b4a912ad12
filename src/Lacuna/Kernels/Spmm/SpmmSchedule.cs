using System.Runtime.Intrinsics;
using Lacuna.Kernels.Elementwise;
using Lacuna.Threading;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// How one SpMM run is cut up. N is covered by windows of the main tile's width plus one narrower tail window
/// (<see cref="Work"/>); within a window every row runs over X, in blocks of K when the window's X is large
/// (<see cref="DefaultBlockBytes"/>), reading X in place or from a packed panel per block (<see cref="Window"/>).
/// Threads split columns or rows by non-zero count (<see cref="SplitColumns"/>, or as the plan's tuning measured).
/// </summary>
internal static unsafe class SpmmSchedule
{
    /// <summary>Loads per non-zero besides the tile's own (index and broadcast weight), in the tile cost model.</summary>
    private const int Overhead = 2;

    /// <param name="main">the main tile and K block (null: the cost model's tile per thread's range, the default block)</param>
    /// <param name="epilogue">applied to each window as it is finished (<see cref="OutputEpilogue"/>), or none</param>
    public static void Run(SpmmPlan plan, float* x, int n, float* y, int threads, SpmmChoice? main = null, OutputEpilogue epilogue = default)
    {
        int m = plan.M;
        if (threads == 1) { Work(plan, x, n, y, 0, n, 0, m, main, epilogue); return; }
        if (main?.SplitRows is { } rows ? !rows : SplitColumns(n, threads))
        {
            int lanes = plan.Tiles[0].Lanes;
            WorkerPool.Shared.Run(threads, p =>
            {
                var (c0, c1) = WorkerPool.Range(n, threads, p, lanes);
                if (c1 > c0) Work(plan, x, n, y, c0, c1, 0, m, main, epilogue);
            });
        }
        else
        {
            int parts = Math.Min(threads, m);
            int[] bounds = plan.PartsFor(parts);
            WorkerPool.Shared.Run(parts, p => Work(plan, x, n, y, 0, n, bounds[p], bounds[p + 1], main, epilogue));
        }
    }

    /// <summary>
    /// Columns when every thread gets at least 64 of them: each thread then packs and reads only its part of X and
    /// all threads share the (smaller, cache-resident) weights. Measured on DLMC rn50 0.9, 2 threads, on a shared
    /// machine: geomean time 0.377 ms splitting columns vs 0.391 ms splitting rows by non-zeros.
    /// </summary>
    internal static bool SplitColumns(int n, int threads) => n >= 64 * threads;

    /// <summary>
    /// Y[m0..m1, c0..c1) of the product: windows of the main tile's width, then one narrower tail window (the
    /// narrowest tile of the main tile's tier that covers it). A window reads X in place unless the choice packs X
    /// (<see cref="SpmmChoice.Packed"/>) or the tile is wider than the window: a tail always runs from a zero-padded
    /// panel, so its full-width loads never leave X.
    /// </summary>
    private static void Work(SpmmPlan plan, float* x, int n, float* y, int c0, int c1, int m0, int m1, SpmmChoice? choice, OutputEpilogue epilogue)
    {
        var main = choice?.Tile ?? ChooseMain(plan, c1 - c0);
        int blockBytes = plan.BlockBytes >= 0 ? plan.BlockBytes : choice?.BlockBytes ?? DefaultBlockBytes(plan);
        // bf16 activations exist only in packed panels (the conversion happens while packing), unless the tuning
        // measured fp32 X faster for this N (SpmmChoice.Fp32X).
        var precision = choice?.Fp32X == true ? plan.Precision.WithFp32Activations() : plan.Precision;
        bool packed = precision.HasBf16Activations() || (plan.ForcedPacked ?? choice?.Packed ?? false);
        for (int g = c0; g < c1; g += main.Width)
        {
            int valid = Math.Min(main.Width, c1 - g);
            var tile = valid == main.Width ? main : TailTile(plan, main, valid);
            Window(plan, precision, tile, x, n, g, valid, y + g, m0, m1, blockBytes, packed || valid < tile.Width);
            // A post-activation alone: on the window's rows of Y, just written and still in L1/L2.
            if (!epilogue.IsNone && epilogue.R == null) epilogue.ApplyRows(y, (long)m0 * n + g, m1 - m0, n, valid);
        }
        // A residual sum after the thread's whole range, in rows as long as the range: per window it read R in as many
        // short streams as Y has rows (128 floats each, rows 12.5 KB apart at N = 3136), which the prefetchers did not
        // follow; ResNet-50 at DLMC 0.9, 1 thread, its 1x1 layers with a residual took 2.0-4.8x their planned time
        // that way (`lacuna run --profile`), against 1.8-2.4x as the separate pass.
        if (epilogue.R != null) epilogue.ApplyRows(y, (long)m0 * n + c0, m1 - m0, n, c1 - c0);
    }

    /// <summary>
    /// One window of columns [g, g + valid): all rows, in blocks of K of <paramref name="bytes"/> of X each (0: one
    /// block). With <paramref name="pack"/> each block of the window is first copied into an aligned, zero-padded
    /// panel and the rows run over that. Read in place, a window's rows lie a whole row of X apart (12.5 KB at
    /// N = 3136), spread over as many pages and few cache sets, and are misaligned whenever N is not a multiple of
    /// 16; the panel is contiguous and small enough to stay in L1/L2 while every row uses it. The copy reads X once,
    /// so it pays where each X row is used by many non-zeros (M × density large). With bf16 activations every block
    /// is packed, as bf16 (<see cref="SpmmBf16Panel"/>), and <paramref name="bytes"/> counts bf16 bytes. Measured on DLMC rn50 at 0.7,
    /// 1 thread, best block each: 256x64x3136 0.70 → 0.38 ms, 64x576x3136 1.60 → 1.13, 128x1152x784 1.50 → 1.02;
    /// at 0.95 a 64-row layer (64x256x3136) lost, 0.09 → 0.14 ms, so the tuning decides per layer.
    /// </summary>
    private static void Window(SpmmPlan plan, SpmmPrecision precision, SpmmKernel tile, float* x, int n, int g, int valid, float* y, int m0, int m1, int bytes, bool pack)
    {
        int k = plan.K, m = plan.M, width = tile.Width;
        bool bf16 = precision.HasBf16Activations();
        // A bf16 panel row: ushorts, a whole number of vector pairs (SpmmBf16Panel); an fp32 one: the tile's floats.
        int stride = bf16 ? SpmmBf16Panel.Stride(width, tile.Lanes) : width;
        int kb = bytes > 0 ? Math.Min(k, Math.Max(16, bytes / (stride * (bf16 ? sizeof(ushort) : sizeof(float))))) : k;
        int blocks = kb >= k ? 1 : (k + kb - 1) / kb;
        float* panel = pack ? AlignedScratch.Get(AlignedScratch.SpmmPanel, (long)Math.Max(1, kb) * (bf16 ? stride / 2 : stride)) : null;
        var fn = tile.Function(precision, plan.Index16);
        SpmmArgs a = default;
        a.Activation = plan.Activation.Kind; a.Min = plan.Activation.Min; a.Max = plan.Activation.Max;
        a.X = x + g; a.Stride = pack ? stride : n; a.Valid = valid;
        a.Cols = plan.ColsPointer; a.Values = plan.ValuesPointer; a.Bias = plan.BiasPointer;
        a.M0 = m0; a.M1 = m1; a.Y = y; a.Ldy = n;
        fixed (int* offsets = plan.RowOffsets)
        fixed (int* bo = blocks > 1 ? plan.BlockOffsets(kb) : null)
        {
            for (int b = 0; b < blocks; b++)
            {
                if (pack)
                {
                    int k0 = b * kb, k1 = Math.Min(k, k0 + kb);
                    // The kernel addresses X row c at X + c·Stride, so the panel of rows [k0, k1) sits k0 rows in.
                    if (bf16)
                    {
                        SpmmBf16Panel.Pack(x, n, g, valid, width, tile.Lanes, (ushort*)panel, k0, k1);
                        a.X = (float*)((ushort*)panel - (long)k0 * stride);
                    }
                    else
                    {
                        Pack(x, n, g, valid, width, panel, k0, k1);
                        a.X = panel - (long)k0 * width;
                    }
                }
                if (blocks == 1) { a.Starts = offsets; a.Ends = offsets + 1; }
                else { a.Starts = bo + (long)b * m; a.Ends = bo + (long)(b + 1) * m; }
                a.Accumulate = b > 0; a.Activate = b == blocks - 1;
                fn(&a);
            }
        }
    }

    /// <summary>
    /// Bytes of X one K block spans (rows of the block × tile width). Blocking trades a load and store of the partial
    /// Y tile per block for X that stays in L2 near the core. Measured (DLMC rn50, 1 thread, min of 22 interleaved
    /// runs, geomean time vs no blocking): density 0.3: 64 KiB -11%, 128 KiB -7%; density 0.1: 64 KiB -2.5%,
    /// 128 KiB -4.4%; density 0.05: 64 KiB +2.6%, 128 KiB -3.5%. 16-32 KiB (L1) blocks lost at every density.
    /// </summary>
    internal static int DefaultBlockBytes(SpmmPlan plan) => plan.BlockBytes >= 0 ? plan.BlockBytes : plan.Sparsity < 0.8 ? 64 * 1024 : 128 * 1024;

    /// <summary>K block sizes (bytes of X) a plan's tuning tries with its best tile; 0 = no blocking.</summary>
    internal static readonly int[] BlockSizes = { 32 * 1024, 64 * 1024, 128 * 1024, 0 };

    /// <summary>
    /// K block sizes a plan's tuning tries with packed panels (<see cref="Window"/>). No "none": a whole-K panel
    /// of a deep layer overflows L2 (the N = 196 layers of DLMC rn50 0.9 went from 5.1x to 2.6x of OpenBLAS).
    /// </summary>
    internal static readonly int[] PackedBlockSizes = { 32 * 1024, 64 * 1024, 128 * 1024, 256 * 1024 };

    /// <summary>
    /// The main tile for a range of <paramref name="width"/> columns: the one with the fewest estimated cycles per
    /// non-zero over the whole range, a pass of V vectors costing V loads+FMAs plus <see cref="Overhead"/> for the
    /// index, the broadcast and the loop.
    /// </summary>
    internal static SpmmKernel ChooseMain(SpmmPlan plan, int width)
    {
        if (plan.ForcedTile is { } forced) return forced;
        return BestByCost(plan.Tiles.Where(t => t.Tier == plan.Tiles[0].Tier), width).First();
    }

    /// <summary>
    /// The shortlist a plan times for one N (<see cref="SpmmPlan"/>'s tuning): per tier, the two tiles the cost
    /// model ranks best and the 7-vector tile, which measured fastest on wide N at both tiers' widths.
    /// </summary>
    internal static SpmmKernel[] Candidates(SpmmPlan plan, int width)
    {
        var list = new List<SpmmKernel>();
        foreach (var tier in plan.Tiles.Select(t => t.Tier).Distinct())
        {
            var ofTier = plan.Tiles.Where(t => t.Tier == tier).ToArray();
            list.AddRange(BestByCost(ofTier, width).Take(2));
            if (ofTier.FirstOrDefault(t => t.Vectors == 7) is { } seven && width >= seven.Width && !list.Contains(seven)) list.Add(seven);
        }
        return list.ToArray();
    }

    /// <summary>Tiles ordered by estimated cycles per non-zero over <paramref name="width"/> columns, cheapest first.</summary>
    private static IEnumerable<SpmmKernel> BestByCost(IEnumerable<SpmmKernel> tiles, int width)
    {
        var costs = new List<(long Cost, int Order, SpmmKernel Tile)>();
        foreach (var tile in tiles)
        {
            int full = width / tile.Width, r = width - full * tile.Width;
            long cost = (long)full * (tile.Vectors + Overhead);
            if (r > 0) cost += (r + tile.Lanes - 1) / tile.Lanes + Overhead;
            costs.Add((cost, costs.Count, tile));
        }
        return costs.OrderBy(c => c.Cost).ThenBy(c => c.Order).Select(c => c.Tile);
    }

    /// <summary>The narrowest tile of the main tile's tier that covers <paramref name="columns"/> (the widest if none does).</summary>
    private static SpmmKernel TailTile(SpmmPlan plan, SpmmKernel main, int columns)
    {
        SpmmKernel? covering = null, widest = null;
        foreach (var t in plan.Tiles)
        {
            if (t.Tier != main.Tier) continue;
            if (widest is null || t.Width > widest.Width) widest = t;
            if (t.Width >= columns && (covering is null || t.Width < covering.Width)) covering = t;
        }
        return covering ?? widest!;
    }

    /// <summary>Copies X[k0..k1, g..g+valid) into panel rows of <paramref name="width"/> floats, zeroing lanes valid..width.</summary>
    private static void Pack(float* x, int n, int g, int valid, int width, float* panel, int k0, int k1)
    {
        for (int r = k0; r < k1; r++)
        {
            float* src = x + (long)r * n + g, dst = panel + (long)(r - k0) * width;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= valid; j += 16) Vector512.Store(Vector512.Load(src + j), dst + j);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= valid; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
            }
            for (; j < valid; j++) dst[j] = src[j];
            for (; j < width; j++) dst[j] = 0f;
        }
    }

}

/// <summary>
/// What one SpMM run uses: the main register tile, the K block (bytes of X per block, 0 = none), whether each window's
/// block of X is first packed into an aligned panel, (several threads) whether threads split rows or columns, and
/// (plans with bf16 activations) whether this N runs on fp32 X instead, measured faster.
/// </summary>
internal readonly record struct SpmmChoice(SpmmKernel Tile, int BlockBytes, bool? SplitRows = null, bool Packed = false, bool Fp32X = false);
