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

    private static void Check(BsrMatrix w, IEnumerable<int> ns, Activation act, bool bias, int threads)
    {
        var b = bias ? TestData.Random(w.Rows, 5) : Array.Empty<float>();
        foreach (var tier in IsaTiers.Supported)
        {
            foreach (bool? rowsOuter in new bool?[] { false, true, null })
            {
            var plan = BlockSpmmPlan.Create(w, b, act, tier, rowsOuter);
            foreach (int n in ns)
            {
                var x = TestData.Random(w.Cols * n, (ulong)n + 9);
                var expected = new float[w.Rows * n];
                ReferenceBlockSpmm.Compute(w, x, n, expected, b, act);
                var y = TestData.Poisoned(w.Rows * n);
                plan.Run(x, n, y, threads);
                KernelAssert.Close(expected, y, Math.Max(1, w.Cols), $"{plan.KernelName} block {w.BlockRows}x{w.BlockCols} [{w.Rows}x{w.Cols}] n={n} {act} t={threads} rowsOuter={rowsOuter}");
            }
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
        // 37 rows: a partial last block for every r above 1; K = 29.
        Check(RandomBsr(37, 29, r, c, 11), Ns, Activation.None, bias: true, threads: 1);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(16, 2)]
    [InlineData(8, 3)]
    [InlineData(2, 5)]
    public void RxC_matches_the_reference_with_K_not_a_multiple_of_c(int r, int c)
    {
        Check(RandomBsr(21, 3 * c + 1, r, c, 12), Ns, Activation.Relu, bias: true, threads: 1);
    }

    [Fact]
    public void Activations_bias_and_two_threads_match_the_reference()
    {
        var w = RandomBsr(70, 40, 16, 1, 13);
        Check(w, [1, 17, 49], Activation.Clip(-0.3f, 0.4f), bias: true, threads: 2);
        Check(w, [5, 33], Activation.Relu, bias: false, threads: 2);
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
    public void The_plan_picks_the_tallest_body_that_divides_the_block_and_rejects_bad_shapes()
    {
        var w = RandomBsr(32, 16, 16, 1, 14);
        foreach (var tier in IsaTiers.Supported)
        {
            var plan = BlockSpmmPlan.Create(w, default, default, tier);
            int expected = tier switch { IsaTier.Avx512 => 16, IsaTier.Avx2Fma => 8, IsaTier.Vector128 => 4, _ => 16 };
            Assert.Equal(expected, plan.Weights.BlockRows);
        }
        var p = BlockSpmmPlan.Create(w);
        Assert.Throws<ShapeMismatchException>(() => p.Run(new float[15], 1, new float[32], 1));
        Assert.Throws<ShapeMismatchException>(() => BlockSpmmPlan.Create(w, new float[3]));
    }
}
