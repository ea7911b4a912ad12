using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.GsSpmm;

/// <summary>
/// GS SpMM: Y [M × n] = act(W · X + bias) with W a <see cref="GsMatrix"/>, lanes along output rows (row-wise GS) or
/// K (column-wise, hybrid), X gathered by hardware gathers. Aimed at small n (batch-1 FC layers, LSTM steps, 7×7
/// layers), where a kernel vectorized along n wastes lanes. Every lane of a group does the same work, so threads split
/// groups by steps and each part's share is exact. Immutable after creation.
/// </summary>
public sealed unsafe class GsSpmmPlan : ISpmmPlan
{
    private readonly float[] _values, _bias;
    private readonly int[] _cols, _offsets;
    private readonly GsSpmmKernel _kernel;

    private GsSpmmPlan(GsMatrix w, float[] bias, Activation activation, GsSpmmKernel kernel)
    {
        Weights = w; M = w.Rows; K = w.Cols; Activation = activation; _kernel = kernel;
        _values = Pinned(w.Values); _cols = Pinned(w.ColumnIndices); _offsets = Pinned(w.GroupOffsets); _bias = Pinned(bias);
    }

    private static T[] Pinned<T>(T[] source) where T : unmanaged
    {
        var a = GC.AllocateUninitializedArray<T>(Math.Max(1, source.Length), pinned: true);
        source.CopyTo(a, 0);
        return a;
    }

    public static GsSpmmPlan Create(GsMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(weights, bias, activation, GsSpmmKernels.BestTier);

    /// <summary>Tests and benchmarks: a plan on the given tier (which must be supported).</summary>
    internal static GsSpmmPlan Create(GsMatrix weights, ReadOnlySpan<float> bias, Activation activation, IsaTier tier)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        if (!IsaTiers.IsSupported(tier)) ThrowHelper.NotSupported($"Tier {tier} is not supported on this machine.");
        var b = new float[weights.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new GsSpmmPlan(weights, b, activation, GsSpmmKernels.For(tier, weights.Lanes));
    }

    public GsMatrix Weights { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }
    public string KernelName => _kernel.Name;

    public string Describe() =>
        $"GS V={Weights.Lanes} {Weights.Layout} {_kernel.Name}, {Weights.Steps} steps, {Weights.Nnz} non-zeros of {Weights.Values.Length} stored";

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
                Bias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias)),
                Activation = Activation.Kind, Min = Activation.Min, Max = Activation.Max,
            };
            if (parts == 1) RunPart(args, 0, groups, busyMs, 0);
            else WorkerPool.Shared.Run(parts, p => RunPart(args, bounds[p], bounds[p + 1], busyMs, p));
        }
    }

    private void RunPart(GsSpmmArgs args, int g0, int g1, double[]? busyMs, int part)
    {
        long t0 = busyMs is null ? 0 : Stopwatch.GetTimestamp();
        args.G0 = g0; args.G1 = g1;
        _kernel.Body(&args);
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
