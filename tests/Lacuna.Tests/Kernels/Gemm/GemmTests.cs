using Lacuna.Kernels;
using Lacuna.Tests.TestUtil;
using G = Lacuna.Kernels.Gemm;

namespace Lacuna.Tests.Kernels.Gemm;

/// <summary>Every register tile of every supported tier, the public API and the pre-packed form vs the reference.</summary>
public class GemmTests
{
    private static readonly bool[] Bools = { false, true };

    /// <summary>Each entry on its own (an entry with an edge tile also runs it: NR+1 leaves a 1-column last panel).</summary>
    [Fact]
    public void EveryKernel_MatchesReference_AtEdgeSizes()
    {
        int kernels = 0;
        foreach (var kernel in GemmKernels.Supported)
        {
            kernels++;
            foreach (var gc in GemmCase.EdgeCases(kernel.MR, kernel.NR))
                gc.Check((a, b, c, bias) => G.ComputeWith(kernel, gc.M, gc.N, gc.K, a, gc.Lda, gc.TransA, b, gc.Ldb, gc.TransB,
                    c, gc.Ldc, gc.Alpha, gc.Beta, bias, gc.BiasAxis, gc.Activation, 1), kernel.Name);
        }
        Assert.True(kernels >= 1);
        Assert.Contains(GemmKernels.Supported, k => k.Tier == GemmKernels.BestTier);
        Assert.Equal(GemmKernels.BestTier, GemmKernels.Best.Tier);
    }

    [Fact]
    public void PublicApi_AllTransposes_LeadingDimensions_Epilogues_MatchReference()
    {
        foreach (bool ta in Bools)
            foreach (bool tb in Bools)
                foreach (var (m, n, k) in new[] { (13, 49, 147), (64, 20, 64), (7, 200, 33), (40, 3, 300) })
                    foreach (var (alpha, beta, axis, act) in new[]
                    {
                        (1f, 0f, BiasAxis.None, Activation.None), (2f, 0.5f, BiasAxis.Row, Activation.Relu),
                        (-1f, 1f, BiasAxis.Column, Activation.Clip(-1f, 1f)),
                    })
                    {
                        var gc = new GemmCase(m, n, k, ta, tb, 3, 2, 5, alpha, beta, axis, act);
                        gc.Check((a, b, c, bias) => G.Compute(m, n, k, a, gc.Lda, ta, b, gc.Ldb, tb, c, gc.Ldc, alpha, beta, bias, axis, act, threads: 1), "public");
                    }
    }

    [Fact]
    public void BetaZero_IgnoresNaNInC_AndEmptyShapesWriteNothing()
    {
        var gc = new GemmCase(9, 33, 20, Beta: 0f, BiasAxis: BiasAxis.Row, Activation: Activation.Relu);
        gc.Check((a, b, c, bias) => G.Compute(9, 33, 20, a, gc.Lda, false, b, gc.Ldb, false, c, gc.Ldc, 1f, 0f, bias, BiasAxis.Row, Activation.Relu), "beta=0 over NaN");

        var untouched = TestData.Poisoned(4);
        G.Compute(0, 4, 3, Array.Empty<float>(), 3, false, new float[12], 4, false, Array.Empty<float>(), 4);
        G.Compute(2, 0, 3, new float[6], 3, false, Array.Empty<float>(), 1, false, untouched, 1);
        Assert.All(untouched, v => Assert.True(float.IsNaN(v)));

        // K = 0: C = act(beta·C + bias), no products.
        new GemmCase(5, 17, 0, Beta: 0.5f, BiasAxis: BiasAxis.Column).Check((a, b, c, bias) =>
            G.Compute(5, 17, 0, a, 1, false, b, 17, false, c, 17, 1f, 0.5f, bias, BiasAxis.Column), "k=0");
    }

    [Fact]
    public void TwoThreads_MatchOneThread_Exactly_SplittingNAndM()
    {
        if (Lacuna.Threading.WorkerPool.Shared.MaxThreads < 2) return; // Resolve caps at the pool size; nothing to compare
        foreach (var (m, n, k) in new[] { (70, 300, 150), (500, 49, 200), (1000, 9, 300) })
            foreach (var kernel in GemmKernels.Supported)
            {
                var gc = new GemmCase(m, n, k, Beta: 0.5f, BiasAxis: BiasAxis.Row, Activation: Activation.Relu);
                var (a, b, c1, bias) = gc.Data();
                var c2 = (float[])c1.Clone();
                G.ComputeWith(kernel, m, n, k, a, gc.Lda, false, b, gc.Ldb, false, c1, gc.Ldc, 1f, 0.5f, bias, BiasAxis.Row, Activation.Relu, 1);
                G.ComputeWith(kernel, m, n, k, a, gc.Lda, false, b, gc.Ldb, false, c2, gc.Ldc, 1f, 0.5f, bias, BiasAxis.Row, Activation.Relu, 2);
                KernelAssert.Exact(c1, c2, $"{kernel} {m}x{n}x{k}");
                KernelAssert.Close(gc.Expected(a, b, gc.Data().C, bias), c2, k, "2 threads vs reference");
            }
    }

    [Fact]
    public void PackedA_EveryKernel_MatchesReference()
    {
        foreach (var kernel in GemmKernels.Supported)
            foreach (var (m, n, k, transA) in new[] { (1, 1, 1, false), (7, 17, 5, true), (37, 97, 300, false), (64, 49, 147, true), (100, 9, 260, false), (3, 40, 0, false) })
                foreach (var (axis, act) in new[] { (BiasAxis.None, Activation.None), (BiasAxis.Row, Activation.Relu), (BiasAxis.Column, Activation.Clip(-0.25f, 0.5f)) })
                {
                    var gc = new GemmCase(m, n, k, TransA: transA, PadA: 1, PadB: 2, PadC: 3, BiasAxis: axis, Activation: act);
                    var (a0, _, _, _) = gc.Data();
                    using var packed = G.PackAWith(kernel, m, k, a0, gc.Lda, transA);
                    foreach (int threads in new[] { 1, 2 })
                        gc.Check((a, b, c, bias) => G.Compute(packed, n, b, gc.Ldb, c, gc.Ldc, bias, axis, act, threads), $"packed {kernel} threads={threads}");
                }
        // The public PackA packs for the dispatcher's pick, with and without the expected N; a call with another N
        // still runs the tile the panels were packed for.
        var pub = new GemmCase(20, 30, 40, BiasAxis: BiasAxis.Row, Activation: Activation.Relu);
        using var p = G.PackA(20, 40, pub.Data().A, pub.Lda, false);
        pub.Check((a, b, c, bias) => G.Compute(p, 30, b, pub.Ldb, c, pub.Ldc, bias, BiasAxis.Row, Activation.Relu), "public PackA");
        foreach (var (m, hint, n) in new[] { (64, 49, 49), (64, 49, 200), (128, 768, 768), (1, 30, 30), (100, 1000, 7) })
        {
            var gc = new GemmCase(m, n, 70, BiasAxis: BiasAxis.Column, Activation: Activation.Relu);
            using var hinted = G.PackA(m, 70, gc.Data().A, gc.Lda, false, n: hint);
            Assert.Same(GemmKernels.For(m, hint), hinted.Kernel);
            gc.Check((a, b, c, bias) => G.Compute(hinted, n, b, gc.Ldb, c, gc.Ldc, bias, BiasAxis.Column, Activation.Relu), $"PackA n={hint}");
        }
    }

    /// <summary>
    /// B packed once per entry (its last panel at the edge tile's width where it fits), then multiplied by A of
    /// several heights: the run picks, per M, a tile that reads that packing (same NR and edge width).
    /// </summary>
    [Fact]
    public void PackedB_EveryKernel_MatchesReference_AnyRowCount()
    {
        var acts = new[] { (BiasAxis.None, Activation.None), (BiasAxis.Column, Activation.Relu), (BiasAxis.Row, Activation.Clip(-0.25f, 0.5f)) };
        foreach (var kernel in GemmKernels.Supported)
            foreach (var (n, k, transB) in new[]
            {
                (1, 1, true), (17, 5, false), (kernel.NR / 2, 40, true), (kernel.NR / 2 + 1, 33, false), (kernel.NR + 1, 300, true),
                (97, GemmDriver.KcMax + 3, false), (40, 0, true),
            })
            {
                var (_, b0, _, _) = new GemmCase(1, n, k, TransB: transB, PadB: 2).Data();
                using var packed = G.PackBWith(kernel, n, k, b0, transB ? k + 2 : n + 2, transB);
                int i = 0;
                foreach (int m in new[] { 1, kernel.MR - 1, kernel.MR + 1, 37, 100 })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var (axis, act) = acts[i++ % acts.Length];
                        var gc = new GemmCase(m, n, k, TransB: transB, PadA: 1, PadB: 2, PadC: 3, BiasAxis: axis, Activation: act);
                        Assert.True(packed.Fits(GemmKernels.For(m, n, packed.Kernel, packed.Fits)));
                        gc.Check((a, b, c, bias) => G.Compute(m, a, gc.Lda, packed, c, gc.Ldc, bias, axis, act, threads), $"packed B {kernel} threads={threads}");
                    }
            }
        // The internal PackB packs for the dispatcher's pick for N.
        using var w = G.PackB(768, 64, new GemmCase(1, 768, 64, TransB: true).Data().B, 64, true);
        Assert.Same(GemmKernels.For(0, 768), w.Kernel);
    }

    [Fact]
    public void Registry_HasATileForEveryTier_AndDescribeNamesThePick()
    {
        foreach (var tier in new[] { IsaTier.Avx512, IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar })
            Assert.Contains(GemmKernels.All, k => k.Tier == tier && k.MR > 0 && k.NR > 0);
        Assert.Contains(GemmKernels.Best.Name, G.Describe());
    }

    [Fact]
    public void For_PicksTheCandidateWithTheBestUtilizationTimesSpeed()
    {
        var candidates = GemmKernels.Candidates;
        Assert.Contains(GemmKernels.Best, candidates);
        Assert.All(candidates, k => Assert.True(IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best && k.Speed > 0, k.Name));
        // Best is the fastest entry of the best tier: large products, where padding does not matter, run it.
        Assert.Equal(candidates.Where(k => k.Tier == GemmKernels.BestTier).Max(k => k.Speed), GemmKernels.Best.Speed);
        foreach (int m in new[] { 0, 1, 13, 16, 49, 64, 128, 500, 2048 })
            foreach (int n in new[] { 0, 1, 17, 49, 128, 196, 784, 3072 })
            {
                var pick = GemmKernels.For(m, n);
                Assert.Contains(pick, candidates);
                double Score(GemmKernel k) => Rows(m, k.MR) * k.ColumnUtilization(n) * k.Speed;
                Assert.All(candidates, k => Assert.True(Score(k) <= Score(pick) + 1e-9, $"m={m} n={n}: {k.Name} {Score(k)} beats {pick.Name} {Score(pick)}"));
            }
        Assert.Same(GemmKernels.Best, GemmKernels.For(2048 * GemmKernels.Best.MR, 64 * GemmKernels.Best.NR));
        var one = GemmKernels.For(1, 1024);
        if (GemmKernels.BestTier == IsaTier.Avx512)
        {
            Assert.Equal(IsaTier.Avx2Fma, one.Tier); // 1 row of 6 beats 1 of 12 to 16
            Assert.Equal(32, GemmKernels.Best.NR);   // the two-B-vector tiles lead
            Assert.Contains(candidates, k => k is { MR: 16, NR: 16 });
        }
        else Assert.Same(GemmKernels.Best, one);
    }

    [Fact]
    public unsafe void ColumnUtilization_CountsTheEdgeTilesWidth()
    {
        var wide = new GemmKernel(IsaTier.Scalar, 4, 32, null, new GemmKernel(IsaTier.Scalar, 4, 16, null));
        Assert.Equal(1.0, wide.ColumnUtilization(48), 12);         // 32 + 16
        Assert.Equal(49.0 / 64, wide.ColumnUtilization(49), 12);   // 32 + 32: 17 columns do not fit the edge
        Assert.Equal(1.0 / 16, wide.ColumnUtilization(1), 12);     // the edge tile alone
        Assert.Equal(1.0, wide.ColumnUtilization(0), 12);          // unknown N
        Assert.Equal(33.0 / 64, new GemmKernel(IsaTier.Scalar, 4, 32, null).ColumnUtilization(33), 12);
    }

    private static double Rows(int m, int mr) => m <= 0 ? 1 : (double)m / ((m + mr - 1) / mr * mr);
}
