using Lacuna.Formats;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class NmMatrixTests
{
    /// <summary>Random W that is N:M along rows (r rows sharing each group's columns), non-zeros random, never all zero.</summary>
    internal static float[] RandomNm(int rows, int cols, int n, int m, int r, ulong seed)
    {
        var w = TestData.Random(rows * cols, seed);
        var rng = new Random((int)seed);
        for (int r0 = 0; r0 < rows; r0 += r)
            for (int c0 = 0; c0 < cols; c0 += m)
            {
                int width = Math.Min(m, cols - c0);
                // Keep a random subset of at most min(n, width) columns of this group.
                var keep = Enumerable.Range(0, width).OrderBy(_ => rng.Next()).Take(rng.Next(1, Math.Min(n, width) + 1)).ToHashSet();
                for (int row = r0; row < Math.Min(rows, r0 + r); row++)
                    for (int o = 0; o < width; o++)
                        if (!keep.Contains(o)) w[row * cols + c0 + o] = 0f;
            }
        return w;
    }

    [Theory]
    [InlineData(5, 16, 2, 4, 1)]
    [InlineData(7, 13, 2, 4, 1)]   // K not a multiple of M: a partial group of 1 column
    [InlineData(6, 10, 3, 8, 2)]   // partial group of 2 columns, fewer than N = 3 slots
    [InlineData(11, 21, 1, 8, 4)]  // rows not a multiple of r
    [InlineData(9, 34, 4, 8, 8)]
    [InlineData(3, 40, 15, 16, 1)]
    [InlineData(4, 9, 1, 2, 3)]
    public void Dense_and_csr_round_trips_are_exact(int rows, int cols, int n, int m, int r)
    {
        var w = RandomNm(rows, cols, n, m, r, (ulong)(rows * 31 + cols));
        Assert.Null(NmMatrix.Violation(w, rows, cols, n, m, r));
        var nm = NmMatrix.FromDense(w, rows, cols, n, m, r);
        Assert.Equal((rows + r - 1) / r, nm.PatternRows);
        Assert.Equal(cols / m * n + (cols % m == 0 ? 0 : Math.Min(n, cols % m)), nm.SlotsPerRow);
        Assert.Equal(w, nm.ToDense());
        var csr = nm.ToCsr();
        Assert.Equal(w.Count(v => v != 0f), csr.Nnz);
        Assert.Equal(csr.Nnz, nm.Nnz);
        Assert.Equal(w, csr.ToDense());
        var back = NmMatrix.FromCsr(csr, n, m, r);
        Assert.Equal(nm.Metadata, back.Metadata);
        Assert.Equal(nm.Values, back.Values);
        // The constructor accepts what FromDense produced.
        var copy = new NmMatrix(rows, cols, n, m, r, (ulong[])nm.Metadata.Clone(), (float[])nm.Values.Clone());
        Assert.Equal(w, copy.ToDense());
    }

    [Fact]
    public void Slots_hold_increasing_offsets_padded_with_the_lowest_free_ones()
    {
        // One row, 2:4, group 0 has a single non-zero at offset 2: slots are offsets 0 (padding, value 0) and 2.
        float[] w = [0, 0, 5, 0, 1, 0, 0, 2];
        var nm = NmMatrix.FromDense(w, 1, 8, 2, 4);
        Assert.Equal(0, nm.Offset(0, 0, 0));
        Assert.Equal(2, nm.Offset(0, 0, 1));
        Assert.Equal([0f, 5f, 1f, 2f], nm.Values);
        Assert.Equal([0, 2, 4, 7], nm.SlotColumns(0));
        Assert.Equal(0x20UL, nm.Metadata[0]);
    }

    [Fact]
    public void Violations_name_the_row_and_group()
    {
        float[] w = new float[3 * 8];
        w[2 * 8 + 4] = 1; w[2 * 8 + 5] = 1; w[2 * 8 + 6] = 1;
        Assert.Equal("row 2, group 1 (columns 4..7) has 3 non-zeros; 2:4 allows 2.", NmMatrix.Violation(w, 3, 8, 2, 4));
        var e = Assert.Throws<LacunaFormatException>(() => NmMatrix.FromDense(w, 3, 8, 2, 4));
        Assert.Contains("row 2, group 1", e.Message);
        // Shared rows: each row alone is 2:4 but rows 0 and 1 together use 3 columns of group 0.
        float[] s = [1, 1, 0, 0, 0, 0, 1, 0];
        Assert.Null(NmMatrix.Violation(s, 2, 4, 2, 4));
        Assert.Contains("rows 0..1, group 0", NmMatrix.Violation(s, 2, 4, 2, 4, 2));
    }

    [Fact]
    public void The_constructor_rejects_bad_metadata_and_values_naming_where()
    {
        var nm = NmMatrix.FromDense(RandomNm(4, 10, 2, 4, 2, 5), 4, 10, 2, 4, 2);
        ulong[] Meta(int at, ulong word) { var m = (ulong[])nm.Metadata.Clone(); m[at] = word; return m; }
        var vals = nm.Values;
        // Pattern row 1 (rows 2..3), group 2 is the partial group of 2 columns: offset 2 is outside it.
        var e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, Meta(1 * 3 + 2, 0x20), vals));
        Assert.Contains("nm rows 2..3 (pattern row 1), group 2", e.Message);
        Assert.Contains("outside the group's 2 columns", e.Message);
        e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, Meta(0, 0x12), vals));
        Assert.Contains("must increase", e.Message);
        e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, Meta(0, 0x310), vals));
        Assert.Contains("bits set past its 2 slots", e.Message);
        e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, nm.Metadata[..^1], vals));
        Assert.Contains("nm.metadata", e.Message);
        e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, nm.Metadata, vals[..^1]));
        Assert.Contains("nm.values", e.Message);
        var nan = (float[])vals.Clone(); nan[7] = float.NaN;
        e = Assert.Throws<LacunaFormatException>(() => new NmMatrix(4, 10, 2, 4, 2, nm.Metadata, nan));
        Assert.Contains("nm row 1, slot 1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NmMatrix.FromDense(new float[8], 1, 8, 4, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => NmMatrix.FromDense(new float[17], 1, 17, 2, 17));
        Assert.Throws<ArgumentOutOfRangeException>(() => NmMatrix.FromDense(new float[8], 1, 8, 2, 4, 0));
    }
}
