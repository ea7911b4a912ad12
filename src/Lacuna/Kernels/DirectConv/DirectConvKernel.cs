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
    public DirectConvKernel(IsaTier tier, int rows, int width, delegate*<DirectConvArgs*, void> function)
    {
        Tier = tier; Rows = rows; Width = width; Function = function;
    }

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

    /// <summary>
    /// The best tier's entry for a layer: one-channel tiles when a group has fewer output channels than the
    /// smallest multi-channel tile (depthwise); otherwise the tile that wastes least of the
    /// Mg × OW grid (a tile computes full Rows × Width even at the edges), ties to the earlier entry.
    /// </summary>
    public static DirectConvKernel Choose(ConvGeometry g)
    {
        var tier = All.Where(k => k.Tier <= IsaTiers.Best && IsaTiers.IsSupported(k.Tier)).Max(k => k.Tier);
        var entries = All.Where(k => k.Tier == tier).ToArray();
        var multi = entries.Where(k => k.Rows > 1 && k.Rows <= g.Mg).ToArray();
        if (multi.Length == 0) return entries.First(k => k.Rows == 1);
        DirectConvKernel best = multi[0];
        double bestUse = -1;
        foreach (var k in multi)
        {
            double use = Utilization(g.Mg, k.Rows) * Utilization(g.OW, k.Width);
            if (use > bestUse + 1e-9) { best = k; bestUse = use; }
        }
        return best;
    }

    /// <summary>Fraction of computed lanes that are real: n / (ceil(n / tile) · tile).</summary>
    public static double Utilization(int n, int tile) => (double)n / ((n + tile - 1) / tile * tile);
}
