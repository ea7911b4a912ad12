using System.Runtime.Intrinsics;
using Lacuna.Threading;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// How one SpMM run is cut up. N is covered by windows of the main tile's width plus one narrower tail window;
/// each window of X is copied into a contiguous, zero-padded panel [K × tile width] before all rows run over it,
/// so the kernel reads full tiles without ever leaving X and the rows it touches are dense in the caches and the
/// TLB. Threads split columns (each packs only its own windows) or rows by non-zero count.
/// </summary>
internal static unsafe class SpmmSchedule
{
    internal static bool PackMain = Environment.GetEnvironmentVariable("LACUNA_SPMM_PACK") == "1";
    internal static string? SplitMode = Environment.GetEnvironmentVariable("LACUNA_SPMM_SPLIT");
    internal static int Overhead = int.TryParse(Environment.GetEnvironmentVariable("LACUNA_SPMM_C"), out int c) ? c : 2;
    internal static int MaxVectors = int.TryParse(Environment.GetEnvironmentVariable("LACUNA_SPMM_MAXV"), out int v) ? v : 12;

    internal static Dictionary<string, string> Knobs = new();
    internal static void Knob(string k, string v) => Knobs[k] = v;

    public static void Run(SpmmPlan plan, float* x, int n, float* y, int threads)
    {
        int m = plan.M;
        if (threads == 1) { Work(plan, x, n, y, 0, n, 0, m); return; }
        if (SplitColumns(plan, n, threads))
        {
            int lanes = plan.Tiles[0].Lanes;
            WorkerPool.Shared.Run(threads, p =>
            {
                var (c0, c1) = WorkerPool.Range(n, threads, p, lanes);
                if (c1 > c0) Work(plan, x, n, y, c0, c1, 0, m);
            });
        }
        else
        {
            int parts = Math.Min(threads, m);
            int[] bounds = plan.PartsFor(parts);
            WorkerPool.Shared.Run(parts, p => Work(plan, x, n, y, 0, n, bounds[p], bounds[p + 1]));
        }
    }

    private static bool SplitColumns(SpmmPlan plan, int n, int threads)
    {
        if (SplitMode == "cols") return true;
        if (SplitMode == "rows") return false;
        return n >= 64 * threads;
    }

    /// <summary>Y[m0..m1, c0..c1) of the product.</summary>
    private static void Work(SpmmPlan plan, float* x, int n, float* y, int c0, int c1, int m0, int m1)
    {
        int k = plan.K;
        var main = ChooseMain(plan, c1 - c0);
        float* panel = SpmmScratch.Panel((long)k * Math.Max(main.Width, TailTile(plan, main.Width - 1).Width));
        int g = c0;
        for (; g + main.Width <= c1; g += main.Width)
        {
            if (PackMain)
            {
                Pack(x, n, g, main.Width, main.Width, panel, k);
                Rows(plan, main, panel, main.Width, y + g, n, main.Width, m0, m1);
            }
            else Rows(plan, main, x + g, n, y + g, n, main.Width, m0, m1);
        }
        int r = c1 - g;
        if (r == 0) return;
        var tail = TailTile(plan, r);
        Pack(x, n, g, r, tail.Width, panel, k);
        Rows(plan, tail, panel, tail.Width, y + g, n, r, m0, m1);
    }

    /// <summary>
    /// The main tile for a range of <paramref name="width"/> columns: the one with the fewest estimated cycles per
    /// non-zero over the whole range, a pass of V vectors costing V loads+FMAs plus <see cref="Overhead"/> for the
    /// index, the broadcast and the loop.
    /// </summary>
    internal static SpmmKernel ChooseMain(SpmmPlan plan, int width)
    {
        if (plan.ForcedTile is { } forced) return forced;
        SpmmKernel best = plan.Tiles[^1];
        long bestCost = long.MaxValue;
        foreach (var tile in plan.Tiles)
        {
            if (tile.Vectors > MaxVectors && tile != plan.Tiles[^1]) continue;
            int full = width / tile.Width, r = width - full * tile.Width;
            long cost = (long)full * (tile.Vectors + Overhead);
            if (r > 0) cost += (r + tile.Lanes - 1) / tile.Lanes + Overhead;
            if (cost < bestCost) { best = tile; bestCost = cost; }
        }
        return best;
    }

    /// <summary>The narrowest tile of the tier that covers <paramref name="columns"/> (the widest if none does).</summary>
    private static SpmmKernel TailTile(SpmmPlan plan, int columns)
    {
        var tiles = plan.Tiles;
        for (int i = tiles.Length - 1; i >= 0; i--)
            if (tiles[i].Width >= columns) return tiles[i];
        return tiles[0];
    }

    /// <summary>Copies X[0..k, g..g+valid) into panel rows of <paramref name="width"/> floats, zeroing lanes valid..width.</summary>
    private static void Pack(float* x, int n, int g, int valid, int width, float* panel, int k)
    {
        int full = valid & ~7;
        for (int r = 0; r < k; r++)
        {
            float* src = x + (long)r * n + g, dst = panel + (long)r * width;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j < full; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
            }
            for (; j < valid; j++) dst[j] = src[j];
            for (; j < width; j++) dst[j] = 0f;
        }
    }

    private static void Rows(SpmmPlan plan, SpmmKernel tile, float* xs, int stride, float* y, int n, int valid, int m0, int m1)
    {
        fixed (int* offsets = plan.RowOffsets)
        {
            SpmmArgs a;
            a.Activation = plan.Activation.Kind; a.Min = plan.Activation.Min; a.Max = plan.Activation.Max;
            a.X = xs; a.Stride = stride; a.Valid = valid;
            a.Cols = plan.ColsPointer; a.Values = plan.ValuesPointer; a.RowOffsets = offsets; a.Bias = plan.BiasPointer;
            a.M0 = m0; a.M1 = m1; a.Y = y; a.Ldy = n;
            tile.Function(plan.Precision, plan.Index16)(&a);
        }
    }
}

/// <summary>Per-thread pinned scratch for X panels.</summary>
internal static unsafe class SpmmScratch
{
    [ThreadStatic] private static float[]? t_panel;

    public static float* Panel(long length)
    {
        if (length > Array.MaxLength) ThrowHelper.NotSupported($"SpMM panel of {length} floats exceeds the largest array.");
        if (t_panel is null || t_panel.Length < length)
        {
            t_panel = null;
            t_panel = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 64), pinned: true);
        }
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(t_panel));
    }
}
