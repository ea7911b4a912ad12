using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.GsSpmm;

/// <summary>
/// GS SpMM: Y [M × n] = act(W · X + bias) with W a <see cref="GsMatrix"/>, lanes along output rows (row-wise GS) or
/// K (column-wise, hybrid), X gathered by hardware gathers or, from a few columns up, read a row per non-zero at
/// offsets prescaled for the run's n. Aimed at small n (batch-1 FC layers, LSTM steps, 7×7 layers), where a kernel
/// vectorized along n wastes lanes. Every lane of a group does the same work, so threads split
/// groups by steps and each part's share is exact. Immutable after creation.
/// </summary>
public sealed unsafe class GsSpmmPlan : ISpmmPlan
{
    private readonly float[] _values, _bias;
    private readonly int[] _cols, _offsets;
    private readonly ushort[]? _cols16;
    private readonly GsSpmmKernel[] _candidates;
    private readonly GsSpmmKernel? _forced;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int N, int Threads), GsSpmmKernel> _tuned = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, ScaledOffsets> _scaled = new();
    private readonly bool _needsScaled;

    private GsSpmmPlan(GsMatrix w, float[] bias, Activation activation, GsSpmmKernel[] candidates, GsSpmmKernel? forced, bool index16)
    {
        Index16 = index16;
        Weights = w; M = w.Rows; K = w.Cols; Activation = activation; _candidates = candidates; _forced = forced;
        _values = Pinned(w.Values); _cols = Pinned(w.ColumnIndices); _offsets = Pinned(w.GroupOffsets); _bias = Pinned(bias);
        if (Index16) _cols16 = Pinned(Array.ConvertAll(w.ColumnIndices, c => (ushort)c));
        _needsScaled = forced?.Scaled ?? candidates.Any(k => k.Scaled);
    }

    /// <summary>
    /// What the scaled bodies read for one n: every stored entry's X offset column · n, 16-bit where the largest
    /// fits (two bytes per non-zero, as the packed indices), else 32-bit. Built on the first run with that n (one pass
    /// over the indices) and kept: a layer runs with one or a few n.
    /// </summary>
    private sealed class ScaledOffsets
    {
        public ScaledOffsets(GsMatrix w, int n)
        {
            // K panels (all groups sweeping one L1-sized band of X rows before the next, sums kept in Y between
            // bands) measured slower at n = 16 on ResNet-50's shapes (1.18-1.37x CSR against 1.30-1.54x without):
            // the Y traffic they add costs more than X rows from L2.
            int[] cols = w.ColumnIndices;
            if ((long)Math.Max(0, w.Cols - 1) * n <= ushort.MaxValue)
            {
                U16 = GC.AllocateUninitializedArray<ushort>(Math.Max(1, cols.Length), pinned: true);
                for (int i = 0; i < cols.Length; i++) U16[i] = (ushort)(cols[i] * n);
            }
            else
            {
                I32 = GC.AllocateUninitializedArray<int>(Math.Max(1, cols.Length), pinned: true);
                for (int i = 0; i < cols.Length; i++) I32[i] = cols[i] * n;
            }
        }

        public ushort[]? U16 { get; }
        public int[]? I32 { get; }
    }

    private static T[] Pinned<T>(T[] source) where T : unmanaged
    {
        var a = GC.AllocateUninitializedArray<T>(Math.Max(1, source.Length), pinned: true);
        source.CopyTo(a, 0);
        return a;
    }

    public static GsSpmmPlan Create(GsMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(weights, bias, activation, GsSpmmKernels.BestTier);

    /// <summary>Tests and benchmarks: a plan on the given tier (which must be supported), optionally forced to the body named <paramref name="kernel"/>.</summary>
    internal static GsSpmmPlan Create(GsMatrix weights, ReadOnlySpan<float> bias, Activation activation, IsaTier tier, string? kernel = null, bool? index16 = null)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        if (!IsaTiers.IsSupported(tier)) ThrowHelper.NotSupported($"Tier {tier} is not supported on this machine.");
        var b = new float[weights.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        var candidates = GsSpmmKernels.Candidates(tier, weights.Lanes, index16 ?? weights.Cols <= 65536);
        GsSpmmKernel? forced = null;
        if (kernel is not null)
            forced = candidates.FirstOrDefault(k => k.Name == kernel) ?? throw new ArgumentException($"No GS body '{kernel}' for V={weights.Lanes} on {tier}; there are: {string.Join(", ", candidates.Select(k => k.Name))}.", nameof(kernel));
        return new GsSpmmPlan(weights, b, activation, candidates, forced, candidates.Any(k => k.Index16));
    }

    public GsMatrix Weights { get; }
    private bool Index16 { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }
    /// <summary>The body that runs with <paramref name="n"/> columns and <paramref name="threads"/> threads; null before it is tuned.</summary>
    public string? KernelFor(int n, int threads) =>
        _forced?.Name ?? (_candidates.Length == 1 ? _candidates[0].Name : _tuned.TryGetValue((n, WorkerPool.Resolve(threads)), out var k) ? k.Name : null);

    public string Describe() =>
        $"GS V={Weights.Lanes} {Weights.Layout}, {Weights.Steps} steps, {Weights.Nnz} non-zeros of {Weights.Values.Length} stored"
        + (_forced is not null ? $"; {_forced.Name}" : string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {t.Value.Name}")));

    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0) => Run(x, n, y, threads, null);

    /// <summary>
    /// As <see cref="Run(ReadOnlySpan{float}, int, Span{float}, int)"/>; when <paramref name="busyMs"/> is given,
    /// element p receives the milliseconds part p spent in the kernel.
    /// </summary>
    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads, double[]? busyMs)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        // The gathers index X with 32-bit column · n offsets.
        if ((long)K * n > int.MaxValue) ThrowHelper.Shape(nameof(x), $"X [{K}×{n}] has more than 2^31 elements; GS gathers use 32-bit offsets.");
        int t = WorkerPool.Resolve(threads);
        if (busyMs is not null) Array.Clear(busyMs);
        if (n == 0 || M == 0) return;
        int groups = Weights.GroupCount, parts = Math.Min(t, groups);
        var bounds = PartsFor(parts);
        fixed (float* px = x, py = y)
        {
            var args = new GsSpmmArgs
            {
                X = px, N = n, M = M, Y = py, Lanes = Weights.Lanes, Banks = Weights.Banks,
                Values = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_values)),
                Cols = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cols)),
                Offsets = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsets)),
                Cols16 = _cols16 is null ? null : (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cols16)),
                Bias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias)),
                Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
            };
            var kernel = _forced ?? (_candidates.Length == 1 ? _candidates[0] : _tuned.GetValueOrDefault((n, t)));
            var scaled = kernel?.Scaled ?? _needsScaled ? _scaled.GetOrAdd(n, n => new ScaledOffsets(Weights, n)) : null;
            fixed (ushort* s16 = scaled?.U16)
            fixed (int* s32 = scaled?.I32)
            {
                args.Scaled16 = s16; args.Scaled32 = s32;
                if (kernel is null)
                {
                    kernel = Tuned(args, n, t, parts, bounds);
                    // A body on the packed indices won: the offsets built for the timing are not kept.
                    if (!kernel.Scaled) _scaled.TryRemove(n, out _);
                }
                RunParts(kernel, args, parts, bounds, busyMs);
            }
        }
    }

    private void RunParts(GsSpmmKernel kernel, GsSpmmArgs args, int parts, int[] bounds, double[]? busyMs)
    {
        if (parts == 1) RunPart(kernel, args, 0, bounds[1], busyMs, 0);
        else WorkerPool.Shared.Run(parts, p => RunPart(kernel, args, bounds[p], bounds[p + 1], busyMs, p));
    }

    /// <summary>
    /// The body for this n and thread count, timed on the caller's X on the first run that needs it (<see cref="KernelTimer"/>):
    /// gathers win at n = 1, broadcasting rows from a few columns up, and the crossover depends on the machine.
    /// </summary>
    private GsSpmmKernel Tuned(GsSpmmArgs args, int n, int threads, int parts, int[] bounds)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        int best = KernelTimer.Fastest(_candidates.Select(k => (Action)(() => RunParts(k, args, parts, bounds, null))).ToArray());
        return _tuned.GetOrAdd((n, threads), _candidates[best]);
    }

    private static void RunPart(GsSpmmKernel kernel, GsSpmmArgs args, int g0, int g1, double[]? busyMs, int part)
    {
        long t0 = busyMs is null ? 0 : Stopwatch.GetTimestamp();
        args.G0 = g0; args.G1 = g1;
        kernel.Body(&args);
        if (busyMs is not null && part < busyMs.Length) busyMs[part] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    /// <summary>Group boundaries of <paramref name="parts"/> ranges with about equal steps (each step is V lanes of equal work).</summary>
    private int[] PartsFor(int parts)
    {
        var bounds = new int[parts + 1];
        int groups = Weights.GroupCount, g = 0;
        var offsets = Weights.GroupOffsets;
        for (int p = 1; p < parts; p++)
        {
            long target = (long)offsets[groups] * p / parts;
            while (g < groups && offsets[g] < target) g++;
            bounds[p] = Math.Max(bounds[p - 1], g);
        }
        bounds[parts] = groups;
        return bounds;
    }
}
