using Lacuna.Formats;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class GsMatrixTests
{
    [Theory]
    [InlineData(16, GsLayout.Row)]
    [InlineData(8, GsLayout.Column)]
    [InlineData(16, GsLayout.Hybrid)]
    [InlineData(8, GsLayout.Hybrid)]
    public void Dense_and_csr_round_trip_exactly(int lanes, GsLayout layout)
    {
        var dense = TestData.Random(19 * 23, 31);
        for (int i = 0; i < dense.Length; i += 2) dense[i] = 0f;
        var gs = GsMatrix.FromDense(dense, 19, 23, lanes, layout);
        Assert.Equal(dense, gs.ToDense());
        Assert.Equal(dense.Count(v => v != 0f), gs.Nnz);
        var csr = CsrMatrix.FromDense(dense, 19, 23);
        Assert.Equal(dense, GsMatrix.FromCsr(csr, lanes, layout).ToDense());
        Assert.Equal(csr.ColumnIndices, gs.ToCsr().ColumnIndices);
        // Every lane of a group holds the group's step count, and lane l only reads its bank.
        for (int g = 0; g < gs.GroupCount; g++)
            for (int s = gs.GroupOffsets[g]; s < gs.GroupOffsets[g + 1]; s++)
                for (int l = 0; l < lanes; l++)
                    if (gs.Values[s * lanes + l] != 0f) Assert.Equal(l % gs.Banks, gs.ColumnIndices[s * lanes + l] % gs.Banks);
    }

    [Fact]
    public void Layouts_have_the_documented_banks_and_rows_per_group()
    {
        var row = GsMatrix.FromDense(new float[16], 4, 4, 16, GsLayout.Row);
        Assert.Equal((1, 16), (row.Banks, row.RowsPerGroup));
        var col = GsMatrix.FromDense(new float[16], 4, 4, 8, GsLayout.Column);
        Assert.Equal((8, 1, 4), (col.Banks, col.RowsPerGroup, col.GroupCount));
        var hybrid = GsMatrix.FromDense(new float[16], 4, 4, 16, GsLayout.Hybrid);
        Assert.Equal((4, 4), (hybrid.Banks, hybrid.RowsPerGroup));
    }

    [Fact]
    public void Validation_names_the_group_step_and_lane_at_fault()
    {
        // One group of 8 rows (row-wise), one step.
        int[] offsets = [0, 1];
        var cols = new int[8];
        var vals = Enumerable.Repeat(1f, 8).ToArray();
        Assert.NotNull(new GsMatrix(8, 4, 8, GsLayout.Row, offsets, cols, vals));
        var bad = (int[])cols.Clone();
        bad[5] = 4;
        var e = Assert.Throws<LacunaFormatException>(() => new GsMatrix(8, 4, 8, GsLayout.Row, offsets, bad, vals));
        Assert.Contains("group 0, step 0, lane 5", e.Message);
        Assert.Contains("outside", e.Message);
        // Column-wise: lane 3 must read columns ≡ 3 mod 8.
        var colWise = new int[8];
        for (int l = 0; l < 8; l++) colWise[l] = l;
        Assert.NotNull(new GsMatrix(1, 16, 8, GsLayout.Column, offsets, colWise, vals));
        colWise[3] = 4;
        e = Assert.Throws<LacunaFormatException>(() => new GsMatrix(1, 16, 8, GsLayout.Column, offsets, colWise, vals));
        Assert.Contains("lane 3", e.Message);
        Assert.Contains("bank", e.Message);
        // Rows past the matrix must be padding.
        e = Assert.Throws<LacunaFormatException>(() => new GsMatrix(6, 4, 8, GsLayout.Row, offsets, cols, vals));
        Assert.Contains("lane 6", e.Message);
        e = Assert.Throws<LacunaFormatException>(() => new GsMatrix(8, 4, 8, GsLayout.Row, [0, 2], cols, vals));
        Assert.Contains("steps", e.Message);
        var nan = (float[])vals.Clone();
        nan[2] = float.NaN;
        e = Assert.Throws<LacunaFormatException>(() => new GsMatrix(8, 4, 8, GsLayout.Row, offsets, cols, nan));
        Assert.Contains("lane 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GsMatrix.FromDense(new float[4], 2, 2, 4, GsLayout.Row));
    }
}
