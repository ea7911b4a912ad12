using FsCheck.Xunit;
using Lacuna.Formats;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class BsrMatrixTests
{
    private static readonly (int R, int C)[] KernelBlocks = [(1, 4), (4, 1), (4, 4)];

    private static float[] SparseDense(int rows, int cols, double sparsity, ulong seed)
    {
        var d = TestData.Random(rows * cols, seed);
        Pruner.Random(d, sparsity, seed + 1);
        return d;
    }

    [Property(MaxTest = 150)]
    public void Dense_to_bsr_to_dense_round_trips_and_matches_csr_to_bsr(byte rows, byte cols, byte sparsityPercent, byte block, ulong seed)
    {
        int r = rows % 30, c = cols % 30;
        var (br, bc) = KernelBlocks[block % KernelBlocks.Length];
        var dense = SparseDense(r, c, Math.Min(100, (int)sparsityPercent) / 100.0, seed);
        var bsr = BsrMatrix.FromDense(dense, r, c, br, bc);
        Assert.Equal((r + br - 1) / br + 1, bsr.BlockRowOffsets.Length);
        Assert.Equal(bsr.BlockCount * br * bc, bsr.Values.Length);
        Assert.Equal(dense.Count(v => v != 0f), bsr.Nnz);
        KernelAssert.Exact(dense, bsr.ToDense());

        var csr = CsrMatrix.FromDense(dense, r, c);
        var fromCsr = BsrMatrix.FromCsr(csr, br, bc);
        Assert.Equal(bsr.BlockRowOffsets, fromCsr.BlockRowOffsets);
        Assert.Equal(bsr.BlockColumnIndices, fromCsr.BlockColumnIndices);
        Assert.Equal(bsr.Values, fromCsr.Values);
        var back = bsr.ToCsr();
        Assert.Equal(csr.ColumnIndices, back.ColumnIndices);
        Assert.Equal(csr.Values, back.Values);
    }

    [Fact]
    public void Edge_blocks_are_zero_padded_and_only_touched_blocks_are_stored()
    {
        // [5×6] with 4×4 blocks: 2 block rows × 2 block columns; non-zeros at (0,1), (4,5) only.
        var dense = new float[30];
        dense[0 * 6 + 1] = 1.5f;
        dense[4 * 6 + 5] = -2f;
        var bsr = BsrMatrix.FromDense(dense, 5, 6, 4, 4);
        Assert.Equal(new[] { 0, 1, 2 }, bsr.BlockRowOffsets);
        Assert.Equal(new[] { 0, 1 }, bsr.BlockColumnIndices);
        var expected = new float[32];
        expected[0 * 4 + 1] = 1.5f;       // block (0,0), element (0,1)
        expected[16 + 0 * 4 + 1] = -2f;   // block (1,1), element (0,1) = matrix (4,5)
        Assert.Equal(expected, bsr.Values);
        Assert.Equal(2 / 32.0, bsr.BlockFill);
        KernelAssert.Exact(dense, bsr.ToDense());
    }

    [Fact]
    public void Empty_and_degenerate_shapes()
    {
        foreach (var (r, c) in new[] { (0, 0), (0, 5), (5, 0), (3, 3) })
            foreach (var (br, bc) in KernelBlocks)
            {
                var bsr = BsrMatrix.FromDense(new float[r * c], r, c, br, bc);
                Assert.Equal(0, bsr.BlockCount);
                Assert.Equal(1.0, bsr.BlockFill);
                Assert.Equal(r * c, bsr.ToDense().Length);
            }
        var one = new float[9];
        one[4] = 3f;
        var single = BsrMatrix.FromDense(one, 3, 3, 1, 4);
        Assert.Equal(new[] { 0, 0, 1, 1 }, single.BlockRowOffsets);
        Assert.Equal(new[] { 0 }, single.BlockColumnIndices);
        Assert.Equal(new[] { 0f, 3f, 0f, 0f }, single.Values);
    }

    [Theory]
    [InlineData(new[] { 0, 1 }, new[] { 0 }, 4, "blockRowOffsets", "need 3")]
    [InlineData(new[] { 1, 1, 1 }, new[] { 0 }, 4, "blockRowOffsets[0]", "must be 0")]
    [InlineData(new[] { 0, 1, 3 }, new[] { 0, 1 }, 8, "blockRowOffsets[2]", "2 blocks")]
    [InlineData(new[] { 0, 2, 1 }, new[] { 0 }, 4, "block row 0", "past the 1 blocks")]
    [InlineData(new[] { 0, 1, 2 }, new[] { 0, 2 }, 8, "block row 1, entry 0", "outside [0, 2)")]
    [InlineData(new[] { 0, 2, 2 }, new[] { 1, 1 }, 8, "block row 0, entry 1", "duplicated")]
    [InlineData(new[] { 0, 2, 2 }, new[] { 1, 0 }, 8, "block row 0, entry 1", "not sorted")]
    [InlineData(new[] { 0, 1, 1 }, new[] { 0 }, 3, "bsr.values", "need 4")]
    public void Malformed_bsr_is_rejected_naming_the_block_row(int[] offsets, int[] blockCols, int valueCount, string where, string what)
    {
        // [2×7] with 1×4 blocks: 2 block rows, 2 block columns.
        var values = Enumerable.Repeat(1f, valueCount).ToArray();
        for (int b = 0; b < valueCount / 4; b++) values[b * 4 + 3] = blockCols.Length > b && blockCols[b] == 1 ? 0f : 1f;
        var e = Assert.Throws<LacunaFormatException>(() => new BsrMatrix(2, 7, 1, 4, offsets, blockCols, values));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Padding_must_be_zero_and_values_finite()
    {
        // [2×7] 1×4: block column 1 covers columns 4..7, and column 7 is outside the matrix.
        var pad = Assert.Throws<LacunaFormatException>(() =>
            new BsrMatrix(2, 7, 1, 4, new[] { 0, 0, 1 }, new[] { 1 }, new[] { 1f, 1f, 1f, 9f }));
        Assert.Contains("block row 1, entry 0", pad.Message);
        Assert.Contains("(1, 7)", pad.Message);
        Assert.Contains("padding must be zero", pad.Message);
        var inf = Assert.Throws<LacunaFormatException>(() =>
            new BsrMatrix(2, 7, 1, 4, new[] { 0, 1, 1 }, new[] { 0 }, new[] { 1f, float.PositiveInfinity, 1f, 1f }));
        Assert.Contains("block row 0, entry 0", inf.Message);
        Assert.Contains("(0, 1)", inf.Message);
        var ok = new BsrMatrix(2, 7, 1, 4, new[] { 0, 0, 1 }, new[] { 1 }, new[] { 1f, 1f, 1f, 0f });
        Assert.Equal(3, ok.Nnz);
        Assert.Throws<ArgumentOutOfRangeException>(() => BsrMatrix.FromDense(new float[4], 2, 2, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => BsrMatrix.FromDense(new float[4], 2, 2, 4, 17));
        var nan = Assert.Throws<ArgumentException>(() => BsrMatrix.FromDense(new[] { 0f, float.NaN, 0f, 0f }, 2, 2, 4, 4));
        Assert.Contains("(0, 1)", nan.Message);
        Assert.Throws<ShapeMismatchException>(() => BsrMatrix.FromDense(new float[3], 2, 2, 4, 4));
    }
}
