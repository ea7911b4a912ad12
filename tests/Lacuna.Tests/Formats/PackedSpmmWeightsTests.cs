using FsCheck.Xunit;
using Lacuna.Formats;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Formats;

public class PackedSpmmWeightsTests
{
    private static CsrMatrix RandomCsr(int rows, int cols, double sparsity, ulong seed)
    {
        var d = TestData.Random(rows * cols, seed);
        Pruner.Random(d, sparsity, seed + 1);
        return CsrMatrix.FromDense(d, rows, cols);
    }

    [Property(MaxTest = 200)]
    public void Csr_to_packed_to_csr_round_trips(byte rows, byte cols, byte sparsityPercent, byte stride, ulong seed)
    {
        int r = rows % 40, c = cols % 40, n = 1 + stride % 70;
        var csr = RandomCsr(r, c, Math.Min(100, (int)sparsityPercent) / 100.0, seed);
        var packed = PackedSpmmWeights.FromCsr(csr, n);
        Assert.Equal((r, c, n, csr.Nnz), (packed.Rows, packed.Cols, packed.XRowStride, packed.Nnz));
        Assert.Equal(r, packed.RowCounts.Length);
        Assert.Equal(r + 1, packed.RowStarts.Length);
        Assert.Equal(csr.Nnz, packed.ByteDeltas.Length);
        var back = packed.ToCsr();
        Assert.Equal(csr.RowOffsets, back.RowOffsets);
        Assert.Equal(csr.ColumnIndices, back.ColumnIndices);
        Assert.Equal(csr.Values, back.Values);
    }

    [Fact]
    public void Layout_is_count_values_and_byte_deltas_restarting_each_row()
    {
        // W [3×6]: row 0 has columns 1, 4, 5; row 1 is empty; row 2 has column 0 and 3.
        var csr = new CsrMatrix(3, 6, new[] { 0, 3, 3, 5 }, new[] { 1, 4, 5, 0, 3 }, new[] { 1f, 2f, 3f, 4f, 5f });
        var p = PackedSpmmWeights.FromCsr(csr, xRowStride: 10);
        const int rowBytes = 10 * sizeof(float);
        Assert.Equal(new[] { 3, 0, 2 }, p.RowCounts);
        Assert.Equal(new[] { 0, 3, 3, 5 }, p.RowStarts);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f }, p.Values);
        Assert.Equal(new[] { 1 * rowBytes, 3 * rowBytes, 1 * rowBytes, 0, 3 * rowBytes }, p.ByteDeltas);
    }

    /// <summary>Walks the packed layout the way a kernel will (a byte pointer into X) and checks it against the reference.</summary>
    [Theory]
    [InlineData(7, 13, 9, 0.7)]
    [InlineData(16, 40, 33, 0.9)]
    [InlineData(5, 3, 1, 0.0)]
    [InlineData(4, 8, 17, 1.0)]
    public unsafe void Pointer_walk_over_the_packed_layout_matches_reference_spmm(int m, int k, int n, double sparsity)
    {
        var csr = RandomCsr(m, k, sparsity, 21);
        var packed = PackedSpmmWeights.FromCsr(csr, n);
        var x = TestData.Random(k * n, 22);
        var expected = TestData.Poisoned(m * n);
        ReferenceSpmm.Compute(csr, x, n, expected);
        var actual = TestData.Poisoned(m * n);
        fixed (float* xBase = x)
        {
            int e = 0;
            for (int r = 0; r < m; r++)
            {
                Assert.Equal(packed.RowStarts[r], e);
                var acc = new double[n];
                byte* xp = (byte*)xBase;
                for (int q = 0; q < packed.RowCounts[r]; q++, e++)
                {
                    xp += packed.ByteDeltas[e];
                    for (int j = 0; j < n; j++) acc[j] += packed.Values[e] * (double)((float*)xp)[j];
                }
                for (int j = 0; j < n; j++) actual[r * n + j] = (float)acc[j];
            }
        }
        KernelAssert.Close(expected, actual, k, $"{m}x{k}x{n}");
    }

    [Fact]
    public void Bad_stride_and_offset_overflow_are_rejected()
    {
        var csr = new CsrMatrix(1, 3, new[] { 0, 1 }, new[] { 2 }, new[] { 1f });
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => PackedSpmmWeights.FromCsr(csr, 0));
        Assert.Equal("xRowStride", zero.ParamName);
        // (K − 1) · stride · 4 = 2 · 300,000,000 · 4 overflows an int byte offset.
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => PackedSpmmWeights.FromCsr(csr, 300_000_000));
        Assert.Contains("2^31", huge.Message);
        Assert.Throws<ArgumentNullException>(() => PackedSpmmWeights.FromCsr(null!, 4));
        // The largest stride that still fits packs and round-trips.
        int fits = int.MaxValue / (2 * sizeof(float));
        Assert.Equal(new[] { 2 }, PackedSpmmWeights.FromCsr(csr, fits).ToCsr().ColumnIndices);
    }

    [Fact]
    public void Empty_shapes_pack()
    {
        foreach (var (r, c) in new[] { (0, 0), (0, 7), (5, 0), (3, 4) })
        {
            var p = PackedSpmmWeights.FromCsr(CsrMatrix.FromDense(new float[r * c], r, c), 8);
            Assert.Equal(0, p.Nnz);
            Assert.Equal(r, p.RowCounts.Length);
            Assert.All(p.RowCounts, v => Assert.Equal(0, v));
            Assert.Equal((r, c), (p.ToCsr().Rows, p.ToCsr().Cols));
        }
    }
}
