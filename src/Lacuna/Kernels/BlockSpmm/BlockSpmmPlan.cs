using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.BlockSpmm;

/// <summary>
/// Block-sparse SpMM: Y [M × n] = act(W · X + bias) with W in BSR (blocks r×c) and X [K × n] row-major, vectorized
/// along n. Per stored block each loaded X vector feeds r FMAs (r×1) or r per block column (r×c), which is what lets a
/// sparse kernel approach a dense micro-kernel: the CSR kernel loads one X vector per FMA. The tier's bodies whose
/// height divides r are the candidates (a 16x1 block runs on a 16-row body or as two 8-row halves over a 48-column
/// tile, and so on; <see cref="BlockSpmmKernels"/>); per n and thread count the plan times them, with both loop
/// orders and, on more than one thread, both ways of splitting the work, on the caller's X at the first run and
/// keeps the fastest. Immutable after creation apart from that cache.
/// </summary>
public sealed unsafe class BlockSpmmPlan : ISpmmPlan
{
    private readonly float[] _values, _bias;
    private readonly int[] _offsets, _cols;
    private readonly BlockSpmmKernel[] _kernels;

    private BlockSpmmPlan(BsrMatrix w, float[] bias, Activation activation, BlockSpmmKernel[] kernels)
    {
        Weights = w; M = w.Rows; K = w.Cols; Activation = activation; _kernels = kernels;
        _values = Pinned(w.Values); _offsets = Pinned(w.BlockRowOffsets); _cols = Pinned(w.BlockColumnIndices);
        _bias = Pinned(bias);
    }

    private static T[] Pinned<T>(T[] source) where T : unmanaged
    {
        var a = GC.AllocateUninitializedArray<T>(Math.Max(1, source.Length), pinned: true);
        source.CopyTo(a, 0);
        return a;
    }

    /// <summary>A plan for <paramref name="weights"/> (any block shape) at the best tier this machine runs.</summary>
    public static BlockSpmmPlan Create(BsrMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(weights, bias, activation, BlockSpmmKernels.BestTier);

    /// <summary>
    /// Tests and benchmarks: a plan on the given tier (which must be supported), optionally with a forced body (one of
    /// <see cref="BlockSpmmKernels.Candidates"/>), loop order and thread split; what is not forced is timed.
    /// </summary>
    internal static BlockSpmmPlan Create(BsrMatrix weights, ReadOnlySpan<float> bias, Activation activation, IsaTier tier,
        bool? rowsOuter = null, BlockSpmmKernel? kernel = null, bool? splitColumns = null)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        if (!IsaTiers.IsSupported(tier)) ThrowHelper.NotSupported($"Tier {tier} is not supported on this machine.");
        var kernels = BlockSpmmKernels.Candidates(tier, weights.BlockRows);
        if (kernel is not null)
        {
            if (Array.IndexOf(kernels, kernel) < 0)
                throw new ArgumentException($"Block body {kernel.Name} cannot run {tier} blocks of {weights.BlockRows} rows.", nameof(kernel));
            kernels = [kernel];
        }
        var b = new float[weights.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new BlockSpmmPlan(weights, b, activation, kernels) { ForcedRowsOuter = rowsOuter, ForcedSplitColumns = splitColumns };
    }

    public BsrMatrix Weights { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }

    /// <summary>The first candidate body, e.g. "Avx512 16x(1x16)" (body rows × tile columns); Describe says which won per n.</summary>
    public string KernelName => _kernels[0].Name;

    public string Describe() =>
        $"Block {Weights.BlockRows}x{Weights.BlockCols} {_kernels.Length} bodies, {Weights.BlockCount} blocks, fill {Weights.BlockFill:P1}, sparsity {1 - (double)Weights.Nnz / Math.Max(1L, (long)M * K):P1}"
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {t.Value}"));

    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0) => Run(x, n, y, threads, null);

    /// <summary>
    /// As <see cref="Run(ReadOnlySpan{float}, int, Span{float}, int)"/>; when <paramref name="busyMs"/> is given,
    /// element p receives the milliseconds part p spent in the kernel (benchmarks report load balance with it).
    /// </summary>
    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads, double[]? busyMs)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        int t = WorkerPool.Resolve(threads);
        if (busyMs is not null) Array.Clear(busyMs);
        if (n == 0 || M == 0) return;
        fixed (float* px = x, py = y)
        {
            var args = Args(px, n, py);
            RunChoice(args, Tuned(args, n, t), t, busyMs);
        }
    }

    /// <summary>What runs for one n and thread count: the body, the loop order and how the threads split the work.</summary>
    private readonly record struct Choice(BlockSpmmKernel Kernel, bool RowsOuter, bool SplitColumns)
    {
        public override string ToString() => $"{Kernel.Name} {(RowsOuter ? "rows outer" : "tiles outer")}{(SplitColumns ? ", threads split columns" : "")}";
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int N, int Threads), Choice> _tuned = new();

    /// <summary>Tests: force the loop order (null: timed per n and thread count on the first run, then kept).</summary>
    internal bool? ForcedRowsOuter { get; init; }

    /// <summary>Tests: force how threads split the work, block rows (false) or column tiles (true); null: timed.</summary>
    internal bool? ForcedSplitColumns { get; init; }

    /// <summary>
    /// The fastest choice for this n and thread count, timed on the caller's X: every candidate body, both loop
    /// orders (tile-outer reuses an X panel across block rows, rows-outer streams Y) and, on more than one thread,
    /// both splits: block rows balanced by block count (each thread reads the whole X) or column tiles (each thread
    /// does the same blocks on its share of n: even work whatever the rows hold, but each re-reads all of W).
    /// </summary>
    private Choice Tuned(BlockSpmmArgs args, int n, int threads)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        var choices = new List<Choice>();
        foreach (var kernel in _kernels)
            foreach (bool outer in ForcedRowsOuter is { } o ? [o] : new[] { false, true })
                foreach (bool cols in ForcedSplitColumns is { } s ? [s] : threads > 1 && n > kernel.Width ? new[] { false, true } : [false])
                    choices.Add(new Choice(kernel, outer, cols));
        var best = choices[0];
        if (choices.Count > 1)
            best = choices[KernelTimer.Fastest(choices.Select(c => (Action)(() => RunChoice(args, c, threads, null))).ToArray())];
        return _tuned.GetOrAdd((n, threads), best);
    }

    private void RunChoice(BlockSpmmArgs args, Choice choice, int threads, double[]? busyMs)
    {
        args.RowsOuter = choice.RowsOuter;
        int[] bounds;
        if (choice.SplitColumns)
        {
            // Column ranges on whole tiles, so only the last part has a partial tile.
            int width = choice.Kernel.Width, tiles = (args.N + width - 1) / width, parts = Math.Min(threads, tiles);
            bounds = new int[parts + 1];
            for (int p = 1; p <= parts; p++) bounds[p] = Math.Min(args.N, (int)((long)tiles * p / parts) * width);
        }
        else bounds = PartsFor(Math.Min(threads, Weights.BlockRowCount));
        int count = bounds.Length - 1;
        if (count <= 1) RunPart(args, choice, bounds[0], bounds[^1], busyMs, 0);
        else WorkerPool.Shared.Run(count, p => RunPart(args, choice, bounds[p], bounds[p + 1], busyMs, p));
    }

    private void RunPart(BlockSpmmArgs args, Choice choice, int lo, int hi, double[]? busyMs, int part)
    {
        long t0 = busyMs is null ? 0 : Stopwatch.GetTimestamp();
        if (choice.SplitColumns) { args.J0 = lo; args.J1 = hi; args.Br0 = 0; args.Br1 = Weights.BlockRowCount; }
        else { args.Br0 = lo; args.Br1 = hi; }
        choice.Kernel.Function(Weights.BlockCols)(&args);
        if (busyMs is not null && part < busyMs.Length) busyMs[part] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private BlockSpmmArgs Args(float* x, int n, float* y) => new()
    {
        X = x, N = n, K = K, M = M, Y = y, J0 = 0, J1 = n,
        Values = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_values)),
        Offsets = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsets)),
        Cols = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cols)),
        Bias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias)),
        R = Weights.BlockRows, C = Weights.BlockCols,
        Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
    };

    /// <summary>Block-row boundaries of <paramref name="parts"/> ranges holding about equal numbers of blocks.</summary>
    private int[] PartsFor(int parts)
    {
        var bounds = new int[parts + 1];
        int total = Weights.BlockCount, rows = Weights.BlockRowCount, br = 0;
        for (int p = 1; p < parts; p++)
        {
            long target = (long)total * p / parts;
            while (br < rows && Weights.BlockRowOffsets[br] < target) br++;
            bounds[p] = Math.Max(bounds[p - 1], br);
        }
        bounds[parts] = rows;
        return bounds;
    }
}
