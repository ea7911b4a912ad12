namespace Lacuna.Kernels.Attention;

/// <summary>
/// Sizes of one attention call: <see cref="Batch"/> × <see cref="Heads"/> independent products of
/// <see cref="QueryLength"/> query rows against <see cref="KeyLength"/> key/value rows of <see cref="HeadSize"/> floats.
/// Self-attention has equal lengths; cross-attention (a decoder reading the encoder) does not.
/// </summary>
public readonly record struct AttentionShape(int Batch, int Heads, int QueryLength, int KeyLength, int HeadSize);

/// <summary>
/// Where the rows of one head live in a Q, K, V or output buffer: row t of head h in batch b starts at
/// b·<see cref="BatchStride"/> + h·<see cref="HeadStride"/> + t·<see cref="RowStride"/>, its <c>HeadSize</c> floats
/// contiguous. Two layouts cover what transformer graphs produce:
/// <list type="bullet">
/// <item><see cref="HeadMajor"/>: [batch, heads, seq, dhead], what a graph holds after Transpose(0, 2, 1, 3).</item>
/// <item><see cref="TokenMajor"/>: [batch, seq, heads·dhead] (the projection's output before the head split, no
/// transpose needed), optionally one part of a wider row, as a fused QKV projection [batch, seq, 3·heads·dhead]
/// gives: pass the buffer sliced at the part's first column and <c>rowStride</c> = 3·heads·dhead.</item>
/// </list>
/// </summary>
public readonly record struct AttentionLayout(long BatchStride, long HeadStride, long RowStride)
{
    public static AttentionLayout HeadMajor(int heads, int seq, int headSize) =>
        new((long)heads * seq * headSize, (long)seq * headSize, headSize);

    public static AttentionLayout TokenMajor(int heads, int seq, int headSize, int rowStride = 0)
    {
        long row = rowStride == 0 ? (long)heads * headSize : rowStride;
        return new(seq * row, headSize, row);
    }

    /// <summary>Floats a buffer needs to hold every row this layout addresses.</summary>
    internal long Extent(int batch, int heads, int rows, int headSize) =>
        batch == 0 || heads == 0 || rows == 0 || headSize == 0 ? 0
            : (batch - 1) * BatchStride + (heads - 1) * HeadStride + (rows - 1) * RowStride + headSize;
}

/// <summary>
/// An additive attention mask [maskBatch, 1, maskRows, keys] broadcast over heads (BERT's extended mask
/// (1 - mask)·-10000 is [batch, 1, 1, seq]; a causal mask is [1, 1, seq, seq]): maskBatch is 1 or the batch,
/// maskRows 1 or the query length. Strides of 0 broadcast.
/// </summary>
public readonly record struct AttentionMask(int Batch, int Rows)
{
    internal long BatchStride(int keys) => Batch == 1 ? 0 : (long)Rows * keys;
    internal long RowStride(int keys) => Rows == 1 ? 0 : keys;
}
