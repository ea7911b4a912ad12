using FsCheck.Xunit;
using Lacuna.Formats;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class CsrMatrixTests
{
    private static float[] SparseDense(int rows, int cols, double sparsity, ulong seed)
    {
        var d = TestData.Random(rows * cols, seed);
        Pruner.Random(d, sparsity, seed + 1);
        return d;
    }

    [Property(MaxTest = 200)]
    public void Dense_to_csr_to_dense_round_trips(byte rows, byte cols, byte sparsityPercent, ulong seed)
    {
        int r = rows % 40, c = cols % 40;
        var dense = SparseDense(r, c, Math.Min(100, (int)sparsityPercent) / 100.0, seed);
        var csr = CsrMatrix.FromDense(dense, r, c);
        Assert.Equal(dense.Count(v => v != 0f), csr.Nnz);
        KernelAssert.Exact(dense, csr.ToDense());
    }

    [Property(MaxTest = 200)]
    public void Transpose_twice_is_identity_and_transpose_matches_dense(byte rows, byte cols, byte sparsityPercent, ulong seed)
    {
        int r = rows % 30, c = cols % 30;
        var dense = SparseDense(r, c, Math.Min(100, (int)sparsityPercent) / 100.0, seed);
        var csr = CsrMatrix.FromDense(dense, r, c);
        var t = csr.Transpose();
        Assert.Equal((c, r), (t.Rows, t.Cols));
        var td = t.ToDense();
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                Assert.Equal(dense[i * c + j], td[j * r + i]);
        var tt = t.Transpose();
        Assert.Equal(csr.RowOffsets, tt.RowOffsets);
        Assert.Equal(csr.ColumnIndices, tt.ColumnIndices);
        Assert.Equal(csr.Values, tt.Values);
    }

    [Property(MaxTest = 200)]
    public void Nnz_partition_covers_rows_in_order_and_balances(byte rows, byte parts, ulong seed)
    {
        int r = rows % 200, p = 1 + parts % 8;
        var csr = CsrMatrix.FromDense(SparseDense(r, 50, 0.9, seed), r, 50);
        var bounds = csr.PartitionRowsByNnz(p);
        Assert.Equal(p + 1, bounds.Length);
        Assert.Equal(0, bounds[0]);
        Assert.Equal(r, bounds[p]);
        for (int i = 0; i < p; i++) Assert.True(bounds[i] <= bounds[i + 1]);
        // Each part's cost is within one row's cost of the ideal share.
        long total = csr.Nnz + r;
        int maxRow = r == 0 ? 0 : Enumerable.Range(0, r).Max(i => csr.RowLength(i) + 1);
        for (int i = 0; i < p; i++)
        {
            long cost = csr.RowOffsets[bounds[i + 1]] - csr.RowOffsets[bounds[i]] + (bounds[i + 1] - bounds[i]);
            Assert.True(cost <= total / p + 2 * maxRow, $"part {i} cost {cost}, total {total}, parts {p}");
        }
    }

    [Fact]
    public void Edge_matrices_round_trip()
    {
        foreach (var (r, c) in new[] { (0, 0), (0, 5), (5, 0), (1, 1), (3, 4) })
        {
            var empty = CsrMatrix.FromDense(new float[r * c], r, c);
            Assert.Equal(0, empty.Nnz);
            Assert.Equal(1.0, empty.Sparsity);
            Assert.All(empty.ToDense(), v => Assert.Equal(0f, v));
        }
        var single = new float[12];
        single[7] = -2.5f;
        var one = CsrMatrix.FromDense(single, 3, 4);
        Assert.Equal(1, one.Nnz);
        Assert.Equal(new[] { 0, 0, 1, 1 }, one.RowOffsets);
        Assert.Equal(new[] { 3 }, one.ColumnIndices);
        Assert.Equal(new ushort[] { 3 }, one.ColumnIndices16);
        Assert.Equal((0, 1 / 3.0, 1), one.RowLengthStats());
    }

    [Fact]
    public void Threshold_keeps_only_large_entries()
    {
        var csr = CsrMatrix.FromDense(new[] { 0.1f, -0.5f, 0.3f, 0f }, 2, 2, threshold: 0.2f);
        Assert.Equal(new[] { 1, 0 }, csr.ColumnIndices);
        Assert.Equal(new[] { -0.5f, 0.3f }, csr.Values);
    }

    [Theory]
    [InlineData(new[] { 0, 1 }, new[] { 0 }, "rowOffsets", "needs 3")]
    [InlineData(new[] { 1, 1, 2 }, new[] { 0, 1 }, "rowOffsets[0]", "must be 0")]
    [InlineData(new[] { 0, 3, 2 }, new[] { 0, 1 }, "row 0", "past the 2 non-zeros")]
    [InlineData(new[] { 0, 1, 3 }, new[] { 0, 1 }, "rowOffsets[2]", "2 non-zeros")]
    [InlineData(new[] { 0, 1, 2 }, new[] { 0, 4 }, "row 1, entry 0", "outside [0, 4)")]
    [InlineData(new[] { 0, 2, 2 }, new[] { 1, 1 }, "row 0, entry 1", "duplicated")]
    [InlineData(new[] { 0, 2, 2 }, new[] { 2, 1 }, "row 0, entry 1", "not sorted")]
    [InlineData(new[] { 0, 1, 2 }, new[] { 0, -1 }, "row 1, entry 0", "outside")]
    public void Malformed_csr_is_rejected_naming_the_row(int[] offsets, int[] cols, string where, string what)
    {
        var e = Assert.Throws<LacunaFormatException>(() => new CsrMatrix(2, 4, offsets, cols, new float[cols.Length].Select(_ => 1f).ToArray()));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Non_finite_values_and_length_mismatches_are_rejected()
    {
        var nan = Assert.Throws<LacunaFormatException>(() => new CsrMatrix(1, 2, new[] { 0, 1 }, new[] { 1 }, new[] { float.NaN }));
        Assert.Contains("row 0", nan.Message);
        var len = Assert.Throws<LacunaFormatException>(() => new CsrMatrix(1, 2, new[] { 0, 1 }, new[] { 1 }, new[] { 1f, 2f }));
        Assert.Contains("1 column indices but 2 values", len.Message);
        Assert.Throws<ArgumentNullException>(() => new CsrMatrix(1, 2, null!, new[] { 1 }, new[] { 1f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CsrMatrix(-1, 2, new[] { 0 }, Array.Empty<int>(), Array.Empty<float>()));
        var dec = Assert.Throws<LacunaFormatException>(() => new CsrMatrix(3, 4, new[] { 0, 2, 1, 2 }, new[] { 0, 1 }, new[] { 1f, 2f }));
        Assert.Contains("row 1", dec.Message);
        Assert.Contains("decrease", dec.Message);
        var wide = new CsrMatrix(1, 70000, new[] { 0, 1 }, new[] { 69999 }, new[] { 1f });
        Assert.False(wide.Fits16BitIndices);
        Assert.Throws<NotSupportedException>(() => wide.ColumnIndices16);
        var shortDense = Assert.Throws<ShapeMismatchException>(() => CsrMatrix.FromDense(new float[5], 2, 3));
        Assert.Equal("dense", shortDense.ParamName);
    }

    [Property(MaxTest = 100)]
    public void Single_non_zero_anywhere_round_trips_in_every_format(byte rows, byte cols, ushort position, short value)
    {
        int r = 1 + rows % 20, c = 1 + cols % 20, at = position % (r * c);
        var dense = new float[r * c];
        dense[at] = value == 0 ? 1f : value / 7f;
        var csr = CsrMatrix.FromDense(dense, r, c);
        Assert.Equal(1, csr.Nnz);
        Assert.Equal(at % c, csr.ColumnIndices[0]);
        Assert.Equal(1, csr.RowLength(at / c));
        KernelAssert.Exact(dense, csr.ToDense());
        KernelAssert.Exact(dense, PackedSpmmWeights.FromCsr(csr, 5).ToCsr().ToDense());
        KernelAssert.Exact(dense, BsrMatrix.FromCsr(csr, 4, 4).ToDense());
        var t = csr.Transpose();
        Assert.Equal(at / c, t.ColumnIndices[0]);
        Assert.Equal(csr.ColumnIndices, t.Transpose().ColumnIndices);
    }

    [Fact]
    public void Row_length_statistics()
    {
        // Rows of length 3, 0, 1, 0.
        var csr = new CsrMatrix(4, 5, new[] { 0, 3, 3, 4, 4 }, new[] { 0, 2, 4, 1 }, new[] { 1f, 2f, 3f, 4f });
        Assert.Equal((0, 1.0, 3), csr.RowLengthStats());
        Assert.Equal(Math.Sqrt((4 + 1 + 0 + 1) / 4.0), csr.RowLengthStdDev(), 12);
        Assert.Equal(1 - 4 / 20.0, csr.Sparsity, 12);
        var none = CsrMatrix.FromDense(Array.Empty<float>(), 0, 3);
        Assert.Equal((0, 0.0, 0), none.RowLengthStats());
        Assert.Equal(0.0, none.RowLengthStdDev());
        Assert.Equal(new[] { 0, 0, 0 }, none.PartitionRowsByNnz(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => csr.PartitionRowsByNnz(0));
    }

    [Fact]
    public void Partition_gives_a_long_row_its_own_part()
    {
        // Row 0 holds 90 of 100 non-zeros: an equal-row split (5 rows each) would leave one thread 9x the work.
        var offsets = new int[11];
        offsets[1] = 90;
        for (int r = 2; r <= 10; r++) offsets[r] = 90 + (r - 1);
        var csr = new CsrMatrix(10, 100, offsets, Enumerable.Range(0, 90).Concat(Enumerable.Repeat(0, 9)).ToArray(),
            Enumerable.Repeat(1f, 99).ToArray());
        Assert.Equal(new[] { 0, 1, 10 }, csr.PartitionRowsByNnz(2));
    }

    [Fact]
    public void Non_finite_dense_input_is_rejected_naming_the_element()
    {
        var nan = Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new[] { 1f, 0f, 0f, float.NaN }, 2, 2));
        Assert.Equal("dense", nan.ParamName);
        Assert.Contains("(1, 1)", nan.Message);
        var inf = Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new[] { float.NegativeInfinity }, 1, 1));
        Assert.Contains("(0, 0)", inf.Message);
        // Only the [rows×cols] prefix is read: a NaN beyond it is not part of the matrix.
        Assert.Equal(1, CsrMatrix.FromDense(new[] { 1f, float.NaN }, 1, 1).Nnz);
    }
}
