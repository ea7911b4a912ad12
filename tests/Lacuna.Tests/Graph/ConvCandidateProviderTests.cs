using System.Reflection;
using System.Runtime.CompilerServices;
using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>The planner's provider list: which kernel families apply to which layers, and the structured family.</summary>
public class ConvCandidateProviderTests
{
    private static (float[] W, int[] Shape, float[] Bias, Conv2dParams P) Layer(int m, int c, int k, int stride, int groups, double sparsity, ulong seed = 61)
    {
        var w = TestData.Random(m * (c / groups) * k * k, seed);
        if (sparsity > 0) Pruner.Magnitude(w, sparsity);
        var p = k == 1 ? new Conv2dParams(1, 1, stride, stride) with { Groups = groups }
            : new Conv2dParams(k, k, stride, stride, k / 2, k / 2, k / 2, k / 2) with { Groups = groups };
        return (w, [m, c / groups, k, k], TestData.Random(m, seed + 1), p);
    }

    // Detection is off here: a small random layer at 0.9 can satisfy a structured pattern exactly (a TASD series such as
    // 1:4+1:8 holds wherever no 8 columns of a row keep more than 3 entries), which the structured tests cover.
    private static string[] Families(int m, int c, int k, int stride, int groups, double sparsity, bool allowSparse = true, PatternPlanning? patterns = null)
    {
        var (w, shape, bias, p) = Layer(m, c, k, stride, groups, sparsity);
        var layer = new ConvLayer(w, shape, bias, p, 9, 9, Activation.Relu, allowSparse, SpmmPrecision.Float32, patterns ?? PatternPlanning.None);
        var applies = new List<string>();
        foreach (var provider in ConvPlanner.Providers)
            if (provider.Applies(layer)) applies.Add(provider.Family);
        return applies.ToArray();
    }

    [Fact]
    public void Each_family_applies_where_it_should()
    {
        Assert.Equal(["dense"], Families(16, 8, 3, 1, 1, 0));                       // dense 3x3
        Assert.Equal(["dense"], Families(16, 8, 1, 1, 1, 0.3));                     // too dense for sparse kernels
        Assert.Equal(["dense", "sparse-direct", "spmm"], Families(16, 8, 1, 1, 1, 0.9));
        Assert.Equal(["dense", "dense-strided-pointwise", "sparse-direct", "spmm-strided"], Families(16, 8, 1, 2, 1, 0.9));
        Assert.Equal(["dense", "sparse-direct"], Families(16, 8, 3, 2, 1, 0.9));
        Assert.Equal(["dense", "depthwise"], Families(8, 8, 3, 1, 8, 0.9));          // no sparse kernel for groups
        Assert.Equal(["dense"], Families(16, 8, 1, 1, 1, 0.9, allowSparse: false));
        Assert.Equal(["dense", "dense-strided-pointwise"], Families(16, 8, 1, 2, 1, 0.9, allowSparse: false));
    }

    [Fact]
    public void The_structured_family_applies_where_the_weights_satisfy_an_allowed_pattern()
    {
        var evens = new EveryOtherColumnPattern();
        var (w, shape, bias, p) = Layer(16, 8, 3, 1, 1, 0);
        evens.Prune(w, 16, 8 * 9, 0);
        var allowed = PatternPlanning.Only([evens]);
        var layer = new ConvLayer(w, shape, bias, p, 9, 9, Activation.Relu, true, SpmmPrecision.Float32, allowed);
        Assert.Equal([evens], layer.Patterns);
        bool structured = false;
        foreach (var provider in ConvPlanner.Providers) structured |= provider.Family == "pattern" && provider.Applies(layer);
        Assert.True(structured);
        // Not allowed, not sparse kernels, or a violated pattern: no structured candidate.
        Assert.Empty(new ConvLayer(w, shape, bias, p, 9, 9, Activation.Relu, true, SpmmPrecision.Float32, PatternPlanning.None).Patterns);
        Assert.Empty(new ConvLayer(w, shape, bias, p, 9, 9, Activation.Relu, false, SpmmPrecision.Float32, allowed).Patterns);
        var (dense, _, _, _) = Layer(16, 8, 3, 1, 1, 0);
        Assert.Empty(new ConvLayer(dense, shape, bias, p, 9, 9, Activation.Relu, true, SpmmPrecision.Float32, allowed).Patterns);
    }

    [Fact]
    public void Dense_comes_first_and_a_new_family_joins_without_touching_the_others()
    {
        Assert.Equal("dense", ConvPlanner.Providers[0].Family);
        var (w, shape, bias, p) = Layer(8, 8, 1, 1, 1, 0.9);
        var layer = new ConvLayer(w, shape, bias, p, 5, 5, Activation.None, true, SpmmPrecision.Float32, PatternPlanning.Detect);
        var before = ConvPlanner.Prepare(layer, ConvPlanner.Providers).Kernels.Select(k => k.Name).ToArray();
        var after = ConvPlanner.Prepare(layer, [.. ConvPlanner.Providers, new ExtraFamily()]).Kernels.Select(k => k.Name).ToArray();
        Assert.Equal([.. before, "extra"], after);
        Assert.Equal("dense", before[0]);
    }

    private sealed class ExtraFamily : ConvCandidateProvider
    {
        public override string Family => "extra";
        public override bool Applies(in ConvLayer layer) => layer.IsPointwise;
        public override void Add(in ConvLayer layer, List<ConvCandidate> candidates) =>
            candidates.Add(new ConvCandidate { Name = "extra", Run = (_, _, _) => { }, Describe = () => "extra" });
    }

    /// <summary>
    /// The memory property of <see cref="ConvPlanner.Prepare"/>: a candidate's delegates reach one prepared plan at
    /// most (its own), so the chosen kernel never keeps the other candidates' packed weights alive.
    /// </summary>
    [Theory]
    [InlineData(16, 8, 1, 1)]
    [InlineData(16, 8, 1, 2)]
    [InlineData(16, 8, 3, 1)]
    public void Each_candidate_captures_only_its_own_plan(int m, int c, int k, int stride)
    {
        var evens = new EveryOtherColumnPattern();
        var (w, shape, bias, p) = Layer(m, c, k, stride, 1, 0.9);
        evens.Prune(w, m, c * k * k, 0);
        var prepared = ConvPlanner.Prepare(w, shape, bias, p, 9, 9, Activation.Relu, true, patterns: PatternPlanning.Only([evens]));
        Assert.Contains(prepared.Kernels, x => x.Pattern == evens.Name);
        foreach (var cand in prepared.Kernels)
        {
            var plans = new HashSet<object>(ReferenceEqualityComparer.Instance);
            Reachable(cand.Run.Target, plans, new HashSet<object>(ReferenceEqualityComparer.Instance));
            Reachable(cand.Describe.Target, plans, new HashSet<object>(ReferenceEqualityComparer.Instance));
            Assert.True(plans.Count <= 1, $"{cand.Name} reaches {plans.Count} plans: {string.Join(", ", plans.Select(x => x.GetType().Name))}");
        }
    }

    /// <summary>Walks closure objects (compiler-generated classes and delegates); collects the plans they hold.</summary>
    private static void Reachable(object? o, HashSet<object> plans, HashSet<object> seen)
    {
        if (o is null || !seen.Add(o)) return;
        var type = o.GetType();
        if (o is ISpmmPlan || type.Name.EndsWith("Plan", StringComparison.Ordinal)) { plans.Add(o); return; }
        if (o is Delegate d) { Reachable(d.Target, plans, seen); return; }
        if (!type.IsDefined(typeof(CompilerGeneratedAttribute), false)) return;
        foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            if (!f.FieldType.IsValueType) Reachable(f.GetValue(o), plans, seen);
    }

    /// <summary>A structured pattern's candidates (1x1, strided 1x1 through the gather, k×k through im2col) compute the reference conv.</summary>
    [Theory]
    [InlineData(24, 16, 9, 1, 1, 2, "")]
    [InlineData(24, 16, 9, 1, 2, 3, "-strided")]
    [InlineData(16, 8, 10, 3, 2, 2, "-im2col")]
    [InlineData(8, 3, 11, 7, 2, 1, "-im2col")]
    [InlineData(17, 5, 7, 3, 1, 1, "-im2col")]
    public void Structured_candidates_match_the_reference_convolution(int m, int c, int hw, int k, int stride, int batch, string lowering)
    {
        var evens = new EveryOtherColumnPattern();
        var (w, shape, bias, p) = Layer(m, c, k, stride, 1, 0, 71);
        evens.Prune(w, m, c * k * k, 0);
        var prepared = ConvPlanner.Prepare(w, shape, bias, p, hw, hw, Activation.Relu, true, patterns: PatternPlanning.Only([evens]));
        var structured = Assert.Single(prepared.Kernels, x => x.Pattern is not null);
        Assert.Equal($"pattern-test-evens{lowering}", structured.Name);
        Assert.Contains("(pattern test-evens)", structured.Describe());
        var x = TestData.Random(batch * c * hw * hw, 72);
        var expected = new float[batch * prepared.OutLength];
        ReferenceConv2d.Compute(x, [batch, c, hw, hw], w, shape, bias, expected, p, Activation.Relu);
        var y = TestData.Poisoned(expected.Length);
        structured.Run(x, y, batch);
        KernelAssert.Close(expected, y, c * k * k, structured.Name);
    }

    [Fact]
    public void A_forced_pattern_is_the_only_candidate_and_otherwise_the_usual_ones_remain()
    {
        var evens = new EveryOtherColumnPattern();
        var (w, shape, bias, p) = Layer(16, 8, 1, 1, 1, 0.9);
        evens.Prune(w, 16, 8, 0);
        var forced = ConvPlanner.Prepare(w, shape, bias, p, 7, 7, Activation.None, true, patterns: PatternPlanning.Only([evens], force: true));
        Assert.Equal("pattern-test-evens", Assert.Single(forced.Kernels).Name);
        var (chosen, _) = ConvPlanner.Choose(forced, 1);
        Assert.Equal(evens.Name, chosen.Pattern);
        // A forced pattern the layer violates leaves the usual candidates.
        var (other, _, _, _) = Layer(16, 8, 1, 1, 1, 0.9, 99);
        var unforced = ConvPlanner.Prepare(other, shape, bias, p, 7, 7, Activation.None, true, patterns: PatternPlanning.Only([evens], force: true));
        Assert.Contains(unforced.Kernels, x => x.Name == "spmm");
        Assert.DoesNotContain(unforced.Kernels, x => x.Pattern is not null);
    }
}
