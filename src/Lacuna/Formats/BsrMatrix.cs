namespace Lacuna.Formats;

/// <summary>
/// Block compressed sparse row matrix [Rows × Cols] with dense blocks of <see cref="BlockRows"/> × <see cref="BlockCols"/>
/// (any r×c up to <see cref="MaxBlockSide"/>; the block SpMM in Kernels/BlockSpmm runs r×1 and r×c, one loaded X
/// vector feeding r FMAs, and pattern pruning makes e.g. 16×1, 8×1, 4×1 or 4×4). The matrix is tiled into
/// ceil(Rows/BlockRows) block rows by ceil(Cols/BlockCols) block columns; a block is stored when any of its
/// elements is non-zero. Blocks that hang over the right or bottom edge are stored full size with the
/// outside part zero, so a kernel never needs a partial-block branch on the weights.
/// <para>Lengths: BlockRowOffsets = BlockRowCount + 1; BlockColumnIndices = BlockCount;
/// Values = BlockCount · BlockRows · BlockCols, block b's element (i, j) at <c>Values[b·BlockRows·BlockCols + i·BlockCols + j]</c>
/// (row-major within a block). Block columns are sorted and unique within a block row.</para>
/// The constructor takes ownership of the arrays and validates them, naming the block row and entry at fault.
/// </summary>
public sealed class BsrMatrix
{
    /// <summary>Largest block side accepted (the scalar block SpMM body holds at most 16 rows).</summary>
    public const int MaxBlockSide = 16;

    public BsrMatrix(int rows, int cols, int blockRows, int blockCols, int[] blockRowOffsets, int[] blockColumnIndices, float[] values)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckBlock(blockRows, blockCols);
        if (blockRowOffsets is null) ThrowHelper.ArgumentNull(nameof(blockRowOffsets));
        if (blockColumnIndices is null) ThrowHelper.ArgumentNull(nameof(blockColumnIndices));
        if (values is null) ThrowHelper.ArgumentNull(nameof(values));
        Rows = rows; Cols = cols; BlockRows = blockRows; BlockCols = blockCols;
        BlockRowOffsets = blockRowOffsets; BlockColumnIndices = blockColumnIndices; Values = values;
        Validate();
    }

    public int Rows { get; }
    public int Cols { get; }
    public int BlockRows { get; }
    public int BlockCols { get; }
    public int BlockRowCount => (Rows + BlockRows - 1) / BlockRows;
    public int BlockColCount => (Cols + BlockCols - 1) / BlockCols;
    public int BlockSize => BlockRows * BlockCols;
    public int BlockCount => BlockColumnIndices.Length;
    public int[] BlockRowOffsets { get; }
    public int[] BlockColumnIndices { get; }
    public float[] Values { get; }

    /// <summary>Exact non-zeros among the stored elements.</summary>
    public int Nnz
    {
        get
        {
            int n = 0;
            foreach (float v in Values) if (v != 0f) n++;
            return n;
        }
    }

    /// <summary>Fraction of stored elements that are non-zero (1 for a perfectly blocked matrix; 1 when nothing is stored).</summary>
    public double BlockFill => Values.Length == 0 ? 1.0 : (double)Nnz / Values.Length;

    private static void CheckBlock(int blockRows, int blockCols)
    {
        if (blockRows < 1 || blockRows > MaxBlockSide)
            ThrowHelper.OutOfRange(nameof(blockRows), blockRows, $"Block rows must be in [1, {MaxBlockSide}].");
        if (blockCols < 1 || blockCols > MaxBlockSide)
            ThrowHelper.OutOfRange(nameof(blockCols), blockCols, $"Block columns must be in [1, {MaxBlockSide}].");
    }

    private void Validate()
    {
        int brCount = BlockRowCount, bcCount = BlockColCount, nBlocks = BlockColumnIndices.Length;
        var offsets = BlockRowOffsets;
        if (offsets.Length != brCount + 1)
            ThrowHelper.Format("bsr.blockRowOffsets", $"has {offsets.Length} entries but {brCount} block rows need {brCount + 1}.");
        if (offsets[0] != 0)
            ThrowHelper.Format("bsr.blockRowOffsets[0]", $"must be 0 but is {offsets[0]}.");
        if (offsets[brCount] != nBlocks)
            ThrowHelper.Format($"bsr.blockRowOffsets[{brCount}]", $"is {offsets[brCount]} but there are {nBlocks} blocks.");
        if (Values.Length != (long)nBlocks * BlockSize)
            ThrowHelper.Format("bsr.values", $"has {Values.Length} entries but {nBlocks} blocks of {BlockRows}×{BlockCols} need {(long)nBlocks * BlockSize}.");
        for (int br = 0; br < brCount; br++)
        {
            int start = offsets[br], end = offsets[br + 1];
            if (end < start)
                ThrowHelper.Format($"bsr block row {br}", $"block row offsets decrease ({start} then {end}).");
            if (end > nBlocks)
                ThrowHelper.Format($"bsr block row {br}", $"ends at {end}, past the {nBlocks} blocks.");
            int prev = -1;
            for (int b = start; b < end; b++)
            {
                int bc = BlockColumnIndices[b];
                string where = $"bsr block row {br}, entry {b - start}";
                if ((uint)bc >= (uint)bcCount)
                    ThrowHelper.Format(where, $"block column {bc} is outside [0, {bcCount}).");
                if (bc == prev) ThrowHelper.Format(where, $"block column {bc} is duplicated.");
                if (bc < prev) ThrowHelper.Format(where, $"block columns are not sorted ({prev} then {bc}).");
                prev = bc;
                ValidateBlock(br, bc, b, where);
            }
        }
    }

    private void ValidateBlock(int br, int bc, int b, string where)
    {
        for (int i = 0; i < BlockRows; i++)
            for (int j = 0; j < BlockCols; j++)
            {
                float v = Values[b * BlockSize + i * BlockCols + j];
                int r = br * BlockRows + i, c = bc * BlockCols + j;
                if (!float.IsFinite(v))
                    ThrowHelper.Format(where, $"value at ({r}, {c}) is {v}; only finite values are allowed.");
                if (v != 0f && (r >= Rows || c >= Cols))
                    ThrowHelper.Format(where, $"element ({r}, {c}) lies outside the [{Rows}×{Cols}] matrix but is {v}; edge padding must be zero.");
            }
    }

    /// <summary>Tiles a dense row-major [rows × cols] matrix; blocks that are entirely zero are not stored.</summary>
    public static BsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int cols, int blockRows, int blockCols)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckBlock(blockRows, blockCols);
        ThrowHelper.IfTooShort(dense.Length, (long)rows * cols, nameof(dense), $"a [{rows}×{cols}] matrix");
        CsrMatrix.CheckFinite(dense[..(rows * cols)], cols, nameof(dense));
        var builder = new Builder(rows, cols, blockRows, blockCols);
        var blockOf = new int[builder.BlockColCount];
        for (int br = 0; br < builder.BlockRowCount; br++)
        {
            Array.Fill(blockOf, -1);
            int r0 = br * blockRows, r1 = Math.Min(rows, r0 + blockRows);
            // Pass 1: which block columns have a non-zero (in column order, so they come out sorted).
            for (int c = 0; c < cols; c++)
                for (int r = r0; r < r1; r++)
                    if (dense[r * cols + c] != 0f) { blockOf[c / blockCols] = 0; break; }
            for (int bc = 0; bc < blockOf.Length; bc++)
                if (blockOf[bc] == 0) blockOf[bc] = builder.AddBlock(bc);
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < cols; c++)
                {
                    float v = dense[r * cols + c];
                    if (v != 0f) builder.Set(blockOf[c / blockCols], r - r0, c % blockCols, v);
                }
            builder.EndBlockRow();
        }
        return builder.Build();
    }

    /// <summary>Groups a CSR matrix's non-zeros into blocks; stored entries keep their exact values.</summary>
    public static BsrMatrix FromCsr(CsrMatrix csr, int blockRows, int blockCols)
    {
        if (csr is null) ThrowHelper.ArgumentNull(nameof(csr));
        CheckBlock(blockRows, blockCols);
        var builder = new Builder(csr.Rows, csr.Cols, blockRows, blockCols);
        var blockOf = new int[builder.BlockColCount];
        for (int br = 0; br < builder.BlockRowCount; br++)
        {
            Array.Fill(blockOf, -1);
            int r0 = br * blockRows, r1 = Math.Min(csr.Rows, r0 + blockRows);
            for (int r = r0; r < r1; r++)
                for (int i = csr.RowOffsets[r]; i < csr.RowOffsets[r + 1]; i++)
                    blockOf[csr.ColumnIndices[i] / blockCols] = 0;
            for (int bc = 0; bc < blockOf.Length; bc++)
                if (blockOf[bc] == 0) blockOf[bc] = builder.AddBlock(bc);
            for (int r = r0; r < r1; r++)
                for (int i = csr.RowOffsets[r]; i < csr.RowOffsets[r + 1]; i++)
                {
                    int c = csr.ColumnIndices[i];
                    builder.Set(blockOf[c / blockCols], r - r0, c % blockCols, csr.Values[i]);
                }
            builder.EndBlockRow();
        }
        return builder.Build();
    }

    /// <summary>The dense [Rows × Cols] row-major matrix (edge padding dropped).</summary>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Cols];
        for (int br = 0; br < BlockRowCount; br++)
            for (int b = BlockRowOffsets[br]; b < BlockRowOffsets[br + 1]; b++)
                for (int i = 0; i < BlockRows; i++)
                {
                    int r = br * BlockRows + i;
                    if (r >= Rows) break;
                    for (int j = 0; j < BlockCols; j++)
                    {
                        int c = BlockColumnIndices[b] * BlockCols + j;
                        if (c < Cols) dense[(long)r * Cols + c] = Values[b * BlockSize + i * BlockCols + j];
                    }
                }
        return dense;
    }

    /// <summary>The CSR form with the explicit zeros inside blocks dropped.</summary>
    public CsrMatrix ToCsr()
    {
        var offsets = new int[Rows + 1];
        var columns = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < Rows; r++)
        {
            int br = r / BlockRows, i = r % BlockRows;
            // Blocks are sorted by block column and j runs left to right, so the row comes out sorted.
            for (int b = BlockRowOffsets[br]; b < BlockRowOffsets[br + 1]; b++)
                for (int j = 0; j < BlockCols; j++)
                {
                    float v = Values[b * BlockSize + i * BlockCols + j];
                    if (v != 0f) { columns.Add(BlockColumnIndices[b] * BlockCols + j); values.Add(v); }
                }
            offsets[r + 1] = columns.Count;
        }
        return new CsrMatrix(Rows, Cols, offsets, [.. columns], [.. values]);
    }

    public override string ToString() =>
        $"BsrMatrix [{Rows}×{Cols}] blocks {BlockRows}×{BlockCols}, {BlockCount} blocks, fill {BlockFill:P1}";

    /// <summary>Accumulates blocks one block row at a time, in sorted block-column order.</summary>
    private sealed class Builder(int rows, int cols, int blockRows, int blockCols)
    {
        public int BlockRowCount { get; } = (rows + blockRows - 1) / blockRows;
        public int BlockColCount { get; } = (cols + blockCols - 1) / blockCols;
        private readonly List<int> _offsets = [0];
        private readonly List<int> _columns = [];
        private readonly List<float> _values = [];

        public int AddBlock(int bc)
        {
            _columns.Add(bc);
            for (int k = 0; k < blockRows * blockCols; k++) _values.Add(0f);
            return _columns.Count - 1;
        }

        public void Set(int block, int i, int j, float v) => _values[block * blockRows * blockCols + i * blockCols + j] = v;

        public void EndBlockRow() => _offsets.Add(_columns.Count);

        public BsrMatrix Build() => new(rows, cols, blockRows, blockCols, [.. _offsets], [.. _columns], [.. _values]);
    }
}
