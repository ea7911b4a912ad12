using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Spmm;

public class SpmmTests
{
    internal static CsrMatrix RandomCsr(int m, int k, double sparsity, ulong seed)
    {
        var w = TestData.Random(m * k, seed);
        Pruner.Random(w, sparsity, seed + 1);
        return CsrMatrix.FromDense(w, m, k);
    }

    /// <summary>W with every value rounded to bf16: what a bf16 plan multiplies by.</summary>
    internal static CsrMatrix RoundedToBf16(CsrMatrix w) =>
        new(w.Rows, w.Cols, w.RowOffsets, w.ColumnIndices, Array.ConvertAll(w.Values, v => BFloat16.ToSingle(BFloat16.FromSingle(v))));

    private static void Check(CsrMatrix w, int n, Activation act, bool bias, int threads, string context)
    {
        var x = TestData.Random(w.Cols * n, 77);
        var b = bias ? TestData.Random(w.Rows, 78) : Array.Empty<float>();
        foreach (var precision in new[] { SpmmPrecision.Float32, SpmmPrecision.BFloat16 })
        {
            var expected = new float[w.Rows * n];
            ReferenceSpmm.Compute(precision == SpmmPrecision.BFloat16 ? RoundedToBf16(w) : w, x, n, expected, b, act);
            foreach (var kernel in SpmmKernels.Supported.Append(null))
                // K blocks of 16 rows of X (the smallest block) exercise partial-sum accumulation across blocks;
                // packed runs copy each block of each window into an aligned panel first.
                foreach (int blockBytes in new[] { 0, 1 })
                foreach (bool packed in new[] { false, true })
                {
                    var plan = SpmmPlan.Create(w, b, act, precision, kernel, blockBytes, packed);
                    var y = TestData.Poisoned(w.Rows * n);
                    plan.Run(x, n, y, threads);
                    KernelAssert.Close(expected, y, Math.Max(1, w.Cols), $"{kernel?.Name ?? "auto"} {precision} blockBytes={blockBytes} packed={packed} {context} n={n} {act}");
                }
        }
    }

    public static TheoryData<int> Widths() => new() { 0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 127, 129, 196 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_kernel_matches_reference_around_vector_and_tile_widths(int n)
    {
        Check(RandomCsr(13, 37, 0.7, 3), n, Activation.Relu, bias: true, threads: 1, "13x37@0.7");
        Check(RandomCsr(5, 20, 0.5, 4), n, Activation.Clip(-0.2f, 0.3f), bias: false, threads: 2, "5x20@0.5");
    }

    [Theory]
    [InlineData(1, 1, 0.0)]
    [InlineData(7, 300, 0.9)]
    [InlineData(16, 1000, 0.99)]
    [InlineData(33, 64, 0.95)]
    public void Every_kernel_matches_reference_across_sparsities(int m, int k, double sparsity)
    {
        foreach (int n in new[] { 1, 24, 100 })
            Check(RandomCsr(m, k, sparsity, 9), n, Activation.None, bias: true, threads: 2, $"{m}x{k}@{sparsity}");
    }

    [Fact]
    public void Empty_rows_all_empty_matrix_single_nonzero_and_long_rows()
    {
        // Rows 0, 2 and 5 empty; row 3 longer than any tile's worth of work.
        var dense = TestData.Random(6 * 200, 5);
        foreach (int r in new[] { 0, 2, 5 }) Array.Clear(dense, r * 200, 200);
        Check(CsrMatrix.FromDense(dense, 6, 200), 70, Activation.Relu, true, 2, "empty rows");
        Check(CsrMatrix.FromDense(new float[4 * 9], 4, 9), 19, Activation.None, true, 1, "all empty");
        var one = new float[3 * 8]; one[13] = -1.5f;
        Check(CsrMatrix.FromDense(one, 3, 8), 67, Activation.None, false, 1, "single nonzero");
    }

    [Fact]
    public void Matrices_wider_than_65536_columns_use_32_bit_indices()
    {
        var w = RandomCsr(3, 70_000, 0.999, 21);
        Assert.DoesNotContain("16-bit", SpmmPlan.Create(w).Describe());
        Check(w, 19, Activation.Relu, bias: true, threads: 2, "3x70000@0.999");
    }

    [Fact]
    public void Bf16_weights_round_to_nearest_even_and_stay_close_to_fp32()
    {
        Assert.Equal(1f, BFloat16.ToSingle(BFloat16.FromSingle(1f)));
        Assert.Equal(0x3F80, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F808000))); // tie → even
        Assert.Equal(0x3F82, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F818000))); // tie → even (up)
        Assert.Equal(0x3F81, BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x3F808001)));
        Assert.Equal(0x7F7F, BFloat16.FromSingle(float.MaxValue)); // would round to ∞: truncated instead
        var w = RandomCsr(20, 300, 0.9, 31);
        var x = TestData.Random(300 * 40, 32);
        var y32 = new float[20 * 40];
        var y16 = new float[20 * 40];
        SpmmPlan.Create(w).Run(x, 40, y32, 1);
        SpmmPlan.Create(w, default, default, SpmmPrecision.BFloat16).Run(x, 40, y16, 1);
        double maxErr = 0, maxAbs = 0;
        for (int i = 0; i < y32.Length; i++) { maxErr = Math.Max(maxErr, Math.Abs(y32[i] - y16[i])); maxAbs = Math.Max(maxAbs, Math.Abs(y32[i])); }
        Assert.True(maxErr > 0 && maxErr < 1e-2 * maxAbs, $"bf16 max error {maxErr} vs max |y| {maxAbs}");
    }

    [Fact]
    public void Two_threads_match_one_thread_and_chunks_cover_wide_n()
    {
        // K large enough that the column chunk is smaller than N: several chunks per row.
        var w = RandomCsr(40, 2100, 0.9, 12);
        var x = TestData.Random(2100 * 200, 13);
        var plan = SpmmPlan.Create(w, TestData.Random(40, 14), Activation.Relu);
        var one = TestData.Poisoned(40 * 200);
        var two = TestData.Poisoned(40 * 200);
        plan.Run(x, 200, one, 1);
        plan.Run(x, 200, two, 2);
        // Each thread count has its own measured tile, and a column's summation order depends on its tile.
        KernelAssert.Close(one, two, 2100);
        var twoAgain = TestData.Poisoned(40 * 200);
        plan.Run(x, 200, twoAgain, 2);
        KernelAssert.Exact(two, twoAgain);
        var expected = new float[40 * 200];
        ReferenceSpmm.Compute(w, x, 200, expected, TestData.Random(40, 14), Activation.Relu);
        KernelAssert.Close(expected, one, 2100);
    }

    [Fact]
    public void Measured_tile_is_one_of_the_shortlist_and_kept_per_n()
    {
        var w = RandomCsr(30, 400, 0.9, 41);
        var plan = SpmmPlan.Create(w, TestData.Random(30, 42), Activation.Relu);
        foreach (int n in new[] { 49, 196, 300 })
        {
            var x = TestData.Random(400 * n, 43);
            var first = TestData.Poisoned(30 * n);
            plan.Run(x, n, first, 2);
            string tuned = plan.TileFor(n, 2);
            Assert.Contains(tuned, SpmmSchedule.Candidates(plan, SpmmSchedule.SplitColumns(n, 2) ? n / 2 : n).Select(k => k.Name));
            // Later runs with the same thread count reuse the pick, so they compute the same bits.
            var again = TestData.Poisoned(30 * n);
            plan.Run(x, n, again, 2);
            Assert.Equal(tuned, plan.TileFor(n, 2));
            KernelAssert.Exact(first, again);
            // One thread tunes its own pick: the same values to rounding.
            var one = TestData.Poisoned(30 * n);
            plan.Run(x, n, one, 1);
            KernelAssert.Close(first, one, 400);
        }
        // Tiles of the tiers this process runs, named uniquely; an AVX-512 plan may also pick AVX2 tiles.
        Assert.Equal(SpmmPlan.TileNames.Count, SpmmPlan.TileNames.Distinct().Count());
        if (SpmmKernels.BestTier == IsaTier.Avx512)
            Assert.Contains(plan.Tiles, k => k.Tier == IsaTier.Avx2Fma);
        Assert.Throws<ArgumentException>(() => SpmmPlan.CreateWithTile(w, "Avx9 1x3"));
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var w = RandomCsr(4, 6, 0.5, 1);
        Assert.Equal("bias", Assert.Throws<ShapeMismatchException>(() => SpmmPlan.Create(w, new float[3])).ParamName);
        Assert.Throws<ArgumentNullException>(() => SpmmPlan.Create(null!));
        var plan = SpmmPlan.Create(w);
        var e = Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[6 * 5 - 1], 5, new float[20]));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[6×5]", e.Message);
        Assert.Equal("y", Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[30], 5, new float[19])).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => plan.Run(new float[30], -1, new float[20])).ParamName);
    }
}
