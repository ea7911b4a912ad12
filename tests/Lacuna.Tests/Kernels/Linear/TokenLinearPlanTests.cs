using Lacuna.Kernels;
using Lacuna.Kernels.Linear;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Linear;

public class TokenLinearPlanTests
{
    private static Func<double, double>? Reference(TokenLinearActivation a) => a switch
    {
        TokenLinearActivation.Relu => ReferenceMath.Relu,
        TokenLinearActivation.Gelu => ReferenceMath.Gelu,
        TokenLinearActivation.GeluTanh => ReferenceMath.GeluTanh,
        _ => null,
    };

    private static float[] Weights(int outFeatures, int inFeatures, double sparsity, ulong seed)
    {
        var w = TestData.Random(outFeatures * inFeatures, seed);
        if (sparsity > 0) Pruner.Magnitude(w, sparsity);
        return w;
    }

    [Theory]
    [InlineData(0.0, TokenLinearActivation.None)]
    [InlineData(0.9, TokenLinearActivation.None)]
    [InlineData(0.9, TokenLinearActivation.Relu)]
    [InlineData(0.7, TokenLinearActivation.Gelu)]
    [InlineData(0.9, TokenLinearActivation.GeluTanh)]
    public void EveryCandidate_MatchesReference_AtOddTokenCounts(double sparsity, TokenLinearActivation activation)
    {
        foreach (var (outF, inF) in new[] { (48, 40), (37, 129), (64, 17) })
        {
            var w = Weights(outF, inF, sparsity, (ulong)(outF * 31 + inF));
            var bias = TestData.Random(outF, 5);
            var plan = TokenLinearPlan.Create(w, outF, inF, bias, activation);
            Assert.Equal(sparsity >= TokenLinearPlan.MinSparsity ? 3 : 1, plan.CandidateNames.Count);
            foreach (int tokens in new[] { 1, 7, 17, 33, 63, 64, 65, 128, 129 }) // around the 64-token panels
            {
                var x = TestData.Random(tokens * inF, (ulong)tokens);
                var expected = TestData.Poisoned(tokens * outF);
                ReferenceTransformer.TokenLinear(x, tokens, w, outF, inF, bias, expected, Reference(activation));
                for (int c = 0; c < plan.CandidateNames.Count; c++)
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var y = TestData.Poisoned(tokens * outF);
                        plan.RunCandidate(c, x, tokens, y, threads);
                        KernelAssert.Close(expected, y, inF, $"{plan.CandidateNames[c]} {outF}x{inF} T={tokens} t{threads} {activation}");
                    }
                var chosen = TestData.Poisoned(tokens * outF);
                plan.Run(x, tokens, chosen, 1);
                KernelAssert.Close(expected, chosen, inF, $"chosen {plan.ChosenFor(tokens, 1)} T={tokens}");
            }
        }
    }

    [Fact]
    public void Choice_IsTimedOncePerTokensAndThreads_AndReportsTheMeasurements()
    {
        var w = Weights(96, 64, 0.9, 3);
        var plan = TokenLinearPlan.Create(w, 96, 64, [], TokenLinearActivation.None);
        Assert.Null(plan.MeasuredMs(16, 1));
        string chosen = plan.ChosenFor(16, 1);
        var ms = plan.MeasuredMs(16, 1);
        Assert.NotNull(ms);
        Assert.Equal(["dense-gemm", "sparse", "sparse-panels"], ms!.Keys.Order());
        Assert.All(ms.Values, v => Assert.True(v > 0 && double.IsFinite(v)));
        Assert.Equal(ms.MinBy(p => p.Value).Key, chosen);
        Assert.Equal(chosen, plan.ChosenFor(16, 1)); // cached, not re-timed
        Assert.Contains("Spmm", plan.Describe());
    }

    [Fact]
    public void AcceptsAnyISpmmPlan_AsTheSparseCandidate()
    {
        var w = Weights(32, 24, 0.5, 9);
        var bias = TestData.Random(32, 10);
        // A structured pattern's plan plugs in the same way; here the unstructured pattern's.
        var sparse = UnstructuredPattern.Instance.CreatePlan(w, 32, 24, bias, TokenLinearPlan.SpmmActivation(TokenLinearActivation.Relu));
        Assert.NotNull(sparse);
        var plan = TokenLinearPlan.Create(w, 32, 24, bias, TokenLinearActivation.Relu, sparse);
        var x = TestData.Random(9 * 24, 11);
        var expected = new float[9 * 32];
        ReferenceTransformer.TokenLinear(x, 9, w, 32, 24, bias, expected, ReferenceMath.Relu);
        var y = TestData.Poisoned(9 * 32);
        plan.RunCandidate(1, x, 9, y, 1);
        KernelAssert.Close(expected, y, 24, "ISpmmPlan candidate");
    }

    [Fact]
    public void DenseOnly_WhenSparseIsNotAllowed()
    {
        var plan = TokenLinearPlan.Create(Weights(16, 16, 0.95, 1), 16, 16, [], allowSparse: false);
        Assert.Equal(["dense-gemm"], plan.CandidateNames);
    }

    [Fact]
    public void Errors_NameTheArgument()
    {
        var w = new float[12];
        Assert.Contains("weight", Assert.ThrowsAny<Exception>(() => TokenLinearPlan.Create(w, 4, 4, [])).Message);
        Assert.Contains("bias", Assert.ThrowsAny<Exception>(() => TokenLinearPlan.Create(w, 4, 3, new float[3])).Message);
        var plan = TokenLinearPlan.Create(TestData.Random(12, 1), 4, 3, []);
        Assert.Contains("input", Assert.ThrowsAny<Exception>(() => plan.Run(new float[5], 2, new float[8])).Message);
        Assert.Contains("output", Assert.ThrowsAny<Exception>(() => plan.Run(new float[6], 2, new float[7])).Message);
        var wrong = SpmmPlan.Create(Lacuna.Formats.CsrMatrix.FromDense(TestData.Random(6, 2), 2, 3));
        Assert.Contains("sparse plan", Assert.ThrowsAny<Exception>(() => TokenLinearPlan.Create(TestData.Random(12, 1), 4, 3, [], sparse: wrong)).Message);
    }
}
