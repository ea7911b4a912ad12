using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

public class SparsePlannerTests
{
    private static float[] RunOnce(InferenceSession s, Tensor x) => s.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"].ToArray();

    [Fact]
    public void Pruned_network_runs_the_same_through_the_sparse_and_the_dense_plan()
    {
        var zoo = ZooBuilder.Build("resnet-mini", seed: 5, sparsity: 0.9);
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        var sparse = InferenceSession.Create(graph);
        var dense = InferenceSession.Create(graph, PassOptions.Dense);
        var reference = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        using var x = Tensor.Random(9, new[] { 2, 3, 32, 32 });
        var ys = RunOnce(sparse, x);
        var yd = RunOnce(dense, x);
        var yr = RunOnce(reference, x);
        float scale = yr.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < yr.Length; i++)
        {
            Assert.True(MathF.Abs(ys[i] - yr[i]) <= 1e-3f * scale, $"sparse logit {i}: {ys[i]} vs {yr[i]}");
            Assert.True(MathF.Abs(yd[i] - yr[i]) <= 1e-3f * scale, $"dense logit {i}: {yd[i]} vs {yr[i]}");
        }
        // Every pruned conv layer (all but the first) was planned with sparse candidates and says what it measured.
        var kernels = sparse.PlanFor(2).Steps.Where(st => st.Node.OpType == "Conv").Select(st => st.Kernel).ToArray();
        Assert.True(kernels.Count(k => k.Contains("sparse-direct") && k.Contains(" ms")) >= kernels.Length - 1, string.Join("\n", kernels));
        Assert.All(dense.PlanFor(2).Steps.Where(st => st.Node.OpType == "Conv"), st => Assert.DoesNotContain("sparse", st.Kernel));
    }

    [Fact]
    public void Planner_picks_the_fastest_measured_candidate_and_dense_on_ties()
    {
        static Lacuna.Graph.Ops.ConvCandidate C(string n, double ms) =>
            new() { Name = n, Run = (_, _, _) => { }, Describe = () => n, MeasuredMs = ms };
        Assert.Equal("spmm", Lacuna.Graph.Ops.ConvPlanner.Choose(new[] { C("dense", 2.0), C("sparse-direct", 1.5), C("spmm", 1.2) }).Name);
        Assert.Equal("dense", Lacuna.Graph.Ops.ConvPlanner.Choose(new[] { C("dense", 1.0), C("sparse-direct", 1.0) }).Name);
        Assert.Equal("dense", Lacuna.Graph.Ops.ConvPlanner.Choose(new[] { C("dense", double.NaN) }).Name);
    }
}
