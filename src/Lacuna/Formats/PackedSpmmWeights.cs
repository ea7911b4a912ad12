namespace Lacuna.Formats;

/// <summary>
/// The kernel-native layout of a sparse weight matrix W[M×K] for SpMM <c>Y[M×N] = W · X[K×N]</c> with X dense
/// row-major (row stride <see cref="XRowStride"/> floats), in the spirit of XNNPACK's f32-spmm packing:
/// the column index of each non-zero is pre-converted into the byte distance the kernel's X pointer must move,
/// so the inner loop is "load delta, advance pointer, broadcast value, FMA a vector of X" with no multiply.
/// <para>Layout (all arrays in row order, lengths exact):</para>
/// <list type="bullet">
/// <item><see cref="RowCounts"/>[M]: non-zeros in output row r.</item>
/// <item><see cref="RowStarts"/>[M+1]: prefix sums of RowCounts (RowStarts[0] = 0, RowStarts[M] = Nnz), so a
///   thread that owns rows [r0, r1) starts reading Values and ByteDeltas at RowStarts[r0].</item>
/// <item><see cref="Values"/>[Nnz]: the non-zero weights, row r's in Values[RowStarts[r] .. RowStarts[r+1]).</item>
/// <item><see cref="ByteDeltas"/>[Nnz]: for the first non-zero of a row, <c>col · XRowStride · sizeof(float)</c>
///   (a byte offset from the start of X); for every later one, <c>(col − previousCol) · XRowStride · sizeof(float)</c>
///   (strictly positive, as columns are sorted). Every row restarts from X's base, so rows are independent
///   and can be split across threads anywhere.</item>
/// </list>
/// The deltas depend only on the row stride, not on which columns of X a kernel works on: a kernel that tiles N
/// starts its pointer at <c>X + j0</c> and applies the same deltas, so one packing serves every N tile.
/// Construction requires <c>(K − 1) · XRowStride · 4 &lt; 2³¹</c> so every offset fits an int.
/// </summary>
public sealed class PackedSpmmWeights
{
    private PackedSpmmWeights(int rows, int cols, int xRowStride, int[] rowCounts, int[] rowStarts, float[] values, int[] byteDeltas)
    {
        Rows = rows; Cols = cols; XRowStride = xRowStride;
        RowCounts = rowCounts; RowStarts = rowStarts; Values = values; ByteDeltas = byteDeltas;
    }

    /// <summary>M: output rows.</summary>
    public int Rows { get; }

    /// <summary>K: columns of W, rows of X.</summary>
    public int Cols { get; }

    /// <summary>Row stride of X in floats (N for a packed X[K×N]); the deltas are scaled by it.</summary>
    public int XRowStride { get; }

    public int Nnz => Values.Length;
    public int[] RowCounts { get; }
    public int[] RowStarts { get; }
    public float[] Values { get; }
    public int[] ByteDeltas { get; }

    /// <summary>
    /// Packs <paramref name="csr"/> for an X whose rows are <paramref name="xRowStride"/> floats apart
    /// (N when X is [K×N] contiguous). The stride must be at least 1 so the column can be recovered.
    /// </summary>
    public static PackedSpmmWeights FromCsr(CsrMatrix csr, int xRowStride)
    {
        if (csr is null) ThrowHelper.ArgumentNull(nameof(csr));
        if (xRowStride < 1)
            ThrowHelper.OutOfRange(nameof(xRowStride), xRowStride, "The X row stride must be at least 1 float.");
        long rowBytes = (long)xRowStride * sizeof(float);
        if (csr.Cols > 0 && (csr.Cols - 1) * rowBytes > int.MaxValue)
            ThrowHelper.OutOfRange(nameof(xRowStride), xRowStride,
                $"Byte offsets into X [{csr.Cols}×{xRowStride}] exceed 2^31; split the matrix or use a smaller N.");

        int rows = csr.Rows;
        var counts = new int[rows];
        var starts = (int[])csr.RowOffsets.Clone();
        var values = (float[])csr.Values.Clone();
        var deltas = new int[csr.Nnz];
        for (int r = 0; r < rows; r++)
        {
            counts[r] = csr.RowLength(r);
            int prev = 0;
            for (int i = starts[r]; i < starts[r + 1]; i++)
            {
                int c = csr.ColumnIndices[i];
                deltas[i] = (int)((c - prev) * rowBytes);
                prev = c;
            }
        }
        return new PackedSpmmWeights(rows, csr.Cols, xRowStride, counts, starts, values, deltas);
    }

    /// <summary>Undoes the packing: accumulates the deltas back into column indices, validating as it goes.</summary>
    public CsrMatrix ToCsr()
    {
        long rowBytes = (long)XRowStride * sizeof(float);
        var columns = new int[Nnz];
        for (int r = 0; r < Rows; r++)
        {
            long offset = 0;
            for (int i = RowStarts[r]; i < RowStarts[r + 1]; i++)
            {
                offset += ByteDeltas[i];
                if (offset % rowBytes != 0)
                    ThrowHelper.Format($"packed row {r}, entry {i - RowStarts[r]}", $"byte offset {offset} is not a multiple of the X row size {rowBytes}.");
                columns[i] = (int)(offset / rowBytes);
            }
        }
        return new CsrMatrix(Rows, Cols, (int[])RowStarts.Clone(), columns, (float[])Values.Clone());
    }

    public override string ToString() => $"PackedSpmmWeights [{Rows}×{Cols}] for X row stride {XRowStride}, nnz={Nnz}";
}
