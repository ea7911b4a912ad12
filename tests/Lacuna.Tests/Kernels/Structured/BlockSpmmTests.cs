using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.BlockSpmm;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Structured;

public class BlockSpmmTests
{
    /// <summary>n just below, at and above the 4-, 8- and 16-lane vectors and their tiles (up to 4 vectors of 16).</summary>
    internal static readonly int[] Ns = [.. Enumerable.Range(1, 17), 31, 32, 33, 63, 64, 65];

    /// <summary>A random BSR matrix: about half the blocks stored, every stored element non-zero inside the matrix.</summary>
    internal static BsrMatrix RandomBsr(int m, int k, int r, int c, ulong seed)
    {
        var dense = TestData.Random(m * k, seed);
        var keep = TestData.Random((m + r - 1) / r * ((k + c - 1) / c), seed + 1);
        int bcs = (k + c - 1) / c;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < k; j++)
            {
                if (keep[i / r * bcs + j / c] < 0) dense[i * k + j] = 0f;
                else if (dense[i * k + j] == 0f) dense[i * k + j] = 0.5f;
            }
        return BsrMatrix.FromDense(dense, m, k, r, c);
    }

    /// <summary>Block n: the above plus just below, at and above 48 and 96 (the 8x3 and 4x6 AVX-512 tiles) and 80.</summary>
    internal static readonly int[] BlockNs = [.. Ns, 47, 48, 49, 79, 80, 81, 95, 96, 97, 113];

    /// <summary>
    /// Every candidate body of every tier with both loop orders forced, then the plan that times them all; on more than
    /// one thread each body also with both thread splits (block rows, column tiles).
    /// </summary>
    private static void Check(BsrMatrix w, IEnumerable<int> ns, Activation act, bool bias, int threads)
    {
        var b = bias ? TestData.Random(w.Rows, 5) : Array.Empty<float>();
        foreach (var tier in IsaTiers.Supported)
        {
            var plans = new List<BlockSpmmPlan>();
            foreach (var kernel in BlockSpmmKernels.Candidates(tier, w.BlockRows))
                foreach (bool rowsOuter in new[] { false, true })
                    foreach (bool? columns in threads > 1 ? new bool?[] { false, true } : [null])
                        plans.Add(BlockSpmmPlan.Create(w, b, act, tier, rowsOuter, kernel, columns));
            plans.Add(BlockSpmmPlan.Create(w, b, act, tier));
            foreach (var plan in plans)
                foreach (int n in ns)
                {
                    var x = TestData.Random(w.Cols * n, (ulong)n + 9);
                    var expected = new float[w.Rows * n];
                    ReferenceBlockSpmm.Compute(w, x, n, expected, b, act);
                    var y = TestData.Poisoned(w.Rows * n);
                    plan.Run(x, n, y, threads);
                    KernelAssert.Close(expected, y, Math.Max(1, w.Cols), $"{plan.Describe()} [{w.Rows}x{w.Cols}] n={n} {act} t={threads} rowsOuter={plan.ForcedRowsOuter} columns={plan.ForcedSplitColumns}");
                }
        }
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(8, 1)]
    [InlineData(4, 1)]
    [InlineData(2, 1)]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(12, 1)]
    public void Rx1_matches_the_reference_at_edge_n_and_rows_not_a_multiple_of_r(int r, int c)
    {
        // 37 rows: a partial last block for every r above 1 (for 16 on an 8-row body: the second half wholly outside);
        // 45 rows: for 16, the second half partly inside. K = 29.
        Check(RandomBsr(37, 29, r, c, 11), BlockNs, Activation.None, bias: true, threads: 1);
        Check(RandomBsr(45, 29, r, c, 15), [1, 16, 33, 49], Activation.None, bias: true, threads: 1);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(16, 2)]
    [InlineData(8, 3)]
    [InlineData(2, 5)]
    public void RxC_matches_the_reference_with_K_not_a_multiple_of_c(int r, int c)
    {
        Check(RandomBsr(21, 3 * c + 1, r, c, 12), BlockNs, Activation.Relu, bias: true, threads: 1);
    }

    [Fact]
    public void Activations_bias_and_two_threads_match_the_reference()
    {
        var w = RandomBsr(70, 40, 16, 1, 13);
        Check(w, [1, 17, 49, 97, 200], Activation.Clip(-0.3f, 0.4f), bias: true, threads: 2);
        Check(w, [5, 33, 96], Activation.Relu, bias: false, threads: 2);
        Check(RandomBsr(45, 31, 8, 1, 16), [48, 113], Activation.None, bias: true, threads: 3);
    }

    [Fact]
    public void Empty_block_rows_and_an_empty_matrix_yield_the_activated_bias()
    {
        var dense = new float[20 * 8];
        dense[17 * 8 + 3] = 2f; // only the second block row of 16 has a block
        var w = BsrMatrix.FromDense(dense, 20, 8, 16, 1);
        Check(w, [1, 16, 19], Activation.Relu, bias: true, threads: 1);
        Check(BsrMatrix.FromDense(new float[5 * 7], 5, 7, 4, 1), [3], Activation.None, bias: true, threads: 1);
    }

    [Fact]
    public void Candidates_are_the_bodies_whose_height_divides_the_block_and_bad_shapes_are_rejected()
    {
        foreach (var tier in IsaTiers.Supported)
        {
            var tall = BlockSpmmKernels.Candidates(tier, 16);
            int expected = tier switch { IsaTier.Avx512 => 16, IsaTier.Avx2Fma => 8, IsaTier.Vector128 => 4, _ => 16 };
            Assert.Equal(expected, tall[0].Rows);
            Assert.Equal(expected, BlockSpmmKernels.For(tier, 16).Rows);
            Assert.All(tall, k => Assert.True(k.Tier == tier && (tier == IsaTier.Scalar || 16 % k.Rows == 0) && k.Rows >= 4, k.Name));
            if (tier == IsaTier.Avx512) Assert.Contains(tall, k => k.Rows == 8 && k.Vectors == 3);
            // 3 rows: only 1-row bodies divide it (the scalar body takes any height up to 16).
            Assert.All(BlockSpmmKernels.Candidates(tier, 3), k => Assert.Equal(tier == IsaTier.Scalar ? 16 : 1, k.Rows));
            // The plan keeps the stored blocks (bodies run them as sub-blocks) and names the body it timed fastest.
            var w = RandomBsr(32, 16, 16, 1, 14);
            var plan = BlockSpmmPlan.Create(w, default, default, tier);
            Assert.Equal(16, plan.Weights.BlockRows);
            plan.Run(TestData.Random(16 * 20, 3), 20, new float[32 * 20], 1);
            Assert.Contains(tall, k => plan.Describe().Contains($"N=20 t1: {k.Name} "));
        }
        var wb = RandomBsr(32, 16, 16, 1, 14);
        var p = BlockSpmmPlan.Create(wb);
        Assert.Throws<ShapeMismatchException>(() => p.Run(new float[15], 1, new float[32], 1));
        Assert.Throws<ShapeMismatchException>(() => BlockSpmmPlan.Create(wb, new float[3]));
        // A 4-row body cannot run 2-row blocks; the scalar body holds at most 16 rows.
        var twoRows = RandomBsr(6, 5, 2, 1, 17);
        foreach (var tier in IsaTiers.Supported.Where(t => t != IsaTier.Scalar))
            Assert.Throws<ArgumentException>(() => BlockSpmmPlan.Create(twoRows, default, default, tier, kernel: BlockSpmmKernels.Candidates(tier, 4)[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockSpmmKernels.Candidates(IsaTier.Scalar, 17));
    }
}
