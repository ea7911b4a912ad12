namespace Lacuna.Formats;

/// <summary>
/// Compressed sparse row matrix, [Rows × Cols]: row r holds the non-zeros
/// <c>Values[RowOffsets[r] .. RowOffsets[r+1])</c> at columns <c>ColumnIndices[same range]</c>, sorted, no duplicates.
/// Lengths: RowOffsets = Rows + 1, ColumnIndices = Values = Nnz. The constructor takes ownership of the arrays
/// (callers must not change them afterwards), validates everything and names the row at fault, so kernels can
/// trust the layout. Indices are 32-bit; when Cols ≤ 65536 a 16-bit copy (<see cref="ColumnIndices16"/>)
/// halves the index stream a kernel reads.
/// </summary>
public sealed class CsrMatrix
{
    private ushort[]? _columnIndices16;

    public CsrMatrix(int rows, int cols, int[] rowOffsets, int[] columnIndices, float[] values)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        if (rowOffsets is null) ThrowHelper.ArgumentNull(nameof(rowOffsets));
        if (columnIndices is null) ThrowHelper.ArgumentNull(nameof(columnIndices));
        if (values is null) ThrowHelper.ArgumentNull(nameof(values));
        Validate(rows, cols, rowOffsets, columnIndices, values);
        Rows = rows; Cols = cols;
        RowOffsets = rowOffsets; ColumnIndices = columnIndices; Values = values;
    }

    public int Rows { get; }
    public int Cols { get; }
    public int Nnz => Values.Length;
    public int[] RowOffsets { get; }
    public int[] ColumnIndices { get; }
    public float[] Values { get; }

    /// <summary>Fraction of zero entries: 1 - nnz / (rows·cols); 1 for an empty shape.</summary>
    public double Sparsity => Rows == 0 || Cols == 0 ? 1.0 : 1.0 - (double)Nnz / ((long)Rows * Cols);

    public int RowLength(int row) => RowOffsets[row + 1] - RowOffsets[row];

    /// <summary>True when every column index fits in 16 bits (Cols ≤ 65536), halving index traffic.</summary>
    public bool Fits16BitIndices => Cols <= 65536;

    /// <summary>
    /// Column indices as 16-bit values (index = value, same length and order as <see cref="ColumnIndices"/>), built
    /// once on first use (a racing second build produces an identical array); throws when Cols &gt; 65536.
    /// </summary>
    public ushort[] ColumnIndices16
    {
        get
        {
            if (!Fits16BitIndices)
                ThrowHelper.NotSupported($"A matrix with {Cols} columns cannot use 16-bit column indices (at most 65536).");
            return _columnIndices16 ??= Array.ConvertAll(ColumnIndices, c => (ushort)c);
        }
    }

    private static void Validate(int rows, int cols, int[] offsets, int[] cols_, float[] values)
    {
        if (offsets.Length != rows + 1)
            ThrowHelper.Format("csr.rowOffsets", $"has {offsets.Length} entries but a matrix with {rows} rows needs {rows + 1}.");
        if (offsets[0] != 0)
            ThrowHelper.Format("csr.rowOffsets[0]", $"must be 0 but is {offsets[0]}.");
        if (cols_.Length != values.Length)
            ThrowHelper.Format("csr", $"has {cols_.Length} column indices but {values.Length} values.");
        if (offsets[rows] != values.Length)
            ThrowHelper.Format($"csr.rowOffsets[{rows}]", $"is {offsets[rows]} but there are {values.Length} non-zeros.");
        for (int r = 0; r < rows; r++)
        {
            int start = offsets[r], end = offsets[r + 1];
            if (end < start)
                ThrowHelper.Format($"csr row {r}", $"row offsets decrease ({start} then {end}).");
            if (end > values.Length)
                ThrowHelper.Format($"csr row {r}", $"ends at {end}, past the {values.Length} non-zeros.");
            int prev = -1;
            for (int i = start; i < end; i++)
            {
                int c = cols_[i];
                if ((uint)c >= (uint)cols)
                    ThrowHelper.Format($"csr row {r}, entry {i - start}", $"column index {c} is outside [0, {cols}).");
                if (c == prev)
                    ThrowHelper.Format($"csr row {r}, entry {i - start}", $"column index {c} is duplicated.");
                if (c < prev)
                    ThrowHelper.Format($"csr row {r}, entry {i - start}", $"column indices are not sorted ({prev} then {c}).");
                if (!float.IsFinite(values[i]))
                    ThrowHelper.Format($"csr row {r}, entry {i - start}", $"value at column {c} is {values[i]}; only finite values are allowed.");
                prev = c;
            }
        }
    }

    /// <summary>Keeps entries with |value| &gt; <paramref name="threshold"/> (0: every exact non-zero).</summary>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int cols, float threshold = 0f)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(dense.Length, (long)rows * cols, nameof(dense), $"a [{rows}×{cols}] matrix");
        CheckFinite(dense[..(rows * cols)], cols, nameof(dense));
        if (!(threshold >= 0f)) ThrowHelper.OutOfRange(nameof(threshold), threshold, "Threshold must be a non-negative number.");
        var offsets = new int[rows + 1];
        int nnz = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
                if (MathF.Abs(dense[r * cols + c]) > threshold) nnz++;
            offsets[r + 1] = nnz;
        }
        var idx = new int[nnz];
        var vals = new float[nnz];
        int k = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                float v = dense[r * cols + c];
                if (MathF.Abs(v) > threshold) { idx[k] = c; vals[k] = v; k++; }
            }
        return new CsrMatrix(rows, cols, offsets, idx, vals);
    }

    /// <summary>Rejects NaN and ±Inf in a dense row-major matrix, naming the element (a NaN would otherwise be dropped as "not &gt; threshold").</summary>
    internal static void CheckFinite(ReadOnlySpan<float> dense, int cols, string paramName)
    {
        for (int i = 0; i < dense.Length; i++)
            if (!float.IsFinite(dense[i]))
                ThrowHelper.Argument(paramName, $"Element ({i / cols}, {i % cols}) of '{paramName}' is {dense[i]}; only finite values can be stored sparsely.");
    }

    /// <summary>The dense [Rows × Cols] row-major matrix.</summary>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int i = RowOffsets[r]; i < RowOffsets[r + 1]; i++)
                dense[(long)r * Cols + ColumnIndices[i]] = Values[i];
        return dense;
    }

    /// <summary>The [Cols × Rows] transpose, still sorted (a counting sort over columns).</summary>
    public CsrMatrix Transpose()
    {
        var offsets = new int[Cols + 1];
        foreach (int c in ColumnIndices) offsets[c + 1]++;
        for (int c = 0; c < Cols; c++) offsets[c + 1] += offsets[c];
        var next = (int[])offsets.Clone();
        var idx = new int[Nnz];
        var vals = new float[Nnz];
        for (int r = 0; r < Rows; r++)
            for (int i = RowOffsets[r]; i < RowOffsets[r + 1]; i++)
            {
                int dst = next[ColumnIndices[i]]++;
                idx[dst] = r;
                vals[dst] = Values[i];
            }
        return new CsrMatrix(Cols, Rows, offsets, idx, vals);
    }

    /// <summary>
    /// Splits the rows into <paramref name="parts"/> contiguous ranges of nearly equal non-zero count
    /// (random pruning leaves rows of very different lengths, so equal row counts would not balance threads).
    /// Returns parts + 1 row boundaries: part p owns rows [bounds[p], bounds[p+1]).
    /// </summary>
    public int[] PartitionRowsByNnz(int parts) => PartitionRowsByNnz(RowOffsets, parts);

    /// <summary><see cref="PartitionRowsByNnz(int)"/> from the row offsets alone (plans that keep no CSR matrix).</summary>
    internal static int[] PartitionRowsByNnz(int[] rowOffsets, int parts)
    {
        if (parts < 1) ThrowHelper.OutOfRange(nameof(parts), parts, "At least one part is needed.");
        int rows = rowOffsets.Length - 1;
        var bounds = new int[parts + 1];
        bounds[parts] = rows;
        // Cost of a row: its non-zeros plus one, so empty rows (which still write output) are not free.
        long total = rowOffsets[rows] + (long)rows;
        int row = 0;
        for (int p = 1; p < parts; p++)
        {
            long target = total * p / parts;
            while (row < rows && rowOffsets[row] + (long)row < target) row++;
            bounds[p] = Math.Max(row, bounds[p - 1]);
        }
        return bounds;
    }

    /// <summary>Min, mean and max non-zeros per row (all 0 for a matrix without rows).</summary>
    public (int Min, double Mean, int Max) RowLengthStats()
    {
        if (Rows == 0) return (0, 0, 0);
        int min = int.MaxValue, max = 0;
        for (int r = 0; r < Rows; r++) { int l = RowLength(r); min = Math.Min(min, l); max = Math.Max(max, l); }
        return (min, (double)Nnz / Rows, max);
    }

    /// <summary>Population standard deviation of the non-zeros per row: how unequal a split by row count would be.</summary>
    public double RowLengthStdDev()
    {
        if (Rows == 0) return 0;
        double mean = (double)Nnz / Rows, sum = 0;
        for (int r = 0; r < Rows; r++) { double d = RowLength(r) - mean; sum += d * d; }
        return Math.Sqrt(sum / Rows);
    }

    public override string ToString() => $"CsrMatrix [{Rows}×{Cols}], nnz={Nnz}, sparsity={Sparsity:P1}";
}
