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
    private readonly ConcurrentDictionary<(int N, int Threads), NmKernel> _tuned = new();

    private NmSpmmPlan(IReadOnlyList<NmMatrix> terms, float[] bias, Activation activation, NmKernel? forced)
    {
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

    /// <summary>Tests and benchmarks: <paramref name="kernel"/> forces the register tile (null: tuned per n).</summary>
    internal static NmSpmmPlan Create(IReadOnlyList<NmMatrix> terms, ReadOnlySpan<float> bias, Activation activation, NmKernel? kernel)
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
        return new NmSpmmPlan(terms, b, activation, kernel);
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
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {t.Value.Name}"));

    /// <summary>The tile that runs n columns with the given threads, once tuned (null before).</summary>
    public string? TileFor(int n, int threads) => _forced?.Name ?? (_tuned.TryGetValue((n, WorkerPool.Resolve(threads)), out var k) ? k.Name : null);

    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        int t = WorkerPool.Resolve(threads);
        if (n == 0 || M == 0) return;
        fixed (float* px = x, py = y)
        {
            var kernel = _candidates.Length == 1 ? _candidates[0] : Tuned(px, n, py, t);
            RunWith(kernel, px, n, py, t);
        }
    }

    private NmKernel Tuned(float* x, int n, float* y, int threads)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        var runs = _candidates.Select(k => (Action)(() => RunWith(k, x, n, y, threads))).ToArray();
        return _tuned.GetOrAdd((n, threads), _candidates[KernelTimer.Fastest(runs)]);
    }

    /// <summary>Splits column tiles over threads when there are enough of them (each thread reads its own X), else row blocks.</summary>
    private void RunWith(NmKernel kernel, float* x, int n, float* y, int threads)
    {
        int tiles = (n + kernel.Width - 1) / kernel.Width;
        if (threads == 1) { RunRange(kernel, x, n, y, 0, tiles, 0, Blocks); return; }
        bool byTiles = tiles >= threads;
        int parts = Math.Min(threads, byTiles ? tiles : Blocks);
        WorkerPool.Shared.Run(parts, p =>
        {
            var (s, e) = WorkerPool.Range(byTiles ? tiles : Blocks, parts, p);
            if (byTiles) RunRange(kernel, x, n, y, s, e, 0, Blocks);
            else RunRange(kernel, x, n, y, 0, tiles, s, e);
        });
    }

    /// <summary>
    /// Column tiles [t0, t1) × row blocks [b0, b1). Whole tiles of whole blocks write Y in place; the last partial
    /// block (M not a multiple of r) and the partial last tile go through aligned scratch (the tail tile also reads a
    /// zero-padded copy of its X columns), so the kernels only ever see whole tiles.
    /// </summary>
    private void RunRange(NmKernel kernel, float* x, int n, float* y, int t0, int t1, int b0, int b1)
    {
        int width = kernel.Width, r = BlockRows, fullBlocks = M / r;
        for (int tile = t0; tile < t1; tile++)
        {
            int col0 = tile * width, valid = Math.Min(width, n - col0);
            if (valid == width)
            {
                int bFull = Math.Min(b1, fullBlocks);
                if (bFull > b0) Call(kernel, x + col0, n, b0, bFull, y + (long)b0 * r * n + col0, n);
                if (b1 > fullBlocks)
                {
                    float* scratch = AlignedScratch.Get(AlignedScratch.GemmA, (long)r * width);
                    Call(kernel, x + col0, n, fullBlocks, fullBlocks + 1, scratch, width);
                    CopyOut(scratch, width, y + (long)fullBlocks * r * n + col0, n, M - fullBlocks * r, width);
                }
            }
            else
            {
                float* panel = AlignedScratch.Get(AlignedScratch.SpmmPanel, (long)K * width);
                for (int k = 0; k < K; k++)
                {
                    new ReadOnlySpan<float>(x + (long)k * n + col0, valid).CopyTo(new Span<float>(panel + (long)k * width, valid));
                    new Span<float>(panel + (long)k * width + valid, width - valid).Clear();
                }
                float* scratch = AlignedScratch.Get(AlignedScratch.GemmA, (long)(b1 - b0) * r * width);
                Call(kernel, panel, width, b0, b1, scratch, width);
                CopyOut(scratch, width, y + (long)b0 * r * n + col0, n, Math.Min(M, b1 * r) - b0 * r, valid);
            }
        }
    }

    private static void CopyOut(float* src, int lds, float* dst, int ldd, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
            new ReadOnlySpan<float>(src + (long)i * lds, cols).CopyTo(new Span<float>(dst + (long)i * ldd, cols));
    }

    /// <summary>Blocks [b0, b1) over one tile, in sub-blocks of the kernel's R rows; y points at block b0's first row.</summary>
    private void Call(NmKernel kernel, float* x, int ldx, int b0, int b1, float* y, int ldy)
    {
        int r = BlockRows;
        for (int sub = 0; sub < r; sub += kernel.Rows)
        {
            var a = new NmArgs
            {
                X = x, Ldx = ldx,
                Cols = _pCols + (long)b0 * Slots,
                W = _pW + (long)b0 * Slots * r + sub, WStride = r,
                Slots = Slots, Blocks = b1 - b0,
                Bias = _pBias + (long)b0 * r + sub,
                Y = y + (long)sub * ldy, Ldy = ldy,
                Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
            };
            kernel.Body(&a);
        }
    }
}
