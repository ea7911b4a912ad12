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
/// sparse kernel approach a dense micro-kernel: the CSR kernel loads one X vector per FMA. The plan re-blocks W to
/// the tallest height the tier has a body for that divides r (16 on AVX-512, 8 on AVX2, 4 on Vector128), so any r
/// runs. Threads split block rows so that each gets about the same number of blocks. Immutable after creation.
/// </summary>
public sealed unsafe class BlockSpmmPlan : ISpmmPlan
{
    private readonly float[] _values, _bias;
    private readonly int[] _offsets, _cols;
    private readonly BlockSpmmKernel _kernel;

    private BlockSpmmPlan(BsrMatrix w, float[] bias, Activation activation, BlockSpmmKernel kernel)
    {
        Weights = w; M = w.Rows; K = w.Cols; Activation = activation; _kernel = kernel;
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

    /// <summary>Tests and benchmarks: a plan on the given tier (which must be supported), optionally with a forced loop order.</summary>
    internal static BlockSpmmPlan Create(BsrMatrix weights, ReadOnlySpan<float> bias, Activation activation, IsaTier tier, bool? rowsOuter = null)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        if (!IsaTiers.IsSupported(tier)) ThrowHelper.NotSupported($"Tier {tier} is not supported on this machine.");
        var kernel = BlockSpmmKernels.For(tier, weights.BlockRows);
        // Scalar takes any height; the vector bodies need blocks of exactly their height (a divisor of the stored one).
        var w = kernel.Tier == IsaTier.Scalar || kernel.Rows == weights.BlockRows ? weights
            : BsrMatrix.FromCsr(weights.ToCsr(), kernel.Rows, weights.BlockCols);
        var b = new float[w.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new BlockSpmmPlan(w, b, activation, kernel) { ForcedRowsOuter = rowsOuter };
    }

    public BsrMatrix Weights { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }

    /// <summary>The registry body that runs, e.g. "Avx512 16x(1x16)" (block rows × tile columns).</summary>
    public string KernelName => _kernel.Name;

    public string Describe() =>
        $"Block {Weights.BlockRows}x{Weights.BlockCols} {_kernel.Name}, {Weights.BlockCount} blocks, fill {Weights.BlockFill:P1}, sparsity {1 - (double)Weights.Nnz / Math.Max(1L, (long)M * K):P1}"
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {(t.Value ? "rows outer" : "tiles outer")}"));

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
        int blockRows = Weights.BlockRowCount;
        int parts = Math.Min(t, blockRows);
        var bounds = PartsFor(parts);
        fixed (float* px = x, py = y)
        {
            var args = Args(px, n, py);
            args.RowsOuter = ForcedRowsOuter ?? Tuned(args, n, t, parts, bounds);
            RunParts(args, parts, bounds, busyMs);
        }
    }

    private void RunParts(BlockSpmmArgs args, int parts, int[] bounds, double[]? busyMs)
    {
        if (parts == 1) RunPart(args, 0, bounds[1], busyMs, 0);
        else WorkerPool.Shared.Run(parts, p => RunPart(args, bounds[p], bounds[p + 1], busyMs, p));
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int N, int Threads), bool> _tuned = new();

    /// <summary>Tests: force the loop order (null: timed per n and thread count on the first run, then kept).</summary>
    internal bool? ForcedRowsOuter { get; init; }

    /// <summary>The loop order for this n: tile-outer reuses an X panel across block rows, rows-outer streams Y; timed on the caller's X.</summary>
    private bool Tuned(BlockSpmmArgs args, int n, int threads, int parts, int[] bounds)
    {
        if (_tuned.TryGetValue((n, threads), out bool known)) return known;
        var inner = args; inner.RowsOuter = false;
        var outer = args; outer.RowsOuter = true;
        int best = KernelTimer.Fastest(new Action[] { () => RunParts(inner, parts, bounds, null), () => RunParts(outer, parts, bounds, null) });
        return _tuned.GetOrAdd((n, threads), best == 1);
    }

    private void RunPart(BlockSpmmArgs args, int br0, int br1, double[]? busyMs, int part)
    {
        long t0 = busyMs is null ? 0 : Stopwatch.GetTimestamp();
        args.Br0 = br0; args.Br1 = br1;
        _kernel.Function(Weights.BlockCols)(&args);
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
