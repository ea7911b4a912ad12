using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.Nm;

/// <summary>
/// Y [M × n] = act(W · X + bias) with W one N:M matrix or a TASD series of them (<see cref="NmMatrix"/>, all terms of
/// one shape and one rows-per-pattern r), X [K × n] and Y row-major, vectorized along n.
/// <para>Layout: rows are grouped in blocks of r (the rows that share a pattern; r = 1 for per-row N:M). A block's
/// slots are every term's slots merged in column order, so a series runs as one pass: all terms accumulate into the
/// same register tile before it is stored once. Each slot holds its absolute column (the packed 4-bit offsets are
/// decoded here, once, not per tile) and r weights side by side. Every block has the same number of slots, so row
/// blocks are perfectly balanced work.</para>
/// <para>Per slot a tile of R rows × V vectors loads V vectors of X and does R × V FMAs: with r = 1 that is one load
/// per FMA, as in CSR; with shared rows one X load feeds R FMAs, as in a dense micro-kernel.</para>
/// The register tile is timed on the first run of each (n, threads) among the tier's tiles whose R divides r.
/// Immutable after the tuning; safe for concurrent runs.
/// </summary>
public sealed unsafe class NmSpmmPlan : ISpmmPlan
{
    private readonly int[] _cols;      // pinned [blocks × slots]
    private readonly float[] _w;       // pinned [blocks × slots × r], rows past M hold 0
    private readonly float[] _bias;    // pinned [blocks × r]
    private readonly int* _pCols;
    private readonly float* _pW, _pBias;
    private readonly NmKernel[] _candidates;
    private readonly NmKernel? _forced;
    private readonly int _forcedBlockBytes;
    private readonly int _kAlign;      // lcm of the terms' M: K blocks start at multiples of it
    private readonly ConcurrentDictionary<(int N, int Threads), NmChoice> _tuned = new();

    private readonly record struct NmChoice(NmKernel Kernel, int BlockBytes);

    private NmSpmmPlan(IReadOnlyList<NmMatrix> terms, float[] bias, Activation activation, NmKernel? forced, int forcedBlockBytes)
    {
        _forcedBlockBytes = forcedBlockBytes;
        _kAlign = terms.Select(t => t.M).Aggregate(1, (a, b) => a / Gcd(a, b) * b);
        var first = terms[0];
        M = first.Rows; K = first.Cols; BlockRows = first.RowsPerPattern;
        Terms = terms;
        Activation = activation;
        Blocks = first.PatternRows;
        Slots = terms.Sum(t => t.SlotsPerRow);
        int r = BlockRows;
        _cols = GC.AllocateArray<int>(Math.Max(1, Blocks * Slots), pinned: true);
        _w = GC.AllocateArray<float>(Math.Max(1, Blocks * Slots * r), pinned: true);
        _bias = GC.AllocateArray<float>(Math.Max(1, Blocks * r), pinned: true);
        bias.CopyTo(_bias, 0);
        var merged = new (int Col, int Term, int Slot)[Slots];
        for (int p = 0; p < Blocks; p++)
        {
            int i = 0;
            for (int t = 0; t < terms.Count; t++)
            {
                int[] c = terms[t].SlotColumns(p);
                for (int s = 0; s < c.Length; s++) merged[i++] = (c[s], t, s);
            }
            // Column order: consecutive slots read nearby rows of X.
            Array.Sort(merged, (a, b) => a.Col != b.Col ? a.Col.CompareTo(b.Col) : a.Term.CompareTo(b.Term));
            for (int s = 0; s < Slots; s++)
            {
                var (col, t, slot) = merged[s];
                _cols[p * Slots + s] = col;
                var term = terms[t];
                for (int row = p * r; row < Math.Min(M, (p + 1) * r); row++)
                    _w[((long)p * Slots + s) * r + row - p * r] = term.Values[(long)row * term.SlotsPerRow + slot];
            }
        }
        _pCols = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cols));
        _pW = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_w));
        _pBias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias));
        _forced = forced;
        _candidates = forced is not null ? [forced] : Candidates(NmKernels.BestTier, r);
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>
    /// Tiles that can run a layout of r rows per block: R = r's divisors above 1 (R = 1 would re-read the shared
    /// column once per row), R = 1 only for per-row patterns or an r with no other divisor in the registry. An
    /// AVX-512 plan also tries the AVX2 tiles, whose narrower vectors waste fewer lanes on a small n.
    /// </summary>
    private static NmKernel[] Candidates(IsaTier tier, int r)
    {
        var tiers = tier == IsaTier.Avx512 ? new[] { IsaTier.Avx512, IsaTier.Avx2Fma } : new[] { tier };
        var all = tiers.SelectMany(t => NmKernels.For(t, r)).ToArray();
        var shared = all.Where(k => k.Rows > 1).ToArray();
        return shared.Length > 0 ? shared : all;
    }

    /// <summary>A plan for one N:M matrix.</summary>
    public static NmSpmmPlan Create(NmMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create([weights], bias, activation);

    /// <summary>A plan for a TASD series (its terms; the residual is dropped), run as one pass.</summary>
    public static NmSpmmPlan Create(TasdSeries series, ReadOnlySpan<float> bias = default, Activation activation = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        return Create(series.Terms, bias, activation);
    }

    public static NmSpmmPlan Create(IReadOnlyList<NmMatrix> terms, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(terms, bias, activation, null);

    /// <summary>
    /// Tests and benchmarks: <paramref name="kernel"/> forces the register tile (null: tuned per n) and
    /// <paramref name="blockBytes"/> the bytes of X per K block with it (0: no K blocks).
    /// </summary>
    internal static NmSpmmPlan Create(IReadOnlyList<NmMatrix> terms, ReadOnlySpan<float> bias, Activation activation, NmKernel? kernel, int blockBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0) ThrowHelper.Argument(nameof(terms), "An N:M plan needs at least one term.");
        var f = terms[0];
        for (int i = 1; i < terms.Count; i++)
            if (terms[i].Rows != f.Rows || terms[i].Cols != f.Cols || terms[i].RowsPerPattern != f.RowsPerPattern)
                ThrowHelper.Shape(nameof(terms), $"Term {i} is [{terms[i].Rows}×{terms[i].Cols}] with {terms[i].RowsPerPattern} rows per pattern but term 0 is [{f.Rows}×{f.Cols}] with {f.RowsPerPattern}.");
        if (!bias.IsEmpty && bias.Length != f.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {f.Rows} rows.");
        if (kernel is not null && f.RowsPerPattern % kernel.Rows != 0)
            ThrowHelper.Argument(nameof(kernel), $"Tile {kernel.Name} has {kernel.Rows} rows, which do not divide the {f.RowsPerPattern} rows per pattern.");
        var b = new float[f.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new NmSpmmPlan(terms, b, activation, kernel, blockBytes);
    }

    public int M { get; }
    public int K { get; }
    public IReadOnlyList<NmMatrix> Terms { get; }
    public Activation Activation { get; }

    /// <summary>Rows per pattern (r): the rows one block of slots serves.</summary>
    public int BlockRows { get; }

    internal int Blocks { get; }

    /// <summary>Slots per block, all terms together.</summary>
    public int Slots { get; }

    /// <summary>Multiply-adds per output column: M × Slots (slots holding 0 included: the kernel does them).</summary>
    public long MacsPerColumn => (long)M * Slots;

    /// <summary>Names of the tiles this plan's tuning chooses among (tests force each in turn).</summary>
    internal IReadOnlyList<NmKernel> CandidateTiles => _candidates;

    public string Describe() =>
        $"NmSpmm {string.Join("+", Terms.Select(t => $"{t.N}:{t.M}"))}{(BlockRows > 1 ? $" r={BlockRows}" : "")}, {(_forced?.Name ?? "tiles per N")}"
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {Describe(t.Value)}"));

    private static string Describe(NmChoice c) => $"{c.Kernel.Name}, {(c.BlockBytes == 0 ? "no K blocks" : $"{c.BlockBytes >> 10} KiB K blocks")}";

    /// <summary>The tile and K block that run n columns with the given threads, once tuned (null before).</summary>
    public string? ScheduleFor(int n, int threads) =>
        _forced is not null ? Describe(new NmChoice(_forced, _forcedBlockBytes)) : _tuned.TryGetValue((n, WorkerPool.Resolve(threads)), out var c) ? Describe(c) : null;

    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        int t = WorkerPool.Resolve(threads);
        if (n == 0 || M == 0) return;
        fixed (float* px = x, py = y)
            RunWith(_forced is not null ? new NmChoice(_forced, _forcedBlockBytes) : Tuned(px, n, py, t), px, n, py, t);
    }

    /// <summary>Bytes of X per K block (one tile's columns) the tuning tries; 0 = all of K at once.</summary>
    private static readonly int[] BlockSizes = [0, 16 << 10, 32 << 10, 96 << 10];
    private const int DefaultBlockBytes = 32 << 10;

    /// <summary>
    /// The tile at the default K block, then the K block for that tile, timed on the caller's X on the first run of each
    /// (n, threads). Blocking K keeps a tile's X rows in L1 across all row blocks: a per-row pattern reads one X vector
    /// per FMA, so without it X streams from L2 for every row.
    /// </summary>
    private NmChoice Tuned(float* x, int n, float* y, int threads)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        var best = new NmChoice(_candidates[0], DefaultBlockBytes);
        if (_candidates.Length > 1) best = Fastest(_candidates.Select(k => best with { Kernel = k }).ToArray());
        best = Fastest(BlockSizes.Select(b => best with { BlockBytes = b }).ToArray());
        return _tuned.GetOrAdd((n, threads), best);

        NmChoice Fastest(NmChoice[] choices) =>
            choices[KernelTimer.Fastest(choices.Select(c => (Action)(() => RunWith(c, x, n, y, threads))).ToArray())];
    }

    private readonly ConcurrentDictionary<int, int[]> _slotBounds = new();

    /// <summary>
    /// Slot boundaries of the K blocks a tile of <paramref name="width"/> columns runs with <paramref name="blockBytes"/>
    /// of X per block: blocks of K are multiples of every term's M, so each holds the same number of slots in every row
    /// block (N per group per term) and one list serves all rows.
    /// </summary>
    private int[] SlotBounds(int width, int blockBytes)
    {
        int kb = blockBytes == 0 ? K : Math.Max(_kAlign, blockBytes / (width * sizeof(float)) / _kAlign * _kAlign);
        return _slotBounds.GetOrAdd(kb, size =>
        {
            var bounds = new List<int> { 0 };
            for (int k = size; k < K; k += size)
            {
                int s = 0;
                while (s < Slots && _cols[s] < k) s++;
                if (s > bounds[^1] && s < Slots) bounds.Add(s);
            }
            bounds.Add(Slots);
            return bounds.ToArray();
        });
    }

    private readonly ConcurrentDictionary<(NmKernel Main, int N), ColumnTile[]> _columnTiles = new();

    /// <summary>One tile of columns: [Col0, Col0 + Valid) run by Kernel (Valid &lt; its width: through a padded panel).</summary>
    private readonly record struct ColumnTile(int Col0, NmKernel Kernel, int Valid);

    /// <summary>
    /// How n columns are cut: the main tile while it fits, then the rest with ever narrower tiles of the same rows
    /// (AVX2's too under AVX-512), the last scrap padded in the narrowest: a 1x128 tile at n = 196 would otherwise
    /// compute 60 padding columns, which measured 1.8x the time of n = 128.
    /// </summary>
    private ColumnTile[] ColumnTiles(NmKernel main, int n) => _columnTiles.GetOrAdd((main, n), key =>
    {
        var family = NmKernels.All.Where(k => k.Rows == main.Rows && k.Width <= main.Width
            && (k.Tier == main.Tier || main.Tier == IsaTier.Avx512 && k.Tier == IsaTier.Avx2Fma)).OrderByDescending(k => k.Width).ToArray();
        var tiles = new List<ColumnTile>();
        int col = 0;
        for (; col + main.Width <= n; col += main.Width) tiles.Add(new ColumnTile(col, main, main.Width));
        while (col < n)
        {
            int rest = n - col;
            var fit = family.FirstOrDefault(k => k.Width <= rest);
            if (fit is null) { tiles.Add(new ColumnTile(col, family[^1], rest)); break; }
            tiles.Add(new ColumnTile(col, fit, fit.Width));
            col += fit.Width;
        }
        return tiles.ToArray();
    });

    /// <summary>Splits column tiles over threads when there are enough of them (each thread reads its own X), else row blocks.</summary>
    private void RunWith(NmChoice choice, float* x, int n, float* y, int threads)
    {
        var tiles = ColumnTiles(choice.Kernel, n);
        int blockBytes = choice.BlockBytes;
        if (threads == 1) { RunRange(tiles, blockBytes, x, n, y, 0, tiles.Length, 0, Blocks); return; }
        bool byTiles = tiles.Length >= threads;
        int parts = Math.Min(threads, byTiles ? tiles.Length : Blocks);
        WorkerPool.Shared.Run(parts, p =>
        {
            var (s, e) = WorkerPool.Range(byTiles ? tiles.Length : Blocks, parts, p);
            if (byTiles) RunRange(tiles, blockBytes, x, n, y, s, e, 0, Blocks);
            else RunRange(tiles, blockBytes, x, n, y, 0, tiles.Length, s, e);
        });
    }

    /// <summary>
    /// Column tiles [t0, t1) × row blocks [b0, b1). K blocks are the outer loop: one block of X rows and the weights
    /// of that block stay in cache while every tile and row block uses them (a per-row pattern reads 8 bytes of
    /// index and weight per FMA, so re-streaming the weights for every column tile cost more than the FMAs).
    /// Whole tiles of whole row blocks accumulate in Y; the last partial row block (M not a multiple of r) and a
    /// padded last tile accumulate in aligned scratch (the padded tile reads a zero-padded copy of its X columns),
    /// copied out at the end, so the kernels only ever see whole tiles.
    /// </summary>
    private void RunRange(ColumnTile[] tiles, int blockBytes, float* x, int n, float* y, int t0, int t1, int b0, int b1)
    {
        int r = BlockRows, fullBlocks = M / r, bFull = Math.Min(b1, fullBlocks);
        int[] bounds = SlotBounds(tiles[0].Kernel.Width, blockBytes);
        var offsets = new long[t1 - t0];
        long scratchLength = 0;
        for (int t = t0; t < t1; t++)
        {
            var tile = tiles[t];
            offsets[t - t0] = scratchLength;
            if (tile.Valid < tile.Kernel.Width) scratchLength += (long)(b1 - b0) * r * tile.Kernel.Width;
            else if (b1 > fullBlocks) scratchLength += (long)r * tile.Kernel.Width;
        }
        float* scratch = scratchLength > 0 ? AlignedScratch.Get(AlignedScratch.GemmA, scratchLength) : null;
        float* panel = null;
        var last = tiles[t1 - 1];
        if (last.Valid < last.Kernel.Width)
        {
            int width = last.Kernel.Width;
            panel = AlignedScratch.Get(AlignedScratch.SpmmPanel, (long)K * width);
            for (int k = 0; k < K; k++)
            {
                new ReadOnlySpan<float>(x + (long)k * n + last.Col0, last.Valid).CopyTo(new Span<float>(panel + (long)k * width, last.Valid));
                new Span<float>(panel + (long)k * width + last.Valid, width - last.Valid).Clear();
            }
        }
        for (int kb = 0; kb < bounds.Length - 1; kb++)
            for (int t = t0; t < t1; t++)
            {
                var (col0, kernel, valid) = tiles[t];
                int width = kernel.Width;
                float* own = scratch + offsets[t - t0];
                if (valid < width) Call(kernel, panel, width, b0, b1, own, width, bounds, kb);
                else
                {
                    if (bFull > b0) Call(kernel, x + col0, n, b0, bFull, y + (long)b0 * r * n + col0, n, bounds, kb);
                    if (b1 > fullBlocks) Call(kernel, x + col0, n, fullBlocks, fullBlocks + 1, own, width, bounds, kb);
                }
            }
        for (int t = t0; t < t1; t++)
        {
            var (col0, kernel, valid) = tiles[t];
            float* own = scratch + offsets[t - t0];
            if (valid < kernel.Width) CopyOut(own, kernel.Width, y + (long)b0 * r * n + col0, n, Math.Min(M, b1 * r) - b0 * r, valid);
            else if (b1 > fullBlocks) CopyOut(own, kernel.Width, y + (long)fullBlocks * r * n + col0, n, M - fullBlocks * r, valid);
        }
    }

    private static void CopyOut(float* src, int lds, float* dst, int ldd, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
            new ReadOnlySpan<float>(src + (long)i * lds, cols).CopyTo(new Span<float>(dst + (long)i * ldd, cols));
    }

    /// <summary>
    /// Row blocks [b0, b1) over one tile and K block <paramref name="kb"/>, in sub-blocks of the kernel's R rows; y
    /// points at block b0's first row.
    /// </summary>
    private void Call(NmKernel kernel, float* x, int ldx, int b0, int b1, float* y, int ldy, int[] bounds, int kb)
    {
        int r = BlockRows, s0 = bounds[kb];
        for (int sub = 0; sub < r; sub += kernel.Rows)
        {
            var a = new NmArgs
            {
                X = x, Ldx = ldx,
                Cols = _pCols + (long)b0 * Slots + s0,
                W = _pW + ((long)b0 * Slots + s0) * r + sub, WStride = r,
                Slots = bounds[kb + 1] - s0, SlotStride = Slots, Blocks = b1 - b0,
                Accumulate = kb > 0, Activate = kb == bounds.Length - 2,
                Bias = _pBias + (long)b0 * r + sub,
                Y = y + (long)sub * ldy, Ldy = ldy,
                Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
            };
            kernel.Body(&a);
        }
    }
}
