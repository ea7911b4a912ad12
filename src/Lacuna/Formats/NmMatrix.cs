namespace Lacuna.Formats;

/// <summary>
/// An N:M structured sparse matrix [Rows × Cols]: along each row, every group of M consecutive columns (K positions)
/// holds at most N non-zeros; a last partial group of Cols mod M columns holds at most min(N, its width). With
/// <see cref="RowsPerPattern"/> r &gt; 1, r consecutive rows share one pattern (the same kept columns in every group),
/// which lets a kernel load one X vector per kept column and feed r rows from it; Rows need not be a multiple of r
/// (the last pattern row covers the rest).
/// <para>Layout. Each group has a fixed number of slots, <see cref="SlotsIn"/>(g) = min(N, group width), so every row
/// holds exactly <see cref="SlotsPerRow"/> values and every row costs a kernel the same work. <see cref="Metadata"/>
/// [PatternRows × Groups] packs a group's slot offsets (0..M-1 within the group, strictly increasing) as 4-bit
/// nibbles, slot s in bits 4s..4s+3 (N ≤ 15 slots fit a ulong), unused nibbles zero. <see cref="Values"/>
/// [Rows × SlotsPerRow] holds each row's slot values in group order; a slot with no non-zero behind it holds 0 at the
/// lowest offset the group leaves free.</para>
/// The constructor takes ownership of the arrays and validates everything, naming the row and group at fault.
/// </summary>
public sealed class NmMatrix
{
    public NmMatrix(int rows, int cols, int n, int m, int rowsPerPattern, ulong[] metadata, float[] values)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckShape(n, m, rowsPerPattern);
        if (metadata is null) ThrowHelper.ArgumentNull(nameof(metadata));
        if (values is null) ThrowHelper.ArgumentNull(nameof(values));
        Rows = rows; Cols = cols; N = n; M = m; RowsPerPattern = rowsPerPattern;
        Metadata = metadata; Values = values;
        Validate();
    }

    public int Rows { get; }
    public int Cols { get; }
    public int N { get; }
    public int M { get; }
    public int RowsPerPattern { get; }
    public ulong[] Metadata { get; }
    public float[] Values { get; }

    /// <summary>Groups of M columns per row, the last one partial when M does not divide Cols.</summary>
    public int Groups => (Cols + M - 1) / M;

    /// <summary>Rows of <see cref="Metadata"/>: ceil(Rows / r).</summary>
    public int PatternRows => (Rows + RowsPerPattern - 1) / RowsPerPattern;

    public int GroupWidth(int g) => Math.Min(M, Cols - g * M);

    public int SlotsIn(int g) => Math.Min(N, GroupWidth(g));

    /// <summary>Slots in one row: N per full group plus the partial group's.</summary>
    public int SlotsPerRow => Cols / M * N + (Cols % M == 0 ? 0 : Math.Min(N, Cols % M));

    /// <summary>Exact non-zeros (slots holding 0 do not count).</summary>
    public int Nnz => Values.Count(v => v != 0f);

    /// <summary>Offset (0..M-1) of slot s in group g of pattern row p.</summary>
    public int Offset(int p, int g, int s) => (int)(Metadata[(long)p * Groups + g] >> (4 * s)) & 0xF;

    /// <summary>The column (K index) of each slot of a row of pattern row p, in slot order.</summary>
    public int[] SlotColumns(int p)
    {
        var result = new int[SlotsPerRow];
        int i = 0;
        for (int g = 0; g < Groups; g++)
            for (int s = 0; s < SlotsIn(g); s++) result[i++] = g * M + Offset(p, g, s);
        return result;
    }

    internal static void CheckShape(int n, int m, int rowsPerPattern)
    {
        if (m < 2 || m > 16) ThrowHelper.OutOfRange(nameof(m), m, $"N:M needs 2 <= M <= 16 (4-bit offsets), got M = {m}.");
        if (n < 1 || n >= m) ThrowHelper.OutOfRange(nameof(n), n, $"N:M needs 1 <= N < M, got {n}:{m}.");
        if (rowsPerPattern < 1) ThrowHelper.OutOfRange(nameof(rowsPerPattern), rowsPerPattern, $"Rows per pattern must be at least 1, got {rowsPerPattern}.");
    }

    private void Validate()
    {
        long metaNeeded = (long)PatternRows * Groups, valuesNeeded = (long)Rows * SlotsPerRow;
        if (Metadata.Length != metaNeeded)
            ThrowHelper.Format("nm.metadata", $"has {Metadata.Length} entries but {PatternRows} pattern rows × {Groups} groups need {metaNeeded}.");
        if (Values.Length != valuesNeeded)
            ThrowHelper.Format("nm.values", $"has {Values.Length} entries but {Rows} rows × {SlotsPerRow} slots need {valuesNeeded}.");
        for (int p = 0; p < PatternRows; p++)
            for (int g = 0; g < Groups; g++)
            {
                ulong word = Metadata[(long)p * Groups + g];
                int slots = SlotsIn(g), width = GroupWidth(g), prev = -1;
                for (int s = 0; s < slots; s++)
                {
                    int off = (int)(word >> (4 * s)) & 0xF;
                    if (off >= width)
                        ThrowHelper.Format(Where(p, g), $"slot {s} has offset {off}, outside the group's {width} columns.");
                    if (off <= prev)
                        ThrowHelper.Format(Where(p, g), $"slot offsets must increase, got {prev} then {off}.");
                    prev = off;
                }
                if (slots < 16 && word >> (4 * slots) != 0)
                    ThrowHelper.Format(Where(p, g), $"metadata has bits set past its {slots} slots (0x{word:X}).");
            }
        for (int r = 0; r < Rows; r++)
            for (int i = 0; i < SlotsPerRow; i++)
                if (!float.IsFinite(Values[(long)r * SlotsPerRow + i]))
                    ThrowHelper.Format($"nm row {r}, slot {i}", $"value is {Values[(long)r * SlotsPerRow + i]}; only finite values are allowed.");
    }

    private string Where(int p, int g) => RowsPerPattern == 1
        ? $"nm row {p}, group {g}"
        : $"nm rows {p * RowsPerPattern}..{Math.Min(Rows, (p + 1) * RowsPerPattern) - 1} (pattern row {p}), group {g}";

    /// <summary>
    /// Null when dense W [rows × cols] is N:M along its rows (with r rows sharing: the union of their non-zero columns
    /// per group has at most N), else what is wrong, naming the row(s) and group.
    /// </summary>
    public static string? Violation(ReadOnlySpan<float> dense, int rows, int cols, int n, int m, int rowsPerPattern = 1)
    {
        CheckShape(n, m, rowsPerPattern);
        ThrowHelper.IfTooShort(dense.Length, (long)rows * cols, nameof(dense), $"a [{rows}×{cols}] matrix");
        int groups = (cols + m - 1) / m;
        for (int r0 = 0; r0 < rows; r0 += rowsPerPattern)
        {
            int r1 = Math.Min(rows, r0 + rowsPerPattern);
            for (int g = 0; g < groups; g++)
            {
                int c0 = g * m, c1 = Math.Min(cols, c0 + m), count = 0;
                for (int c = c0; c < c1; c++)
                    if (AnyNonZero(dense, cols, r0, r1, c)) count++;
                if (count > n)
                    return rowsPerPattern == 1
                        ? $"row {r0}, group {g} (columns {c0}..{c1 - 1}) has {count} non-zeros; {n}:{m} allows {n}."
                        : $"rows {r0}..{r1 - 1}, group {g} (columns {c0}..{c1 - 1}) use {count} distinct columns; {n}:{m} shared by {rowsPerPattern} rows allows {n}.";
            }
        }
        return null;
    }

    private static bool AnyNonZero(ReadOnlySpan<float> dense, int cols, int r0, int r1, int c)
    {
        for (int r = r0; r < r1; r++)
            if (dense[r * cols + c] != 0f) return true;
        return false;
    }

    /// <summary>
    /// Packs dense W [rows × cols] (already N:M; see <see cref="Violation"/>) exactly: every non-zero lands in a slot,
    /// free slots take the lowest unused offsets with value 0. Throws <see cref="LacunaFormatException"/> naming the
    /// first row and group that break the pattern.
    /// </summary>
    public static NmMatrix FromDense(ReadOnlySpan<float> dense, int rows, int cols, int n, int m, int rowsPerPattern = 1)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckShape(n, m, rowsPerPattern);
        ThrowHelper.IfTooShort(dense.Length, (long)rows * cols, nameof(dense), $"a [{rows}×{cols}] matrix");
        CsrMatrix.CheckFinite(dense[..(rows * cols)], cols, nameof(dense));
        if (Violation(dense, rows, cols, n, m, rowsPerPattern) is { } problem) ThrowHelper.Format("nm", problem);
        int groups = (cols + m - 1) / m, patternRows = (rows + rowsPerPattern - 1) / rowsPerPattern;
        int slotsPerRow = cols / m * n + (cols % m == 0 ? 0 : Math.Min(n, cols % m));
        var meta = new ulong[patternRows * groups];
        var values = new float[(long)rows * slotsPerRow];
        Span<int> offsets = stackalloc int[16];
        for (int p = 0; p < patternRows; p++)
        {
            int r0 = p * rowsPerPattern, r1 = Math.Min(rows, r0 + rowsPerPattern), slot0 = 0;
            for (int g = 0; g < groups; g++)
            {
                int c0 = g * m, width = Math.Min(m, cols - c0), slots = Math.Min(n, width), used = 0;
                for (int o = 0; o < width; o++)
                    if (AnyNonZero(dense, cols, r0, r1, c0 + o)) offsets[used++] = o;
                // Pad with the lowest free offsets, then sort: slots hold increasing offsets.
                for (int o = 0; used < slots; o++)
                    if (offsets[..used].IndexOf(o) < 0) offsets[used++] = o;
                offsets[..slots].Sort();
                ulong word = 0;
                for (int s = 0; s < slots; s++)
                {
                    word |= (ulong)offsets[s] << (4 * s);
                    for (int r = r0; r < r1; r++)
                        values[(long)r * slotsPerRow + slot0 + s] = dense[r * cols + c0 + offsets[s]];
                }
                meta[p * groups + g] = word;
                slot0 += slots;
            }
        }
        return new NmMatrix(rows, cols, n, m, rowsPerPattern, meta, values);
    }

    public static NmMatrix FromCsr(CsrMatrix csr, int n, int m, int rowsPerPattern = 1)
    {
        if (csr is null) ThrowHelper.ArgumentNull(nameof(csr));
        return FromDense(csr.ToDense(), csr.Rows, csr.Cols, n, m, rowsPerPattern);
    }

    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Cols];
        AddTo(dense);
        return dense;
    }

    /// <summary>Adds this matrix into dense [Rows × Cols] (the TASD reconstruction sums terms this way).</summary>
    public void AddTo(Span<float> dense)
    {
        ThrowHelper.IfTooShort(dense.Length, (long)Rows * Cols, nameof(dense), $"a [{Rows}×{Cols}] matrix");
        for (int p = 0; p < PatternRows; p++)
        {
            int[] cols = SlotColumns(p);
            for (int r = p * RowsPerPattern; r < Math.Min(Rows, (p + 1) * RowsPerPattern); r++)
                for (int i = 0; i < cols.Length; i++)
                {
                    float v = Values[(long)r * SlotsPerRow + i];
                    if (v != 0f) dense[r * Cols + cols[i]] += v;
                }
        }
    }

    /// <summary>CSR of the exact non-zeros (slots holding 0 are dropped).</summary>
    public CsrMatrix ToCsr() => CsrMatrix.FromDense(ToDense(), Rows, Cols);
}
