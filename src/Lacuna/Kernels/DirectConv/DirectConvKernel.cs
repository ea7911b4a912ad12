namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Arguments of one direct-convolution register tile: <see cref="DirectConvKernel.Rows"/> output channels ×
/// <see cref="DirectConvKernel.Width"/> consecutive output columns of one output row.
/// out[r, j] = act(bias[r] + Σ_c Σ_t w[c, t, r] · in[c·ChannelStride + TapOffsets[t] + j]).
/// </summary>
internal unsafe struct DirectConvArgs
{
    /// <summary>Padded input of the group's first channel at this output row's first input row and this tile's first column.</summary>
    public float* Input;
    /// <summary>Floats between two channels of the padded input.</summary>
    public nint ChannelStride;
    public int Channels;
    /// <summary>[Taps]: offset of tap (kh, kw) from <see cref="Input"/>, stride phase and dilation folded in.</summary>
    public int* TapOffsets;
    public int Taps;
    /// <summary>[Channels × Taps × Rows]: packed weights of this channel block, zero rows beyond the valid ones.</summary>
    public float* Weights;
    /// <summary>[Rows]: bias of this channel block (zeros when the conv has none).</summary>
    public float* Bias;
    /// <summary>Output of the block's first channel at this row and first column.</summary>
    public float* Output;
    /// <summary>Floats between two output channels (OH·OW).</summary>
    public nint OutputChannelStride;
    /// <summary>Valid channels (≤ tile rows) and valid columns (≤ tile width); the rest is computed and dropped.</summary>
    public int ValidRows, ValidWidth;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: a tier, a register tile (Rows channels × Width columns) and its function.</summary>
internal sealed unsafe class DirectConvKernel
{
    public DirectConvKernel(IsaTier tier, int rows, int width, delegate*<DirectConvArgs*, void> function, bool channelLanes = false)
    {
        Tier = tier; Rows = rows; Width = width; Function = function; ChannelLanes = channelLanes;
    }

    /// <summary>Output channels in the vector lanes (columns broadcast): any width fits, the store transposes.</summary>
    public bool ChannelLanes { get; }

    public IsaTier Tier { get; }
    public int Rows { get; }
    public int Width { get; }
    public delegate*<DirectConvArgs*, void> Function { get; }
    public string Name => $"{Tier} {Rows}x{Width}";
    public override string ToString() => Name;
}

/// <summary>
/// The direct-convolution registry: the one list the planner, the tests and the benchmark read.
/// Wide-channel tiles for ordinary convs, one-channel tiles for depthwise (Mg = 1).
/// </summary>
internal static unsafe class DirectConvKernels
{
    public static readonly DirectConvKernel[] All =
    {
        new(IsaTier.Avx512, 16, 16, &DirectConv.Avx512Tile16x16),
        new(IsaTier.Avx512, 8, 32, &DirectConv.Avx512Tile8x32),
        new(IsaTier.Avx512, 24, 8, &DirectConv.Avx512Tile24x8),
        new(IsaTier.Avx512, 16, 14, &DirectConv.Avx512Tile16x14, channelLanes: true),
        new(IsaTier.Avx512, 32, 7, &DirectConv.Avx512Tile32x7, channelLanes: true),
        new(IsaTier.Avx512, 32, 14, &DirectConv.Avx512Tile32x14, channelLanes: true),
        new(IsaTier.Avx512, 48, 7, &DirectConv.Avx512Tile48x7, channelLanes: true),
        new(IsaTier.Avx512, 1, 64, &DirectConv.Avx512Tile1x64),
        new(IsaTier.Avx2Fma, 6, 16, &DirectConv.Avx2Tile6x16),
        new(IsaTier.Avx2Fma, 4, 24, &DirectConv.Avx2Tile4x24),
        new(IsaTier.Avx2Fma, 8, 8, &DirectConv.Avx2Tile8x8),
        new(IsaTier.Avx2Fma, 1, 32, &DirectConv.Avx2Tile1x32),
        new(IsaTier.Vector128, 4, 8, &DirectConv.Vector128Tile4x8),
        new(IsaTier.Vector128, 1, 16, &DirectConv.Vector128Tile1x16),
        new(IsaTier.Scalar, 4, 4, &DirectConv.ScalarTile4x4),
        new(IsaTier.Scalar, 1, 4, &DirectConv.ScalarTile1x4),
    };

    /// <summary>Entries this process can run.</summary>
    public static IEnumerable<DirectConvKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>
    /// The entries <see cref="Choose"/> picks from, best tier first: the best tier's, and on an AVX-512 machine the
    /// AVX2 ones too (6x16 and 4x24 take groups of 4 to 7 output channels, too few for the AVX-512 tiles).
    /// </summary>
    public static DirectConvKernel[] Candidates { get; } =
        All.Where(k => k.Tier == BestTier || (BestTier == IsaTier.Avx512 && k.Tier == IsaTier.Avx2Fma)).ToArray();

    /// <summary>
    /// The entry of <see cref="Candidates"/> for a layer: one-channel tiles when a group has fewer output channels than the
    /// smallest multi-channel tile (depthwise); otherwise the tile with the highest
    /// utilization(Mg) · utilization(OW) · <see cref="RelativeSpeed"/> (a tile computes full Rows × Width even at edges).
    /// </summary>
    public static DirectConvKernel Choose(ConvGeometry g) => Ranked(g)[0];

    /// <summary>
    /// The entries that fit a layer, best <see cref="Choose"/> score first (ties keep registry order): the planner
    /// times the runner-up too, since the scores come from one or two CPUs.
    /// </summary>
    public static DirectConvKernel[] Ranked(ConvGeometry g)
    {
        var entries = Candidates;
        var multi = entries.Where(k => k.Rows > 1 && k.Rows <= g.Mg).ToArray();
        if (multi.Length == 0) return [entries.First(k => k.Rows == 1)];
        return multi.Select((k, i) => (k, i, Score: Score(k, g)))
            .OrderByDescending(e => Math.Round(e.Score, 9)).ThenBy(e => e.i).Select(e => e.k).ToArray();
    }

    private static double Score(DirectConvKernel k, ConvGeometry g) =>
        Utilization(g.Mg, k.Rows) * Utilization(g.OW, k.Width) * RelativeSpeed(k, g);

    /// <summary>
    /// Throughput of a tile at full utilization relative to the best one. Set from
    /// `lacuna bench dense-conv --set rn50 --json` (1 thread, direct_tiles_ms).
    /// AVX2 tiles (Zen 3), e.g. ms 6x16 / 8x8 / 4x24:
    /// 3x3 128@28 2.86 / 3.08 / 4.07, 3x3 256@14 2.74 / 3.15 / 3.92, conv1 7x7/2 2.70 / 2.83 / 2.58 (OW 112),
    /// 3x3 64@56 2.99 / 2.83 / 3.19 (OW 56: 6x16 wastes 1/8); 1x1 256->64@56 2.10 / 1.44 / 2.47,
    /// 1x1 512->128@28 1.90 / 1.57 / 3.08. So with several taps 6x16 is fastest and 8x8, 4x24 are about 0.9 of it;
    /// with one tap (1x1) 8x8 is fastest by far (one input vector per channel plane per tile).
    /// AVX-512 tiles (Zen 4, two runs' ranges), ms 16x16 / 8x32 / 24x8 / 16x14 / 32x7 | best AVX2:
    /// conv1 2.55-2.56 / 2.78-3.40 / 2.91-2.95 / 2.45 / 2.50-2.57 | 6x16 2.58-2.59;
    /// 3x3 64@56 2.52-2.70 / 2.46-2.58 / 2.67-2.98 / 2.14-2.23 / 2.14-2.27 | 6x16 3.00-3.17;
    /// 3x3 256@14 2.48-2.62 / 4.95-5.06 / 2.82-2.96 / 2.15-2.24 / 2.19-2.28 | 6x16 2.88-2.89;
    /// 3x3 512@7 5.30-5.40 / 10.1-11.7 / 3.00-3.36 / 4.57-4.84 / 2.29-2.41 | 6x16 5.87-5.97;
    /// 3x3/2 512@14 (OW 7) 5.48-5.80 / 10.6-11.1 / 3.29-3.34 / 4.72-4.96 / 2.50-2.56 | 6x16 6.91-7.47;
    /// 1x1 64->256@56 1.17-1.27 / 1.16-1.22 / 1.17-1.23 / 1.04-1.09 / 1.11-1.14 | 6x16 1.52-1.62;
    /// 1x1 256->64@56 1.32-1.42 / 1.23-1.31 / 1.32-1.42 / 1.11-1.18 / 1.11-1.19 | 6x16 1.50-1.62;
    /// 1x1 512->2048@7 2.26-2.31 / 4.5 / 1.35-1.38 / 2.02-2.10 / 1.17-1.20 | 6x16 2.59-2.67.
    /// Net of wasted lanes, with several taps 16x16 is the column-lane reference, 8x32 about 0.97 of it, 24x8 0.8
    /// and the AVX2 tiles 0.7-0.9; with one tap 8x32 is, 24x8 about 0.95, 16x16 0.88 and the AVX2 ones 0.6-0.8 (their
    /// Zen 3 values × 0.8). The channel-lane tiles 16x14 and 32x7 run about 1.05 of 16x16 (conv1, both exact:
    /// 2.45 vs 2.55) less their in-register transposing store, which costs about 4 reduction steps (Cg·taps) of
    /// a tile: they lead wherever their columns fit, down to 1x1 64->256@56. Other tiers have a single
    /// multi-channel tile.
    /// </summary>
    public static double RelativeSpeed(DirectConvKernel k, ConvGeometry g)
    {
        if (k.ChannelLanes) return ChannelLaneSpeed(k) * g.K / (g.K + 4.0);
        return (k.Tier, k.Rows, k.Width, g.Taps > 1) switch
        {
            (IsaTier.Avx512, 16, 16, true) => 1.0,
            (IsaTier.Avx512, 8, 32, true) => 0.97,
            (IsaTier.Avx512, 24, 8, true) => 0.8,
            (IsaTier.Avx512, 8, 32, false) => 1.0,
            (IsaTier.Avx512, 24, 8, false) => 0.95,
            (IsaTier.Avx512, 16, 16, false) => 0.88,
            (IsaTier.Avx2Fma, _, _, _) => Avx2Speed(k, g.Taps) * (BestTier == IsaTier.Avx512 ? 0.8 : 1.0),
            _ => 1.0,
        };
    }

    /// <summary>
    /// Channel-lane tiles relative to 16x16, from `lacuna bench dense-conv --set rn50 --json` (1 thread, direct_tiles_ms).
    /// Zen 5 (full-width 512-bit FMAs), ms 16x14 / 32x7 / 32x14 / 48x7: 3x3 64@56 1.48 / 1.10 / 1.08 / 1.61, 3x3 256@14
    /// 1.41 / 1.12 / 1.09 / 1.25, 3x3 512@7 (OW 7) — / 1.25 / — / 1.28, 1x1 1024->256@14 0.70 / 0.48 / 0.47 / 0.54,
    /// 1x1 256->64@56 0.68 / 0.50 / 0.48 / 0.73: the two-weight-vector tiles run 1.3x 16x14, whose 15 loads per 14
    /// FMAs bind it where these spend 16 per 28 (32x14) and 9 per 14 (32x7); 48x7 (10 per 21) falls between.
    /// On Zen 4, whose 512-bit FMA is two halves, 16x14 and 32x7 were within 3 % (the table below), so the order
    /// costs nothing there, and the planner times the runner-up (<see cref="Ranked"/>).
    /// </summary>
    private static double ChannelLaneSpeed(DirectConvKernel k) => (k.Rows, k.Width) switch
    {
        (32, 14) => 1.37,
        (32, 7) => 1.35,
        (48, 7) => 1.2,
        _ => 1.05,
    };

    private static double Avx2Speed(DirectConvKernel k, int taps) => (k.Rows, k.Width, taps > 1) switch
    {
        (6, 16, true) => 1.0,
        (6, 16, false) => 0.75,
        (4, 24, false) => 0.6,
        (8, 8, false) => 1.0,
        _ => 0.9,
    };

    /// <summary>Fraction of computed lanes that are real: n / (ceil(n / tile) · tile).</summary>
    public static double Utilization(int n, int tile) => (double)n / ((n + tile - 1) / tile * tile);
}
