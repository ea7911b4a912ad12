namespace Lacuna.Kernels.Train;

/// <summary>
/// Arguments of a row kernel, the body of FWD and BWI (BWI is FWD of dy with the weights transposed and
/// flipped, see <see cref="ConvTrainPacking"/>). For each of <see cref="Width"/> output pixels of one output row
/// and one input block (8 input lanes) it adds, for a tile of T = <see cref="ConvTrainKernel.TileBlocks"/> output blocks
/// (8·T output channels, one Vector256 each; T = 8, or 4 for layers of at most 32 output channels):
/// acc[ow][r][:] += Σ_{kh, kw, lane} in[kh·RowStride + (ow + kw)·8 + lane] · w[kh][kw·8 + lane][r][:].
/// A sparse kernel visits only the non-zero in[...] (a vector compare of 8 lanes, a bit mask, its set bits).
/// </summary>
internal unsafe struct ConvTrainRowArgs
{
    /// <summary>Spatially padded operand at (image, input block, first input row of this output row, column 0).</summary>
    public float* Input;
    /// <summary>Floats between two padded rows: (W + 2·pad) · 8.</summary>
    public nint RowStride;
    /// <summary>[KH][KW·8][T][8]: packed weights of this output tile and input block.</summary>
    public float* Weights;
    /// <summary>[Width][T][8] accumulators, read and written.</summary>
    public float* Acc;
    public int Width, KH, KW;
}

/// <summary>
/// Arguments of a weight-gradient (BWW) kernel over one channel c of one image and a strip of rows:
/// for each of 9 slots s = 3·i + j, acc[s][:] += Σ_{ih &lt; Rows, iw &lt; Width} x[ih·XRowStride + iw] · dy[ih·DyRowStride + iw·8 + Offsets[i] + Offsets[3 + j]].
/// With 3x3, slot s is tap (kh, kw) and its offset points at dy[oh = ih - kh + pad][ow = iw - kw + pad] in the padded dy;
/// with 1x1, slot s is output block s of a group of 9. A sparse kernel visits only non-zero x, 64 pixels per mask.
/// </summary>
internal unsafe struct ConvTrainWeightArgs
{
    /// <summary>Row layout of x: channel c of one image at the strip's first row, [Rows][XRowStride], zero past Width.</summary>
    public float* X;
    /// <summary>Floats between rows of <see cref="X"/>: W rounded up to 8.</summary>
    public nint XRowStride;
    /// <summary>Padded dy of the image and first output block, at the strip's first row.</summary>
    public float* Dy;
    /// <summary>Floats between padded dy rows: (W + 2·pad) · 8.</summary>
    public nint DyRowStride;
    /// <summary>[6]: 3 row offsets then 3 column offsets (floats) whose sums place the 9 slots relative to the pixel's dy.</summary>
    public int* Offsets;
    public int Rows, Width;
    /// <summary>[9][8] accumulators, read and written.</summary>
    public float* Acc;
}

/// <summary>
/// One registry entry: a tier, dense or sparse, the output blocks of its row tile, and its row (FWD/BWI) and
/// weight-gradient (BWW) kernels.
/// </summary>
internal sealed unsafe class ConvTrainKernel
{
    public ConvTrainKernel(IsaTier tier, bool sparse, delegate*<ConvTrainRowArgs*, void> rows, delegate*<ConvTrainWeightArgs*, void> weights,
        int tileBlocks = 8)
    {
        Tier = tier; Sparse = sparse; Rows = rows; Weights = weights; TileBlocks = tileBlocks;
    }

    public IsaTier Tier { get; }
    public bool Sparse { get; }
    /// <summary>Output blocks (of 8 channels) per row-kernel tile: 8, or 4 for narrow layers.</summary>
    public int TileBlocks { get; }
    public delegate*<ConvTrainRowArgs*, void> Rows { get; }
    public delegate*<ConvTrainWeightArgs*, void> Weights { get; }
    public string Name => $"{Tier} {(Sparse ? "sparse" : "dense")} tile {TileBlocks * 8}";
    public override string ToString() => Name;
}

/// <summary>The SparseTrain registry: the one list the dispatcher, the tests and the benchmark read.</summary>
internal static unsafe class ConvTrainRegistry
{
    public static readonly ConvTrainKernel[] All =
    {
        new(IsaTier.Avx2Fma, false, &ConvTrain.Avx2RowsDense, &ConvTrain.Avx2WeightsDense),
        new(IsaTier.Avx2Fma, true, &ConvTrain.Avx2RowsSparse, &ConvTrain.Avx2WeightsSparse),
        new(IsaTier.Avx2Fma, false, &ConvTrain.Avx2RowsDense4, &ConvTrain.Avx2WeightsDense, tileBlocks: 4),
        new(IsaTier.Avx2Fma, true, &ConvTrain.Avx2RowsSparse4, &ConvTrain.Avx2WeightsSparse, tileBlocks: 4),
        new(IsaTier.Vector128, false, &ConvTrain.Vector128RowsDense, &ConvTrain.Vector128WeightsDense),
        new(IsaTier.Vector128, true, &ConvTrain.Vector128RowsSparse, &ConvTrain.Vector128WeightsSparse),
        new(IsaTier.Scalar, false, &ConvTrain.ScalarRowsDense, &ConvTrain.ScalarWeightsDense),
        new(IsaTier.Scalar, true, &ConvTrain.ScalarRowsSparse, &ConvTrain.ScalarWeightsSparse),
    };

    /// <summary>Entries this process can run.</summary>
    public static IEnumerable<ConvTrainKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The tier this family runs at in this process.</summary>
    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>The best tier's dense or sparse entry with the full 64-channel tile.</summary>
    public static ConvTrainKernel Best(bool sparse) => Best(sparse, int.MaxValue);

    /// <summary>
    /// The best tier's dense or sparse entry for a row pass with <paramref name="outBlocks"/> output blocks: the 32-channel
    /// tile when the output fits in it (a 64-channel tile would spend half its FMAs on padding: `bench train-conv
    /// --net fashion-vgg` measured the 32->32@28 layer at 15 GFLOP/s against 31-39 on the 64- and 128-channel layers).
    /// </summary>
    public static ConvTrainKernel Best(bool sparse, int outBlocks) =>
        s_best[(sparse ? 2 : 0) + (outBlocks <= 4 ? 1 : 0)];

    // Resolved once (the tier is fixed per process); Best runs on every FWD/BWI call. Index: 2·sparse + narrow.
    private static readonly ConvTrainKernel[] s_best = [Pick(false, false), Pick(false, true), Pick(true, false), Pick(true, true)];

    private static ConvTrainKernel Pick(bool sparse, bool narrow)
    {
        var tier = Supported.Where(k => k.Sparse == sparse).Max(k => k.Tier);
        var candidates = Supported.Where(k => k.Sparse == sparse && k.Tier == tier).ToList();
        return (narrow ? candidates.FirstOrDefault(k => k.TileBlocks == 4) : null) ?? candidates.First(k => k.TileBlocks == 8);
    }
}
