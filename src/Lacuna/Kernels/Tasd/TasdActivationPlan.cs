using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.Tasd;

/// <summary>What one TASD-A run dropped: the residual's relative norm and how many entries were kept of the non-zeros.</summary>
public readonly record struct TasdActivationStats(double ResidualNorm, long NonZeros, long Kept, long Entries)
{
    /// <summary>‖Σ terms‖_F / ‖X‖_F.</summary>
    public double KeptNormFraction => Math.Sqrt(Math.Max(0, 1 - ResidualNorm * ResidualNorm));

    /// <summary>Measured density of X: non-zeros / (K·n).</summary>
    public double Density => Entries == 0 ? 0 : (double)NonZeros / Entries;

    /// <summary>Kept entries / (K·n): the fraction of the dense MACs the kernel did.</summary>
    public double KeptDensity => Entries == 0 ? 0 : (double)Kept / Entries;
}

/// <summary>
/// TASD-A as a plan: Y [M × n] = act(W · Σ terms(X) + bias) with W [M × K] dense and X [K × n] a ReLU output decomposed
/// at run time by <see cref="TasdActivation"/> (approximate: the dropped entries are lost; exact when X already fits
/// the series). X and Y row-major, as every <see cref="ISpmmPlan"/>.
/// <para>Layout: W is kept as W^T [K × Ldw] (M rounded up to 16, zero-padded, plus 16 when that is an even number of
/// cache lines), so a kept activation (k, v) of column j adds v × W^T row k, a contiguous run of output rows, to
/// Y[:, j]: kernels vectorize along M, not n, because every column keeps different K indices. Columns go in blocks of
/// 32: the block is decomposed straight from X (vectorized across columns), the tiles compute Y^T of the block in
/// scratch, and that is transposed into Y.</para>
/// <para>Per kept entry a tile of V vectors does V FMAs, each with one load of W^T; the index and value load are
/// shared by the V FMAs. K blocks (timed against none) keep a tile's slab of W^T in L1 while the block's columns run
/// over it. The work is the kept non-zeros, not the series' capacity: zeros of X are never stored.</para>
/// <para>Measured (`bench tasd-a`, 1 thread, AVX-512, ResNet-50 1x1 shapes, density 0.3 and 0.5, on a shared and
/// loaded machine; fastest-repeat ratios): 0.6-1.04x the speed of Lacuna's dense GEMM on the exact W·X at M = 512
/// and 1024, 0.1-0.4x at M = 64 and 256. A dense micro-kernel feeds many FMAs from each loaded vector; here every
/// FMA loads its own W^T vector, and the decomposition costs 2-3.6 ns per activation element (about what dense
/// spends per element at M = 64-128), so keeping 30-50 % of the MACs does not pay on this CPU. TASD-A's win is on
/// accelerators with N:M hardware.</para>
/// The tile and K block are timed on the first run of each (n, threads) among the tier's tiles that fit M.
/// Immutable after the tuning; safe for concurrent runs.
/// </summary>
public sealed unsafe class TasdActivationPlan : ISpmmPlan
{
    private const int ColumnBlock = TasdActivation.BlockColumns;
    private readonly float[] _wt;    // pinned [K × Ldw], rows past M hold 0
    private readonly float[] _bias;  // pinned [rows padded to 16]
    private readonly float* _pWt, _pBias;
    private readonly (int N, int M)[] _terms;
    private readonly int _rows, _ldw, _capacity;  // padded rows (a multiple of 16), W^T and Y^T row stride, entries per column
    private readonly TasdActKernel[] _candidates;
    private readonly TasdActKernel? _forced;
    private readonly int _forcedBlockBytes;
    private readonly ConcurrentDictionary<(int N, int Threads), Choice> _tuned = new();

    /// <summary>A tile and the bytes of W^T slab per K block (0: all of K at once).</summary>
    private readonly record struct Choice(TasdActKernel Kernel, int BlockBytes);

    /// <summary>K blocks the tuning tries: a slab of W^T (K block × tile rows) that stays in L1, or none.</summary>
    private static readonly int[] BlockSizes = [0, 24 << 10];

    private TasdActivationPlan(ReadOnlySpan<float> w, int m, int k, TasdSpec spec, float[] bias, Activation activation, TasdActKernel? forced,
        int forcedBlockBytes)
    {
        _forcedBlockBytes = forcedBlockBytes;
        M = m; K = k; Spec = spec; Activation = activation;
        _terms = TasdActivation.CheckSpec(spec);
        _capacity = TasdActivation.Capacity(_terms, k);
        _rows = Math.Max(TasdActKernels.RowAlign, (m + TasdActKernels.RowAlign - 1) / TasdActKernels.RowAlign * TasdActKernels.RowAlign);
        // An odd number of 64-byte lines per W^T row: rows k and k+1 fall in different L1 sets. With M = 1024 (a 4 KiB
        // stride) every row of a tile's slab fell in one L1 set (the 16-row tile then took 2.6x the 128-row one's time).
        _ldw = _rows / 16 % 2 == 1 ? _rows : _rows + 16;
        _wt = GC.AllocateArray<float>(Math.Max(1, k * _ldw), pinned: true);
        for (int r = 0; r < m; r++)
            for (int i = 0; i < k; i++) _wt[i * _ldw + r] = w[r * k + i];
        _bias = GC.AllocateArray<float>(_rows, pinned: true);
        bias.CopyTo(_bias, 0);
        _pWt = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_wt));
        _pBias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias));
        _forced = forced;
        var tier = TasdActKernels.For(TasdActKernels.BestTier);
        _candidates = forced is not null ? [forced]
            : tier.Where(t => t.Width <= _rows).DefaultIfEmpty(tier[^1]).ToArray();
    }

    /// <summary>
    /// A plan for W [M × K] (row-major, copied) with activations decomposed by <paramref name="spec"/> (no shared rows:
    /// "2:4+1:8", not "2:4:r4"). Use <see cref="TasdActivationSeries.Choose"/> to pick the series from a measured density.
    /// </summary>
    public static TasdActivationPlan Create(ReadOnlySpan<float> w, int m, int k, TasdSpec spec, ReadOnlySpan<float> bias = default,
        Activation activation = default) => Create(w, m, k, spec, bias, activation, null);

    /// <summary>
    /// Tests and benchmarks: <paramref name="kernel"/> forces the widest tile (narrower ones of its tier finish the
    /// rows) and <paramref name="blockBytes"/> the bytes of W^T slab per K block with it (0: no K blocks).
    /// </summary>
    internal static TasdActivationPlan Create(ReadOnlySpan<float> w, int m, int k, TasdSpec spec, ReadOnlySpan<float> bias, Activation activation,
        TasdActKernel? kernel, int blockBytes = 0)
    {
        TasdActivation.CheckSpec(spec);
        ThrowHelper.IfNegative(m, nameof(m));
        ThrowHelper.IfNegative(k, nameof(k));
        ThrowHelper.IfTooShort(w.Length, (long)m * k, nameof(w), $"W [{m}×{k}]");
        if (!bias.IsEmpty && bias.Length != m) ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {m} rows.");
        CsrMatrix.CheckFinite(w[..(m * k)], Math.Max(1, k), nameof(w));
        var b = new float[m];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new TasdActivationPlan(w, m, k, spec, b, activation, kernel, blockBytes);
    }

    public int M { get; }
    public int K { get; }
    public TasdSpec Spec { get; }
    public Activation Activation { get; }

    /// <summary>The tiles the tuning chooses among.</summary>
    internal IReadOnlyList<TasdActKernel> CandidateTiles => _candidates;

    public string Describe() =>
        $"TASD-A {Spec}, W^T dense [{K}×{M}], {(_forced is null ? "tiles per N" : Describe(new Choice(_forced, _forcedBlockBytes)))}"
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {Describe(t.Value)}"));

    private static string Describe(Choice c) => $"{c.Kernel.Name}, {(c.BlockBytes == 0 ? "no K blocks" : $"{c.BlockBytes >> 10} KiB K blocks")}";

    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0) => RunMeasured(x, n, y, threads);

    /// <summary><see cref="Run"/>, returning what the decomposition dropped from this X.</summary>
    public TasdActivationStats RunMeasured(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        int t = WorkerPool.Resolve(threads);
        if (n == 0 || M == 0) return new TasdActivationStats(0, 0, 0, 0);
        DecomposeSums sums;
        fixed (float* px = x, py = y)
            sums = RunWith(_forced is not null ? new Choice(_forced, _forcedBlockBytes) : Tuned(px, n, py, t), px, n, py, t);
        if (!double.IsFinite(sums.Total)) TasdActivation.ThrowNonFinite(x, K, n);
        return new TasdActivationStats(sums.Total == 0 ? 0 : Math.Sqrt(sums.Dropped / sums.Total), sums.NonZeros, sums.Kept, (long)K * n);
    }

    /// <summary>Every tile with and without K blocks, timed on the caller's X on the first run of each (n, threads).</summary>
    private Choice Tuned(float* x, int n, float* y, int threads)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        var choices = _candidates.SelectMany(k => BlockSizes.Select(b => new Choice(k, b))).ToArray();
        var best = choices[KernelTimer.Fastest(choices.Select(c => (Action)(() => RunWith(c, x, n, y, threads))).ToArray())];
        return _tuned.GetOrAdd((n, threads), best);
    }

    private DecomposeSums RunWith(Choice main, float* x, int n, float* y, int threads)
    {
        int blocks = (n + ColumnBlock - 1) / ColumnBlock, parts = Math.Min(threads, blocks);
        if (parts == 1) return RunRange(main, x, n, y, 0, blocks);
        var partial = new DecomposeSums[parts];
        WorkerPool.Shared.Run(parts, p =>
        {
            var (s, e) = WorkerPool.Range(blocks, parts, p);
            partial[p] = RunRange(main, x, n, y, s, e);
        });
        var sum = default(DecomposeSums);
        foreach (var p in partial) sum.Add(p);
        return sum;
    }

    private static long Aligned(long floats) => (floats + 15) & ~15L;

    /// <summary>Column blocks [b0, b1): decompose (straight from X), tiles over the padded rows into Y^T scratch, transpose out.</summary>
    private DecomposeSums RunRange(Choice choice, float* x, int n, float* y, int b0, int b1)
    {
        int k = K, cap = _capacity, ldw = _ldw;
        long decLen = Aligned(TasdActivation.BlockScratch(k)), entLen = Aligned((long)ColumnBlock * cap + 1);
        var main = choice.Kernel;
        // K blocks of kb rows keep a slab of kb × tile rows of W^T in L1 while every column of the block runs over it.
        int kb = choice.BlockBytes == 0 ? Math.Max(1, k) : Math.Max(4, choice.BlockBytes / (main.Width * sizeof(float)));
        int kBlocks = Math.Max(1, (k + kb - 1) / kb);
        long boundsLen = Aligned((long)(kBlocks + 1) * ColumnBlock);
        float* scratch = AlignedScratch.Get(AlignedScratch.SpmmPanel, decLen + 2 * entLen + boundsLen + (long)ColumnBlock * ldw);
        float* vals = scratch + decLen;
        int* rows = (int*)(vals + entLen), bounds = (int*)(vals + 2 * entLen);
        float* yt = vals + 2 * entLen + boundsLen;
        var family = TasdActKernels.For(main.Tier).Where(t => t.Width <= main.Width).ToArray();
        var sums = default(DecomposeSums);
        for (int b = b0; b < b1; b++)
        {
            int j0 = b * ColumnBlock, cols = Math.Min(ColumnBlock, n - j0);
            int* counts = bounds + kBlocks * ColumnBlock; // the last bound of each column is its count
            TasdActivation.DecomposeBlock(x, k, n, j0, cols, _terms, cap, scratch, rows, vals, counts, ref sums);
            for (int c = 0; c < cols; c++)
            {
                int* r = rows + c * cap;
                int e = 0, count = counts[c];
                for (int kBlock = 0; kBlock < kBlocks; kBlock++)
                {
                    bounds[kBlock * ColumnBlock + c] = e;
                    while (e < count && r[e] < (kBlock + 1) * kb) e++;
                }
            }
            for (int row0 = 0; row0 < _rows;)
            {
                var tile = family.First(t => t.Width <= _rows - row0);
                for (int kBlock = 0; kBlock < kBlocks; kBlock++)
                {
                    var a = new TasdActArgs
                    {
                        Wt = _pWt + row0, Ldw = ldw, Rows = rows, Values = vals, Capacity = cap, Columns = cols,
                        Begin = bounds + kBlock * ColumnBlock, End = bounds + (kBlock + 1) * ColumnBlock,
                        Accumulate = kBlock > 0, Activate = kBlock == kBlocks - 1,
                        Bias = _pBias + row0, Y = yt + row0, Ldy = ldw,
                        Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
                    };
                    tile.Body(&a);
                }
                row0 += tile.Width;
            }
            Transpose.TransposeTile(yt, ldw, y + j0, n, 0, M, 0, cols);
        }
        return sums;
    }
}
