using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.Elementwise;
using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Layout of the padded input copy a direct tile reads: per channel, <see cref="ConvGeometry.SW"/> stride-phase
/// planes of <see cref="Hp"/> rows × <see cref="Wph"/> columns, zero where the conv pads. Phase r column j holds
/// padded column j·SW + r, so output column ox, tap kw reads phase (kw·DW) mod SW at column ox + (kw·DW) div SW:
/// contiguous for every stride and dilation. Rows are wide enough for whole tiles (the edge tile reads zeros).
/// </summary>
internal sealed class DirectLayout
{
    public DirectLayout(ConvGeometry g, DirectConvKernel k)
    {
        Kernel = k;
        Hp = (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1;
        ColumnBlocks = (g.OW + k.Width - 1) / k.Width;
        Wph = ColumnBlocks * k.Width + (g.KW - 1) * g.DW / g.SW;
        PlaneSize = (long)g.SW * Hp * Wph;
        ChannelBlocks = (g.Mg + k.Rows - 1) / k.Rows;
        BlocksInner = (long)g.Mg * g.K < PlaneSize * g.Cg;
        InputAsIs = g.SW == 1 && g.PT == 0 && g.PL == 0 && Hp == g.H && Wph == g.W;
        TapOffsets = GC.AllocateArray<int>(g.Taps, pinned: true);
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
                TapOffsets[kh * g.KW + kw] = (kw * g.DW % g.SW) * Hp * Wph + kh * g.DH * Wph + kw * g.DW / g.SW;
    }

    public DirectConvKernel Kernel { get; }
    public int Hp { get; }
    public int Wph { get; }
    public long PlaneSize { get; }
    public int ColumnBlocks { get; }
    /// <summary>Channel blocks of Kernel.Rows output channels per group (the last one zero-padded).</summary>
    public int ChannelBlocks { get; }
    /// <summary>
    /// Work-item order. When a group's padded input outweighs its weights (large images), channel blocks vary
    /// fastest so the few input rows of one output row stay in L2 for every block; otherwise (deep, small layers)
    /// rows vary fastest so one block's weights stay in L2 for every row. Without it, 3x3 64@224 streamed its
    /// 14 MB padded input once per channel block.
    /// </summary>
    public bool BlocksInner { get; }
    /// <summary>
    /// The padded copy would equal the input (no padding, stride 1 along rows, whole tiles per row: ResNet's 1x1
    /// layers with the 14- and 7-column tiles), so tiles read the input itself instead of a copy of every plane.
    /// </summary>
    public bool InputAsIs { get; }
    /// <summary>[KH·KW], pinned.</summary>
    public int[] TapOffsets { get; }

    /// <summary>Floats of weights packed for this layout: [G][ChannelBlocks][Cg][KH·KW][Rows].</summary>
    public long PackedWeightLength(ConvGeometry g) => (long)g.G * ChannelBlocks * g.Cg * g.Taps * Kernel.Rows;

    /// <summary>Floats of packed bias: [G][ChannelBlocks][Rows].</summary>
    public int PackedBiasLength(ConvGeometry g) => g.G * ChannelBlocks * Kernel.Rows;
}

/// <summary>Runs a direct convolution: pack weights once, pad the input per call, then tiles over all threads.</summary>
internal static unsafe class DirectConvDriver
{
    /// <summary>weight [M, Cg, KH, KW] → packed [G][block][Cg][tap][Rows]; bias [M] or empty → [G][block][Rows].</summary>
    public static void Pack(ConvGeometry g, DirectLayout l, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> packedWeight, Span<float> packedBias)
    {
        int rows = l.Kernel.Rows, taps = g.Taps;
        int i = 0;
        for (int gr = 0; gr < g.G; gr++)
            for (int mb = 0; mb < l.ChannelBlocks; mb++)
            {
                for (int c = 0; c < g.Cg; c++)
                    for (int t = 0; t < taps; t++)
                        for (int r = 0; r < rows; r++)
                        {
                            int mi = mb * rows + r;
                            packedWeight[i++] = mi < g.Mg ? weight[((gr * g.Mg + mi) * g.Cg + c) * taps + t] : 0f;
                        }
                for (int r = 0; r < rows; r++)
                {
                    int mi = mb * rows + r;
                    packedBias[(gr * l.ChannelBlocks + mb) * rows + r] = mi < g.Mg && !bias.IsEmpty ? bias[gr * g.Mg + mi] : 0f;
                }
            }
    }

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW]</param>
    /// <param name="epilogue">applied to each work item's rows as they are finished (<see cref="OutputEpilogue"/>), or none</param>
    public static void Run(ConvGeometry g, DirectLayout l, float* packedWeight, float* packedBias, Activation act,
        float* input, float* output, int batch, int threads, OutputEpilogue epilogue = default)
    {
        float[] padded = l.InputAsIs ? [] : ConvScratch.Get(ConvScratch.Padded, batch * (long)g.C * l.PlaneSize);
        nint pin = (nint)input, pout = (nint)output, pw = (nint)packedWeight, pb = (nint)packedBias;
        fixed (float* pp = padded)
        {
            nint ppad = l.InputAsIs ? pin : (nint)pp;
            int planes = batch * g.C;
            int padParts = Math.Min(threads, planes);
            if (!l.InputAsIs)
                WorkerPool.Shared.Run(padParts, part =>
                {
                    var (s, e) = WorkerPool.Range(planes, padParts, part);
                    for (int i = s; i < e; i++)
                        PadPlane(g, l, (float*)pin + (long)i * g.H * g.W, (float*)ppad + i * l.PlaneSize);
                });
            long items = (long)batch * g.G * l.ChannelBlocks * g.OH;
            int parts = (int)Math.Min(threads, items);
            WorkerPool.Shared.Run(parts, part =>
            {
                var (s, e) = WorkerPool.Range((int)items, parts, part);
                Tiles(g, l, (float*)pw, (float*)pb, act, (float*)ppad, (float*)pout, s, e, epilogue);
            });
        }
    }

    /// <summary>Work items [start, end) of (image, group, channel block × output row), in <see cref="DirectLayout.BlocksInner"/> order.</summary>
    private static void Tiles(ConvGeometry g, DirectLayout l, float* packedWeight, float* packedBias, Activation act,
        float* padded, float* output, int start, int end, OutputEpilogue epilogue)
    {
        var k = l.Kernel;
        int rows = k.Rows, width = k.Width;
        long blockWeights = (long)g.Cg * g.Taps * rows;
        int ohw = g.OutputPixels;
        fixed (int* offs = l.TapOffsets)
        {
            DirectConvArgs a = default;
            a.ChannelStride = (nint)l.PlaneSize;
            a.Channels = g.Cg;
            a.TapOffsets = offs;
            a.Taps = g.Taps;
            a.OutputChannelStride = ohw;
            a.Activation = act.Kind;
            a.Min = act.Min;
            a.Max = act.Max;
            for (int i = start; i < end; i++)
            {
                int perGroup = g.OH * l.ChannelBlocks;
                int within = i % perGroup, rest = i / perGroup;
                int gr = rest % g.G, n = rest / g.G;
                int oy = l.BlocksInner ? within / l.ChannelBlocks : within % g.OH;
                int mb = l.BlocksInner ? within % l.ChannelBlocks : within / g.OH;
                int block = gr * l.ChannelBlocks + mb;
                a.Weights = packedWeight + block * blockWeights;
                a.Bias = packedBias + block * rows;
                a.ValidRows = Math.Min(rows, g.Mg - mb * rows);
                float* inRow = padded + ((long)n * g.C + gr * g.Cg) * l.PlaneSize + (long)oy * g.SH * l.Wph;
                long outOffset = ((long)n * g.M + gr * g.Mg + mb * rows) * ohw + (long)oy * g.OW;
                float* outRow = output + outOffset;
                for (int ox = 0; ox < g.OW; ox += width)
                {
                    a.Input = inRow + ox;
                    a.Output = outRow + ox;
                    a.ValidWidth = Math.Min(width, g.OW - ox);
                    k.Function(&a);
                }
                if (!epilogue.IsNone) epilogue.ApplyRows(output, outOffset, a.ValidRows, ohw, g.OW);
            }
        }
    }

    private static readonly bool s_evenLanes = DirectConvKernels.BestTier == IsaTier.Avx512;

    /// <summary>
    /// Stride-2 phase row: dst[j] = s[2j + o] for j from 0 while all 32 floats from s[2j + o] lie in [0, w) and 16
    /// outputs fit in wph, 16 at a time (two loads, one two-source permute of the even lanes), after zeros for
    /// the left pad (2j + o &lt; 0); returns the first j not written, where the caller's scalar loop goes on.
    /// Against the scalar split (1 thread, Zen 4): conv1 2.58-2.87 → 2.28-2.48 ms, 3x3/2 128@56 2.84-2.93 → 2.55-2.62.
    /// </summary>
    private static int EvenLanes(float* s, int o, int w, float* dst, int wph)
    {
        int j = o < 0 ? Math.Min(wph, (1 - o) / 2) : 0;
        for (int z = 0; z < j; z++) dst[z] = 0f;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (; j + 16 <= wph && 2 * j + o + 32 <= w; j += 16)
        {
            float* src = s + 2 * j + o;
            Avx512F.PermuteVar16x32x2(Avx512F.LoadVector512(src), even, Avx512F.LoadVector512(src + 16)).Store(dst + j);
        }
        return j;
    }

    /// <summary>One input channel [H×W] → its SW phase planes [Hp×Wph] with the conv's zero padding.</summary>
    private static void PadPlane(ConvGeometry g, DirectLayout l, float* src, float* dst)
    {
        int wph = l.Wph;
        for (int r = 0; r < g.SW; r++)
        {
            for (int py = 0; py < l.Hp; py++, dst += wph)
            {
                int iy = py - g.PT;
                var row = new Span<float>(dst, wph);
                if ((uint)iy >= (uint)g.H) { row.Clear(); continue; }
                float* s = src + (long)iy * g.W;
                if (g.SW == 1)
                {
                    int lo = Math.Min(g.PL, wph), hi = Math.Min(wph, g.PL + g.W);
                    row[..lo].Clear();
                    new ReadOnlySpan<float>(s, hi - lo).CopyTo(row[lo..]);
                    row[hi..].Clear();
                }
                else
                {
                    int j = 0;
                    if (g.SW == 2 && s_evenLanes) j = EvenLanes(s, r - g.PL, g.W, dst, wph);
                    for (; j < wph; j++)
                    {
                        int ix = j * g.SW + r - g.PL;
                        dst[j] = (uint)ix < (uint)g.W ? s[ix] : 0f;
                    }
                }
            }
        }
    }
}
