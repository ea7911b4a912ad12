using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// A whole model pruned to a structured pattern (the test-only <see cref="EveryOtherColumnPattern"/>) plans that
/// pattern's kernels for its conv and fully connected layers and computes what the reference plan computes.
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public class StructuredPatternPlanTests
{
    private static float[] RunOnce(InferenceSession s, Tensor x) => s.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"].ToArray();

    [Fact]
    public void Zoo_prunes_every_layer_but_the_first_conv_to_the_pattern()
    {
        var evens = new EveryOtherColumnPattern();
        var zoo = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 4, Pattern: evens));
        Assert.Equal(evens.Name, zoo.Pattern);
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        for (int i = 0; i < zoo.Layers.Count; i++)
        {
            var w = graph.Initializers[zoo.Layers[i].WeightName].AsFloats();
            int rows = (int)zoo.Layers[i].Dims[0];
            string? violation = evens.Violation(w, rows, w.Length / rows);
            if (i == 0) Assert.NotNull(violation); // the first conv stays dense
            else Assert.Null(violation);
        }
        // A pattern that fixes its own sparsity takes none; unstructured is the plain magnitude pruning.
        var e = Assert.Throws<ArgumentException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(Sparsity: 0.9, Pattern: evens)));
        Assert.Contains("fixes its own sparsity", e.Message);
        var plain = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 4, Sparsity: 0.8));
        var viaPattern = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 4, Sparsity: 0.8, Pattern: UnstructuredPattern.Instance));
        Assert.Equal(plain.Model.ToBytes(), viaPattern.Model.ToBytes());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_pattern_pruned_model_plans_the_pattern_and_matches_the_reference(bool force)
    {
        var evens = new EveryOtherColumnPattern();
        var zoo = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 6, Pattern: evens));
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        var options = new PassOptions { Patterns = PatternPlanning.Only([evens], force) };
        var sparse = InferenceSession.Create(graph, options);
        var reference = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        using var x = Tensor.Random(11, new[] { 2, 3, 32, 32 });
        var ys = RunOnce(sparse, x);
        var yr = RunOnce(reference, x);
        float scale = yr.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < yr.Length; i++)
            Assert.True(MathF.Abs(ys[i] - yr[i]) <= 1e-3f * scale, $"logit {i}: {ys[i]} vs {yr[i]}");

        var plan = sparse.PlanFor(2);
        var steps = plan.Steps.Where(s => s.Node.OpType is "Conv" or "Gemm").ToArray();
        if (force)
        {
            // Every layer but the dense first conv runs the pattern's kernel, the fully connected one included.
            Assert.Equal(steps.Length - 1, plan.Patterns.Count);
            Assert.All(plan.Patterns.Values, p => Assert.Equal(evens.Name, p));
            Assert.Contains(plan.Patterns.Keys, n => n.OpType == "Gemm");
            Assert.All(steps.Skip(1), s => Assert.Contains("ReferenceSpmm test-evens", s.Kernel));
        }
        else
        {
            // Timed: every pruned conv measured the pattern's candidate alongside the others.
            Assert.All(steps.Where(s => s.Node.OpType == "Conv").Skip(1), s => Assert.Contains("pattern-test-evens", s.Kernel));
        }
    }

    [Fact]
    public void Detection_is_off_for_dense_plans_and_for_patterns_not_allowed()
    {
        var evens = new EveryOtherColumnPattern();
        var graph = OnnxGraphImporter.ToGraph(ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 7, Pattern: evens)).Model);
        Assert.Empty(InferenceSession.Create(graph, PassOptions.Dense with { Patterns = PatternPlanning.Only([evens], true) }).PlanFor(1).Patterns);
        Assert.Empty(InferenceSession.Create(graph, new PassOptions { Patterns = PatternPlanning.None }).PlanFor(1).Patterns);
    }
}
