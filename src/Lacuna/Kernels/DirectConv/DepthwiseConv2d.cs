using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Arguments of one depthwise sweep: one channel's output on the "wide" grid of <see cref="DepthwiseLayout"/>,
/// out[i] = act(Bias + Σ_t Weights[t] · Planes[TapOffsets[t] + i]) for i in [0, Count), rounded up to the
/// kernel's block (the planes and the output have <see cref="DepthwiseLayout.Slack"/> floats of room for that).
/// </summary>
internal unsafe struct DepthwiseArgs
{
    public float* Planes;
    public int* TapOffsets;
    public float* Weights;
    public int Taps;
    public float Bias;
    public float* Output;
    public int Count;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: a tier and its sweep.</summary>
internal sealed unsafe class DepthwiseConvKernel
{
    public DepthwiseConvKernel(IsaTier tier, delegate*<DepthwiseArgs*, void> function) { Tier = tier; Function = function; }

    public IsaTier Tier { get; }
    public delegate*<DepthwiseArgs*, void> Function { get; }
    public string Name => $"{Tier}";
    public override string ToString() => Name;
}

/// <summary>The depthwise sweeps, one per tier: the one list the plan and the tests read.</summary>
internal static unsafe class DepthwiseConvKernels
{
    public static readonly DepthwiseConvKernel[] All =
    {
        new(IsaTier.Avx512, &DepthwiseConv2d.Avx512Sweep),
        new(IsaTier.Avx2Fma, &DepthwiseConv2d.Avx2Sweep),
        new(IsaTier.Vector128, &DepthwiseConv2d.Vector128Sweep),
        new(IsaTier.Scalar, &DepthwiseConv2d.ScalarSweep),
    };

    /// <summary>Entries this process can run.</summary>
    public static IEnumerable<DepthwiseConvKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The widest entry this process runs.</summary>
    public static DepthwiseConvKernel Best { get; } = Supported.First();
}

/// <summary>
/// Per-channel layout of a depthwise conv's zero-padded input: SH·SW stride-phase planes of <see cref="Hq"/> ×
/// <see cref="Wq"/>, phase (rp, cp) element [i, j] = padded[i·SH + rp, j·SW + cp]. Tap (kh, kw) of output (oy, ox)
/// then reads phase ((kh·DH) mod SH, (kw·DW) mod SW) at [oy + kh·DH div SH, ox + kw·DW div SW], so numbering outputs
/// on a grid Wq wide (i = oy·Wq + ox, the Wq - OW extra columns computed and dropped) makes every tap one
/// contiguous run over all rows at once: a 7x7 output is one sweep of 61 floats, not 7 sweeps of 7.
/// </summary>
internal sealed class DepthwiseLayout
{
    /// <summary>Floats of zeroed room after the planes and the wide output: the widest sweep block (4 × 16 lanes).</summary>
    public const int Slack = 64;

    public DepthwiseLayout(ConvGeometry g)
    {
        Hq = g.OH + (g.KH - 1) * g.DH / g.SH;
        Wq = g.OW + (g.KW - 1) * g.DW / g.SW;
        PhaseSize = Hq * Wq;
        Phases = g.SH * g.SW;
        Count = (g.OH - 1) * Wq + g.OW;
        // Gathers where rows are short or split by stride; stride-1 rows of 14+ floats copy as fast row by row
        // (1 thread, Zen 5, per call: 576@14 stride 2 0.15 -> 0.075 ms, 960@7 0.078 -> 0.065, 384@14 stride 1 0.054 -> 0.07).
        if ((long)Phases * PhaseSize <= GatherLimit && (g.SW > 1 || Wq < 12)) Gather = GatherTable(g, Phases, Hq, Wq, PhaseSize);
        TapOffsets = GC.AllocateArray<int>(g.Taps, pinned: true);
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int rp = kh * g.DH % g.SH, cp = kw * g.DW % g.SW;
                TapOffsets[kh * g.KW + kw] = (rp * g.SW + cp) * PhaseSize + kh * g.DH / g.SH * Wq + kw * g.DW / g.SW;
            }
    }

    /// <summary>
    /// For small planes (at most <see cref="GatherLimit"/> floats) split by stride or with short rows: [Phases·PhaseSize rounded up to 8] source index of
    /// every plane element in its input channel, -1 where the conv pads, so <see cref="DepthwiseConv2d"/> fills a plane
    /// with a few gathers instead of row by row; null otherwise. On MobileNetV2's 14x14 stride-2 layer the
    /// row-by-row fill (32 short rows, each a few calls) took about 15 times as long as the sweep itself.
    /// </summary>
    public int[]? Gather { get; }

    public const int GatherLimit = 4096;

    private static int[] GatherTable(ConvGeometry g, int phases, int hq, int wq, int phaseSize)
    {
        var table = GC.AllocateArray<int>((phases * phaseSize + 7) / 8 * 8, pinned: true);
        table.AsSpan().Fill(-1);
        for (int rp = 0; rp < g.SH; rp++)
            for (int cp = 0; cp < g.SW; cp++)
                for (int i = 0; i < hq; i++)
                    for (int j = 0; j < wq; j++)
                    {
                        int iy = i * g.SH + rp - g.PT, ix = j * g.SW + cp - g.PL;
                        if ((uint)iy < (uint)g.H && (uint)ix < (uint)g.W)
                            table[(rp * g.SW + cp) * phaseSize + i * wq + j] = iy * g.W + ix;
                    }
        return table;
    }

    public int Hq { get; }
    public int Wq { get; }
    public int PhaseSize { get; }
    public int Phases { get; }
    /// <summary>Wide outputs one channel needs: up to the last real one, (OH - 1)·Wq + OW.</summary>
    public int Count { get; }
    /// <summary>[KH·KW], pinned.</summary>
    public int[] TapOffsets { get; }

    public long PlaneFloats => (long)Phases * PhaseSize + Slack;
    public long WideFloats => (long)Count + Slack;
}

/// <summary>
/// Depthwise 2-D convolution (groups = C = M): per channel, pad and phase-split the input plane into per-thread
/// scratch (<see cref="DepthwiseLayout"/>), sweep every tap over the whole wide grid (the tier files), fused bias and
/// activation, then copy the real columns out; threads take whole channels. Replaces the direct driver's one-row,
/// one-channel tiles, which on MobileNetV2's 7- and 14-column layers computed 64-wide tiles for 7 real columns.
/// </summary>
internal static unsafe partial class DepthwiseConv2d
{
    /// <summary>
    /// Output rows at least this wide are swept row by row straight into the output, saving the copy out of the wide
    /// grid. Planner timings (1 thread, Zen 5, noisy shared machine; depthwise ms / one-channel direct tiles ms):
    /// 32@112 stride 1 1.03 -> 0.69-0.76 with it, but 144@56 stride 1 0.51 -> 0.62 and 96@112 stride 2 (56 columns)
    /// 0.72 -> 0.83-0.86, where a 64-float block wastes 8 of 64 columns per row and each row is one more call.
    /// </summary>
    public const int DirectRowsFrom = 96;

    [ThreadStatic] private static float[]? t_planes;
    [ThreadStatic] private static float[]? t_wide;

    /// <param name="weight">[C, KH, KW]</param>
    /// <param name="bias">[C] or null</param>
    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, C, OH, OW]</param>
    public static void Run(ConvGeometry g, DepthwiseLayout l, DepthwiseConvKernel k, float* weight, float* bias, Activation act,
        float* input, float* output, int batch, int threads)
    {
        int planes = batch * g.C;
        int parts = Math.Min(threads, planes);
        nint pin = (nint)input, pout = (nint)output, pw = (nint)weight, pb = (nint)bias;
        WorkerPool.Shared.Run(parts, part =>
        {
            var (s, e) = WorkerPool.Range(planes, parts, part);
            Channels(g, l, k, (float*)pw, (float*)pb, act, (float*)pin, (float*)pout, s, e);
        });
    }

    /// <summary>Planes [start, end) of the batch (image · C + channel), on the calling thread's scratch.</summary>
    private static void Channels(ConvGeometry g, DepthwiseLayout l, DepthwiseConvKernel k, float* weight, float* bias, Activation act,
        float* input, float* output, int start, int end)
    {
        float[] planes = Scratch(ref t_planes, l.PlaneFloats);
        float[] wide = Scratch(ref t_wide, l.WideFloats);
        int taps = g.Taps, ohw = g.OutputPixels;
        fixed (float* pp = planes, pwide = wide)
        fixed (int* offs = l.TapOffsets, gather = l.Gather)
        {
            DepthwiseArgs a = default;
            a.Planes = pp;
            a.TapOffsets = offs;
            a.Taps = taps;
            a.Output = pwide;
            a.Count = l.Count;
            a.Activation = act.Kind;
            a.Min = act.Min;
            a.Max = act.Max;
            for (int i = start; i < end; i++)
            {
                int c = i % g.C;
                float* src = input + (long)i * g.H * g.W;
                if (gather != null) GatherFill(gather, l.Gather!.Length, src, pp);
                else Fill(g, l, src, pp);
                a.Weights = weight + (long)c * taps;
                a.Bias = bias == null ? 0f : bias[c];
                float* dst = output + (long)i * ohw;
                if (g.OW >= DirectRowsFrom)
                {
                    // Wide rows: sweep each output row straight into the output. A sweep's last block runs past OW
                    // into the next row of this channel, which the next sweep then overwrites; the last row goes
                    // through the wide buffer, since past it lies another channel's output.
                    a.Count = g.OW;
                    for (int oy = 0; oy < g.OH - 1; oy++)
                    {
                        a.Planes = pp + oy * l.Wq;
                        a.Output = dst + oy * g.OW;
                        k.Function(&a);
                    }
                    a.Planes = pp + (g.OH - 1) * l.Wq;
                    a.Output = pwide;
                    k.Function(&a);
                    Copy(pwide, dst + (g.OH - 1) * g.OW, g.OW);
                    a.Planes = pp;
                    a.Count = l.Count;
                    continue;
                }
                k.Function(&a);
                if (l.Wq == g.OW) Copy(pwide, dst, ohw);
                else
                    for (int oy = 0; oy < g.OH; oy++) Copy(pwide + oy * l.Wq, dst + oy * g.OW, g.OW);
            }
        }
    }

    /// <summary>A zeroed, pinned per-thread array of at least <paramref name="length"/> floats (grown, never shrunk).</summary>
    private static float[] Scratch(ref float[]? slot, long length)
    {
        if (slot is null || slot.Length < length)
        {
            if (length > Array.MaxLength) ThrowHelper.NotSupported($"Depthwise conv scratch of {length} floats exceeds the largest array.");
            slot = null;
            // Zeroed so the slack the sweeps read past the planes holds finite values from the start.
            slot = GC.AllocateArray<float>((int)length, pinned: true);
        }
        return slot;
    }

    private static readonly bool s_gather = IsaTiers.Best >= IsaTier.Avx2Fma && Avx2.IsSupported;

    /// <summary>dst[k] = src[table[k]], or 0 where table[k] is -1, for the n (a multiple of 8) entries of table.</summary>
    private static void GatherFill(int* table, int n, float* src, float* dst)
    {
        if (s_gather)
        {
            var pad = Vector256.Create(-1);
            for (int k = 0; k < n; k += 8)
            {
                var index = Avx.LoadVector256(table + k);
                var valid = Avx2.CompareGreaterThan(index, pad).AsSingle();
                Avx2.GatherMaskVector256(Vector256<float>.Zero, src, index, valid, 4).Store(dst + k);
            }
            return;
        }
        for (int k = 0; k < n; k++)
        {
            int ix = table[k];
            dst[k] = ix >= 0 ? src[ix] : 0f;
        }
    }

    /// <summary>
    /// dst[0..n) = src[0..n) for the short rows of small layers (7 to 56 floats), where a span copy's call costs more than
    /// the copy: 8 floats at a time, the last 8 overlapping the previous store (src and dst never overlap).
    /// </summary>
    private static void Copy(float* src, float* dst, int n)
    {
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            for (int j = 0; j + 8 < n; j += 8) Vector256.Load(src + j).Store(dst + j);
            Vector256.Load(src + n - 8).Store(dst + n - 8);
            return;
        }
        if (n > 64) { new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n)); return; }
        for (int j = 0; j < n; j++) dst[j] = src[j];
    }

    private static readonly bool s_evenLanes = IsaTiers.Best == IsaTier.Avx512 && IsaTiers.IsSupported(IsaTier.Avx512);

    /// <summary>
    /// dst[j] = src[2j] for the n floats of src: 16 at a time with one two-source AVX-512 permute, the rest by
    /// <see cref="Deinterleave.Evens"/> (AVX2 or element by element).
    /// </summary>
    private static void Evens(float* src, int n, float* dst)
    {
        int j = 0;
        if (s_evenLanes)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; 2 * j + 32 <= n; j += 16)
                Avx512F.PermuteVar16x32x2(Avx512F.LoadVector512(src + 2 * j), even, Avx512F.LoadVector512(src + 2 * j + 16)).Store(dst + j);
        }
        if (2 * j < n) Deinterleave.Evens(src + 2 * j, n - 2 * j, dst + j);
    }

    /// <summary>One input channel [H×W] → its SH·SW phase planes [Hq×Wq], zero where the conv pads.</summary>
    private static void Fill(ConvGeometry g, DepthwiseLayout l, float* src, float* dst)
    {
        int wq = l.Wq, sw = g.SW;
        for (int rp = 0; rp < g.SH; rp++)
            for (int cp = 0; cp < sw; cp++)
            {
                float* phase = dst + (rp * sw + cp) * l.PhaseSize;
                // Columns j whose input column j·SW + cp - PL lies in [0, W).
                int before = g.PL - cp, last = g.W - 1 + g.PL - cp;
                int jlo = Math.Min(wq, before <= 0 ? 0 : (before + sw - 1) / sw);
                int jhi = Math.Max(jlo, Math.Min(wq, last < 0 ? 0 : last / sw + 1));
                for (int i = 0; i < l.Hq; i++)
                {
                    float* row = phase + i * wq;
                    int iy = i * g.SH + rp - g.PT;
                    if ((uint)iy >= (uint)g.H || jhi == jlo) { new Span<float>(row, wq).Clear(); continue; }
                    for (int j = 0; j < jlo; j++) row[j] = 0f;
                    for (int j = jhi; j < wq; j++) row[j] = 0f;
                    float* s = src + (long)iy * g.W + jlo * sw + cp - g.PL;
                    int n = jhi - jlo;
                    if (sw == 1) Copy(s, row + jlo, n);
                    else if (sw == 2) Evens(s, 2 * n - 1, row + jlo);
                    else for (int j = 0; j < n; j++) row[jlo + j] = s[j * sw];
                }
            }
    }
}
