using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// The planner frees the candidates a layer does not run (<see cref="ConvPlanner.ReleaseAllBut"/>): the kept one, and
/// the candidates that share its weights, still compute the reference; the others fail with a clear error if called.
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public class CandidateReleaseTests
{
    private static (ConvCandidates Prepared, float[] X, float[] Expected) PointwiseLayer()
    {
        int m = 24, c = 20, h = 7, w = 9;
        var weight = TestData.Random(m * c, 31);
        Pruner.Magnitude(weight, 0.9);
        var bias = TestData.Random(m, 32);
        var p = Conv2dParams.Square(1);
        var prepared = ConvPlanner.Prepare(weight, [m, c, 1, 1], bias, p, h, w, Activation.Relu, allowSparse: true,
            SpmmPrecision.Float32, PatternPlanning.None);
        var x = TestData.Random(c * h * w, 33);
        var expected = new float[m * h * w];
        ReferenceConv2d.Compute(x, [1, c, h, w], weight, [m, c, 1, 1], bias, expected, p, Activation.Relu);
        return (prepared, x, expected);
    }

    [Theory]
    [InlineData("spmm")]
    [InlineData("sparse-direct")]
    [InlineData("dense")]
    public void Releasing_the_others_leaves_the_kept_candidate_and_its_siblings_running(string keep)
    {
        var (prepared, x, expected) = PointwiseLayer();
        Assert.Contains(prepared.Kernels, k => k.Name == "spmm");
        Assert.Contains(prepared.Kernels, k => k.Name == "sparse-direct");
        Assert.All(prepared.Kernels, k => Assert.NotNull(k.Owner));
        var kept = prepared.Kernels.Single(k => k.Name == keep);
        ConvPlanner.ReleaseAllBut(prepared, kept);
        ConvPlanner.ReleaseAllBut(prepared, kept); // twice: owners dispose idempotently
        GC.Collect();
        GC.WaitForPendingFinalizers();
        foreach (var k in prepared.Kernels)
        {
            var y = TestData.Poisoned(expected.Length);
            if (ReferenceEquals(k.Owner, kept.Owner))
            {
                k.Run(x, y, 1);
                KernelAssert.Close(expected, y, 20, k.Name);
            }
            else Assert.Throws<ObjectDisposedException>(() => k.Run(x, y, 1));
        }
    }

    [Fact]
    public void A_kept_candidate_from_an_earlier_preparation_frees_every_new_one()
    {
        var (first, x, expected) = PointwiseLayer();
        var (second, _, _) = PointwiseLayer();
        var kept = first.Kernels.Single(k => k.Name == "spmm");
        ConvPlanner.ReleaseAllBut(second, kept);
        foreach (var k in second.Kernels) Assert.Throws<ObjectDisposedException>(() => k.Run(x, new float[expected.Length], 1));
        var y = TestData.Poisoned(expected.Length);
        kept.Run(x, y, 1);
        KernelAssert.Close(expected, y, 20);
    }

    [Fact]
    public void A_planned_pruned_network_still_matches_the_reference_after_the_losers_are_freed()
    {
        var graph = OnnxGraphImporter.ToGraph(ZooBuilder.Build("resnet-mini", seed: 12, sparsity: 0.9).Model);
        var sparse = InferenceSession.Create(graph);
        var reference = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        using var x = Tensor.Random(21, new[] { 2, 3, 32, 32 });
        using var x0 = Tensor.FromArray(x.Span[..(3 * 32 * 32)], 1, 3, 32, 32);
        // Batch 2 and then batch 1 (which shares the kernels both chose), collections in between: a plan that lost its
        // memory would throw ObjectDisposedException or compute garbage.
        sparse.PlanFor(2);
        sparse.PlanFor(1);
        for (int round = 0; round < 2; round++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            foreach (var input in new[] { x, x0 })
            {
                var feeds = new Dictionary<string, Tensor> { ["input"] = input };
                var ys = sparse.Run(feeds)["logits"].ToArray();
                var yr = reference.Run(feeds)["logits"].ToArray();
                float scale = yr.Max(MathF.Abs);
                Assert.True(scale > 0);
                for (int i = 0; i < yr.Length; i++) Assert.True(MathF.Abs(ys[i] - yr[i]) <= 1e-3f * scale, $"logit {i}: {ys[i]} vs {yr[i]}");
            }
        }
    }
}
