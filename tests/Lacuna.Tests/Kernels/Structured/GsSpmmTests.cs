using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.GsSpmm;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Structured;

public class GsSpmmTests
{
    /// <summary>A GS-pruned random matrix (equal non-zeros per lane within each group, no padding).</summary>
    internal static GsMatrix RandomGs(int m, int k, int lanes, GsLayout layout, double sparsity, ulong seed)
    {
        var dense = TestData.Random(m * k, seed);
        var pattern = new GsPattern(lanes, layout);
        pattern.Prune(dense, m, k, sparsity);
        Assert.Null(pattern.Violation(dense, m, k));
        return GsMatrix.FromDense(dense, m, k, lanes, layout);
    }

    private static void Check(GsMatrix w, IEnumerable<int> ns, Activation act, bool bias, int threads)
    {
        var b = bias ? TestData.Random(w.Rows, 5) : Array.Empty<float>();
        foreach (var tier in IsaTiers.Supported)
            foreach (bool index16 in new[] { true, false })
            foreach (var kernel in GsSpmmKernels.Candidates(tier, w.Lanes, index16))
            {
                var plan = GsSpmmPlan.Create(w, b, act, tier, kernel.Name, index16);
                foreach (int n in ns)
                {
                    var x = TestData.Random(w.Cols * n, (ulong)n + 3);
                    var expected = new float[w.Rows * n];
                    ReferenceGsSpmm.Compute(w, x, n, expected, b, act);
                    var y = TestData.Poisoned(w.Rows * n);
                    plan.Run(x, n, y, threads);
                    KernelAssert.Close(expected, y, Math.Max(1, w.Cols), $"{kernel.Name} V={w.Lanes} {w.Layout} [{w.Rows}x{w.Cols}] n={n} {act} t={threads}");
                }
            }
    }

    [Theory]
    [InlineData(16, GsLayout.Row)]
    [InlineData(8, GsLayout.Row)]
    [InlineData(16, GsLayout.Column)]
    [InlineData(8, GsLayout.Column)]
    [InlineData(16, GsLayout.Hybrid)]
    [InlineData(8, GsLayout.Hybrid)]
    public void Every_body_matches_the_reference_at_edge_n_with_partial_groups_and_K_not_a_multiple_of_V(int lanes, GsLayout layout)
    {
        // 37 rows: a partial last group in the row-wise and hybrid layouts; K = 53 is not a multiple of V or 4.
        Check(RandomGs(37, 53, lanes, layout, 0.7, 21), BlockSpmmTests.Ns, Activation.None, bias: true, threads: 1);
    }

    [Fact]
    public void Prescaled_offsets_past_16_bits_match_the_reference()
    {
        // (K − 1) · n > 65535 from n = 15 on: the plan prescales 32-bit X offsets for the scaled bodies (16-bit below).
        Check(RandomGs(21, 4500, 16, GsLayout.Row, 0.9, 24), [1, 15, 16, 17], Activation.Relu, bias: true, threads: 2);
        Check(RandomGs(3, 4500, 16, GsLayout.Column, 0.9, 25), [1, 16], Activation.None, bias: true, threads: 1);
    }

    [Fact]
    public void Activations_two_threads_and_the_tuned_plan_match_the_reference()
    {
        var w = RandomGs(100, 64, 16, GsLayout.Row, 0.9, 22);
        Check(w, [1, 8, 16, 49], Activation.Relu, bias: true, threads: 2);
        Check(w, [2, 17], Activation.Clip(-0.2f, 0.3f), bias: false, threads: 1);
        // The default plan times its candidates on the first run of each n and keeps the choice.
        var plan = GsSpmmPlan.Create(w);
        var x = TestData.Random(64 * 8, 4);
        var expected = new float[100 * 8];
        ReferenceGsSpmm.Compute(w, x, 8, expected);
        for (int run = 0; run < 2; run++)
        {
            var y = TestData.Poisoned(100 * 8);
            plan.Run(x, 8, y, 1);
            KernelAssert.Close(expected, y, 64, $"tuned run {run}");
        }
        Assert.NotNull(plan.KernelFor(8, 1));
    }

    [Fact]
    public void Padded_lanes_and_a_matrix_with_empty_groups_match_the_reference()
    {
        // FromDense pads unequal lanes with explicit zeros: any matrix runs, not only GS-pruned ones.
        var dense = TestData.Random(20 * 30, 23);
        for (int i = 0; i < dense.Length; i += 3) dense[i] = 0f;
        for (int i = 0; i < 30 * 8; i++) dense[i] = 0f; // the first group of 8 rows is empty
        Check(GsMatrix.FromDense(dense, 20, 30, 8, GsLayout.Row), [1, 9], Activation.None, bias: true, threads: 1);
        Check(GsMatrix.FromDense(dense, 20, 30, 16, GsLayout.Hybrid), [4], Activation.Relu, bias: true, threads: 2);
    }
}
