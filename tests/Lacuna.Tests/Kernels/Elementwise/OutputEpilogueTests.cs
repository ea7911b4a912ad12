using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.Kernels.SparseConv;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Elementwise;

/// <summary>
/// A residual fused into a kernel's epilogue (<c>OutputEpilogue</c>): y = act(kernel(x) + r) from the CSR SpMM, the
/// dense direct conv and the direct sparse conv, against the reference kernel followed by the sum, on every tile, at
/// widths around every tile and thread split, output poisoned.
/// </summary>
public class OutputEpilogueTests
{
    private static readonly Activation[] Activations = [Activation.Relu, Activation.None, Activation.Clip(-0.5f, 0.75f)];

    /// <summary>act(y + r) elementwise, the specification of the epilogue.</summary>
    private static float[] SumThen(float[] y, float[] r, Activation act)
    {
        var s = new float[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            float v = y[i] + r[i];
            s[i] = act.Kind switch
            {
                ActivationKind.Relu => v <= 0f ? 0f : v,
                ActivationKind.Clip => Math.Min(Math.Max(v, act.Min), act.Max),
                _ => v,
            };
        }
        return s;
    }

    public static TheoryData<int, int, int> SpmmShapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int n in new[] { 1, 7, 15, 16, 17, 63, 64, 65, 129, 200 }) d.Add(13, 37, n);
        d.Add(1, 5, 33);
        d.Add(64, 256, 196);
        return d;
    }

    [Theory]
    [MemberData(nameof(SpmmShapes))]
    public void Spmm_with_residual_equals_the_product_then_the_sum(int m, int k, int n)
    {
        var w = TestData.Random(m * k, 1);
        Pruner.Random(w, 0.8, 2);
        var csr = CsrMatrix.FromDense(w, m, k);
        var bias = TestData.Random(m, 3);
        var x = TestData.Random(k * n, 4, -2f, 2f);
        var r = TestData.Random(m * n, 5, -2f, 2f);
        var withBias = new float[m * n];
        ReferenceSpmm.Compute(csr, x, n, withBias, bias);
        var noBias = new float[m * n];
        ReferenceSpmm.Compute(csr, x, n, noBias);
        // The tuned plan with a bias, and every register tile forced (CreateWithTile has no bias).
        var plans = new List<(SpmmPlan Plan, float[] Product)> { (SpmmPlan.Create(csr, bias), withBias) };
        plans.AddRange(SpmmPlan.TileNames.Select(t => (SpmmPlan.CreateWithTile(csr, t), noBias)));
        foreach (var act in Activations)
            foreach (var (plan, product) in plans)
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = TestData.Poisoned(m * n);
                    plan.Run(x, n, y, r, act, threads);
                    KernelAssert.Close(SumThen(product, r, act), y, k, $"{plan.Describe()} {act} m{m} k{k} n{n} t{threads}");
                }
    }

    public static TheoryData<SparseConv2dTests.Case> ConvCases()
    {
        var d = new TheoryData<SparseConv2dTests.Case>();
        foreach (int w in new[] { 1, 7, 8, 9, 15, 16, 17, 33 }) d.Add(new SparseConv2dTests.Case(3, 5, 4, w, 3, 1, 1, 1, 1, 1));
        d.Add(new SparseConv2dTests.Case(6, 37, 14, 14, 1, 1, 0, 0, 0, 0)); // 1x1, output channels past a channel block
        d.Add(new SparseConv2dTests.Case(4, 6, 9, 11, 3, 2, 1, 1, 1, 1));   // stride 2
        d.Add(new SparseConv2dTests.Case(96, 2, 45, 45, 3, 1, 1, 1, 1, 1)); // several row blocks of the sparse conv
        return d;
    }

    private static (float[] W, float[] B, float[] X, float[] R, float[] Conv, int[] Ws, int OutLen) ConvData(SparseConv2dTests.Case c, int batch, double sparsity)
    {
        int[] ws = [c.M, c.C, c.K, c.K];
        var w = TestData.Random(c.M * c.C * c.K * c.K, 11);
        if (sparsity > 0) Pruner.Random(w, sparsity, 12);
        var b = TestData.Random(c.M, 13);
        var x = TestData.Random(batch * c.C * c.H * c.W, 14, -2f, 2f);
        int[] os = c.Params.OutputShape([batch, c.C, c.H, c.W], ws);
        int outLen = os[0] * os[1] * os[2] * os[3];
        var r = TestData.Random(outLen, 15, -2f, 2f);
        var conv = new float[outLen];
        ReferenceConv2d.Compute(x, [batch, c.C, c.H, c.W], w, ws, b, conv, c.Params, Activation.None);
        return (w, b, x, r, conv, ws, outLen);
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Dense_direct_and_gemm_convs_with_residual_equal_the_conv_then_the_sum(SparseConv2dTests.Case c)
    {
        foreach (int batch in new[] { 1, 2 })
        {
            var (w, b, x, r, conv, ws, outLen) = ConvData(c, batch, 0);
            // Every direct tile, and the GEMM lowerings (panels of C summed after their last K block).
            var plans = DenseConv2dPlan.DirectTiles.Select(t => (Name: t, Plan: DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, ConvAlgorithm.Direct, t))).ToList();
            plans.Add(("im2col", DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, ConvAlgorithm.Im2ColGemm)));
            if (c.K == 1 && c.Stride == 1) plans.Add(("pointwise", DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, ConvAlgorithm.Pointwise)));
            foreach (var (tile, plan) in plans)
            {
                Assert.True(plan.FusesEpilogue);
                foreach (var act in Activations)
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var y = TestData.Poisoned(outLen);
                        plan.Run(x, y, batch, r, act, threads);
                        KernelAssert.Close(SumThen(conv, r, act), y, c.C * c.K * c.K, $"{tile} {c} {act} batch {batch} t{threads}");
                    }
                plan.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Sparse_direct_conv_with_residual_equals_the_conv_then_the_sum(SparseConv2dTests.Case c)
    {
        foreach (int batch in new[] { 1, 2 })
        {
            var (w, b, x, r, conv, ws, outLen) = ConvData(c, batch, 0.85);
            foreach (var kernel in SparseConvKernels.Supported)
            {
                var plan = SparseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, kernel);
                foreach (var act in Activations)
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var y = TestData.Poisoned(outLen);
                        plan.Run(x, y, batch, r, act, threads);
                        KernelAssert.Close(SumThen(conv, r, act), y, c.C * c.K * c.K, $"{kernel} {c} {act} batch {batch} t{threads}");
                    }
            }
        }
    }

    private static readonly PostActivation[] Posts = [PostActivation.HardSwish, PostActivation.Sigmoid, PostActivation.HardSigmoid(0.3f, 0.4f)];

    /// <summary>The post-activations' definitions (ONNX), in double.</summary>
    private static float[] Then(float[] y, PostActivation post) => y.Select(v => (float)(post.Kind switch
    {
        PostActivationKind.Sigmoid => 1 / (1 + Math.Exp(-(double)v)),
        PostActivationKind.HardSwish => v * Math.Max(0, Math.Min(1, v / 6.0 + 0.5)),
        PostActivationKind.HardSigmoid => Math.Max(0, Math.Min(1, post.Alpha * (double)v + post.Beta)),
        _ => v,
    })).ToArray();

    private static float[] Activated(float[] y, Activation act) => y.Select(act.Apply).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(130)]
    public void Spmm_post_activation_follows_its_own_activation_or_the_residual_sum(int n)
    {
        const int m = 21, k = 40;
        var w = TestData.Random(m * k, 31);
        Pruner.Random(w, 0.8, 32);
        var csr = CsrMatrix.FromDense(w, m, k);
        var bias = TestData.Random(m, 33);
        var x = TestData.Random(k * n, 34, -2f, 2f);
        var r = TestData.Random(m * n, 35, -2f, 2f);
        var product = new float[m * n];
        ReferenceSpmm.Compute(csr, x, n, product, bias);
        var relu = SpmmPlan.Create(csr, bias, Activation.Relu);
        var plain = SpmmPlan.Create(csr, bias);
        foreach (var post in Posts)
            foreach (int threads in new[] { 1, 2 })
            {
                var y = TestData.Poisoned(m * n);
                relu.Run(x, n, y, default, default, threads, post);
                KernelAssert.Close(Then(Activated(product, Activation.Relu), post), y, k, $"relu then {post} n{n} t{threads}");
                y = TestData.Poisoned(m * n);
                plain.Run(x, n, y, r, Activation.Clip(-1f, 1.5f), threads, post);
                KernelAssert.Close(Then(SumThen(product, r, Activation.Clip(-1f, 1.5f)), post), y, k, $"residual then {post} n{n} t{threads}");
            }
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv_post_activation_follows_its_own_activation_or_the_residual_sum(SparseConv2dTests.Case c)
    {
        const int batch = 2;
        var (w, b, x, r, conv, ws, outLen) = ConvData(c, batch, 0.85);
        var relu = new List<(string Name, Action<float[], float[], PostActivation, int> Run)>();
        var none = new List<(string Name, Action<float[], float[], PostActivation, int> Run)>();
        foreach (var alg in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2ColGemm })
        {
            var pr = DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.Relu, alg);
            var pn = DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, alg);
            relu.Add(($"dense {alg}", (xs, y, post, t) => pr.Run(xs, y, batch, default, default, t, post)));
            none.Add(($"dense {alg}", (xs, y, post, t) => pn.Run(xs, y, batch, r, Activation.Relu, t, post)));
        }
        var sr = SparseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.Relu);
        var sn = SparseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None);
        relu.Add(("sparse", (xs, y, post, t) => sr.Run(xs, y, batch, default, default, t, post)));
        none.Add(("sparse", (xs, y, post, t) => sn.Run(xs, y, batch, r, Activation.Relu, t, post)));
        foreach (var post in Posts)
            foreach (int threads in new[] { 1, 2 })
            {
                foreach (var (name, run) in relu)
                {
                    var y = TestData.Poisoned(outLen);
                    run(x, y, post, threads);
                    KernelAssert.Close(Then(Activated(conv, Activation.Relu), post), y, c.C * c.K * c.K, $"{name} relu then {post} {c} t{threads}");
                }
                foreach (var (name, run) in none)
                {
                    var y = TestData.Poisoned(outLen);
                    run(x, y, post, threads);
                    KernelAssert.Close(Then(SumThen(conv, r, Activation.Relu), post), y, c.C * c.K * c.K, $"{name} residual then {post} {c} t{threads}");
                }
            }
    }

    [Fact]
    public void A_residual_is_refused_where_the_plan_cannot_fuse_it()
    {
        var c = new SparseConv2dTests.Case(3, 5, 6, 6, 3, 1, 1, 1, 1, 1);
        var (w, b, x, r, _, ws, outLen) = ConvData(c, 1, 0.85);
        var y = new float[outLen];
        // The plan's own activation would come before the sum.
        using var relu = DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.Relu, ConvAlgorithm.Direct);
        Assert.Contains("activation", Assert.ThrowsAny<ArgumentException>(() => relu.Run(x, y, 1, r, Activation.None)).Message);
        var sparse = SparseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.Relu);
        Assert.Contains("activation", Assert.ThrowsAny<ArgumentException>(() => sparse.Run(x, y, 1, r, Activation.None)).Message);
        var spmm = SpmmPlan.Create(CsrMatrix.FromDense(w, c.M, c.C * 9), b, Activation.Relu);
        Assert.Contains("activation", Assert.ThrowsAny<ArgumentException>(() => spmm.Run(TestData.Random(27 * 4, 1), 4, new float[20], new float[20], Activation.None)).Message);
        // The depthwise tiles have no fused residual.
        var dwParams = Conv2dParams.Square(3, pad: 1, groups: 4);
        using var depthwise = DenseConv2dPlan.Create(TestData.Random(4 * 9, 7), [4, 1, 3, 3], TestData.Random(4, 8), dwParams, 6, 6, Activation.None);
        Assert.Equal(ConvAlgorithm.Depthwise, depthwise.Algorithm);
        Assert.False(depthwise.FusesEpilogue);
        Assert.ThrowsAny<ArgumentException>(() => depthwise.Run(TestData.Random(4 * 36, 9), new float[4 * 36], 1, new float[4 * 36], Activation.None));
        // A residual shorter than the output.
        using var direct = DenseConv2dPlan.Create(w, ws, b, c.Params, c.H, c.W, Activation.None, ConvAlgorithm.Direct);
        Assert.Contains("residual", Assert.ThrowsAny<ArgumentException>(() => direct.Run(x, y, 1, r.AsSpan(1), Activation.None)).Message);
    }
}
