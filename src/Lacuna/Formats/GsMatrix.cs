namespace Lacuna.Formats;

/// <summary>
/// Which way a GS pattern's V lanes lie (Sun et al., "Load-balanced Gather-scatter Patterns for Sparse Deep Neural
/// Networks", arXiv 2112.10898): along output rows (one lane per row, V rows per group), along K (one lane per bank of
/// columns ≡ l mod V, one row per group; lanes reduced per row) or both (V/4 rows × 4 banks per group).
/// </summary>
public enum GsLayout
{
    Row = 0,
    Column = 1,
    Hybrid = 2,
}

/// <summary>
/// A gather-scatter (GS) sparse matrix [Rows × Cols]: output rows are cut into groups, each group's non-zeros are
/// dealt to V lanes, and every lane of a group holds the SAME number of entries (the group's steps), so one vector
/// step takes one entry per lane: equal work per lane and conflict-free gathers (lane l only reads columns of its
/// bank, column ≡ bank mod <see cref="Banks"/>).
/// <para>Lane l of group g is row g·RowsPerGroup + l / Banks, bank l % Banks. Storage is step-major: the entry of step
/// s (from the group's base index <c>GroupOffsets[g]</c>) in lane l sits at <c>(GroupOffsets[g] + s)·V + l</c> of
/// <see cref="Values"/> and <see cref="ColumnIndices"/>. Lanes with fewer real non-zeros are padded with explicit zeros
/// (any column inside the matrix); rows past the last row are all padding.</para>
/// The constructor takes ownership of the arrays and validates them, naming the group, step and lane at fault.
/// </summary>
public sealed class GsMatrix
{
    /// <summary>Banks of the hybrid layout: V/4 rows of 4 banks per group.</summary>
    public const int HybridBanks = 4;

    public GsMatrix(int rows, int cols, int lanes, GsLayout layout, int[] groupOffsets, int[] columnIndices, float[] values)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckShape(lanes, layout);
        if (groupOffsets is null) ThrowHelper.ArgumentNull(nameof(groupOffsets));
        if (columnIndices is null) ThrowHelper.ArgumentNull(nameof(columnIndices));
        if (values is null) ThrowHelper.ArgumentNull(nameof(values));
        Rows = rows; Cols = cols; Lanes = lanes; Layout = layout;
        GroupOffsets = groupOffsets; ColumnIndices = columnIndices; Values = values;
        Validate();
    }

    public int Rows { get; }
    public int Cols { get; }
    /// <summary>V: lanes per group (8 or 16).</summary>
    public int Lanes { get; }
    public GsLayout Layout { get; }
    public int Banks => BanksOf(Lanes, Layout);
    public int RowsPerGroup => Lanes / Banks;
    public int GroupCount => (Rows + RowsPerGroup - 1) / RowsPerGroup;
    /// <summary>Base step of each group, GroupCount + 1 entries; group g has GroupOffsets[g+1] − GroupOffsets[g] steps.</summary>
    public int[] GroupOffsets { get; }
    public int[] ColumnIndices { get; }
    public float[] Values { get; }
    public int Steps => GroupOffsets[^1];

    /// <summary>Exact non-zeros among the stored entries (padding excluded).</summary>
    public int Nnz => Values.Count(v => v != 0f);

    public static int BanksOf(int lanes, GsLayout layout) => layout switch
    {
        GsLayout.Row => 1,
        GsLayout.Column => lanes,
        _ => HybridBanks,
    };

    internal static void CheckShape(int lanes, GsLayout layout)
    {
        if (lanes is not (8 or 16)) ThrowHelper.OutOfRange(nameof(lanes), lanes, "GS lanes (V) must be 8 or 16.");
        if (layout is not (GsLayout.Row or GsLayout.Column or GsLayout.Hybrid)) ThrowHelper.OutOfRange(nameof(layout), layout, "Unknown GS layout.");
    }

    private void Validate()
    {
        int groups = GroupCount, v = Lanes, banks = Banks, rpg = RowsPerGroup;
        if (GroupOffsets.Length != groups + 1)
            ThrowHelper.Format("gs.groupOffsets", $"has {GroupOffsets.Length} entries but {groups} groups need {groups + 1}.");
        if (GroupOffsets[0] != 0) ThrowHelper.Format("gs.groupOffsets[0]", $"must be 0 but is {GroupOffsets[0]}.");
        long entries = (long)GroupOffsets[groups] * v;
        if (ColumnIndices.Length != entries || Values.Length != entries)
            ThrowHelper.Format("gs.values", $"has {Values.Length} values and {ColumnIndices.Length} column indices but {GroupOffsets[groups]} steps of {v} lanes need {entries}.");
        for (int g = 0; g < groups; g++)
        {
            if (GroupOffsets[g + 1] < GroupOffsets[g])
                ThrowHelper.Format($"gs group {g}", $"base indices decrease ({GroupOffsets[g]} then {GroupOffsets[g + 1]}).");
            for (int s = GroupOffsets[g]; s < GroupOffsets[g + 1]; s++)
                for (int l = 0; l < v; l++)
                {
                    int e = s * v + l, col = ColumnIndices[e], row = g * rpg + l / banks, bank = l % banks;
                    float value = Values[e];
                    string where = $"gs group {g}, step {s - GroupOffsets[g]}, lane {l}";
                    if ((uint)col >= (uint)Cols) ThrowHelper.Format(where, $"column {col} is outside [0, {Cols}).");
                    if (!float.IsFinite(value)) ThrowHelper.Format(where, $"value is {value}; only finite values are allowed.");
                    if (value != 0f && row >= Rows) ThrowHelper.Format(where, $"row {row} lies past the {Rows} rows but its value is {value}; padding must be zero.");
                    if (value != 0f && col % banks != bank)
                        ThrowHelper.Format(where, $"column {col} is in bank {col % banks} but the lane reads bank {bank} (a gather conflict).");
                }
        }
    }

    /// <summary>
    /// Deals each group's non-zeros to its lanes (in column order) and pads every lane to the group's longest with
    /// explicit zeros: any matrix converts, a GS-pruned one without padding.
    /// </summary>
    public static GsMatrix FromDense(ReadOnlySpan<float> dense, int rows, int cols, int lanes, GsLayout layout)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        CheckShape(lanes, layout);
        ThrowHelper.IfTooShort(dense.Length, (long)rows * cols, nameof(dense), $"a [{rows}×{cols}] matrix");
        CsrMatrix.CheckFinite(dense[..(rows * cols)], cols, nameof(dense));
        int banks = BanksOf(lanes, layout), rpg = lanes / banks, groups = (rows + rpg - 1) / rpg;
        var offsets = new int[groups + 1];
        var columns = new List<int>();
        var values = new List<float>();
        var laneCols = new List<int>[lanes];
        for (int l = 0; l < lanes; l++) laneCols[l] = [];
        for (int g = 0; g < groups; g++)
        {
            int steps = 0;
            for (int l = 0; l < lanes; l++)
            {
                laneCols[l].Clear();
                int row = g * rpg + l / banks;
                if (row < rows)
                    for (int c = l % banks; c < cols; c += banks)
                        if (dense[row * cols + c] != 0f) laneCols[l].Add(c);
                steps = Math.Max(steps, laneCols[l].Count);
            }
            for (int s = 0; s < steps; s++)
                for (int l = 0; l < lanes; l++)
                {
                    var lc = laneCols[l];
                    int row = g * rpg + l / banks;
                    if (s < lc.Count) { columns.Add(lc[s]); values.Add(dense[row * cols + lc[s]]); }
                    else { columns.Add(lc.Count > 0 ? lc[^1] : Math.Min(l % banks, Math.Max(0, cols - 1))); values.Add(0f); }
                }
            offsets[g + 1] = offsets[g] + steps;
        }
        return new GsMatrix(rows, cols, lanes, layout, offsets, [.. columns], [.. values]);
    }

    public static GsMatrix FromCsr(CsrMatrix csr, int lanes, GsLayout layout)
    {
        if (csr is null) ThrowHelper.ArgumentNull(nameof(csr));
        return FromDense(csr.ToDense(), csr.Rows, csr.Cols, lanes, layout);
    }

    /// <summary>The dense [Rows × Cols] matrix (padding entries add zero).</summary>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Cols];
        int banks = Banks, rpg = RowsPerGroup;
        for (int g = 0; g < GroupCount; g++)
            for (int s = GroupOffsets[g]; s < GroupOffsets[g + 1]; s++)
                for (int l = 0; l < Lanes; l++)
                {
                    int e = s * Lanes + l, row = g * rpg + l / banks;
                    if (Values[e] != 0f) dense[(long)row * Cols + ColumnIndices[e]] += Values[e];
                }
        return dense;
    }

    public CsrMatrix ToCsr() => CsrMatrix.FromDense(ToDense(), Rows, Cols);

    public override string ToString() => $"GsMatrix [{Rows}×{Cols}] V={Lanes} {Layout}, {Steps} steps, {Nnz} non-zeros";
}
