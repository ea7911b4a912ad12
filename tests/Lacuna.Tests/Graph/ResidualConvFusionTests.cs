using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;
using Lacuna.Threading;

namespace Lacuna.Tests.Graph;

/// <summary>
/// A residual Add (and its Relu) fused into the Conv producing one operand (<see cref="GraphPasses.FuseResidualAdds"/>)
/// computes what the separate Conv and Add nodes compute, on dense and sparse plans, and only fires where it may.
/// Sets WorkerPool.DefaultThreads: run alone, or a concurrent test's plan keys (by thread count) change under it
/// (ZooTransformerTests.BertTiny_AtSparsity09_* lost its timings that way in a CI run).
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public class ResidualConvFusionTests
{
    private const int C = 5, M = 16, H = 9, W = 11;

    /// <summary>
    /// y = [Relu](Conv3x3(x, W, B) + r) as ONNX, with x [N,C,H,W] and r [rBatch,M,H,W] (rBatch "N" or a number);
    /// <paramref name="convFirst"/> puts the conv's output as the Add's first operand. Weights sparsity as given.
    /// </summary>
    private static ModelGraph Model(bool relu, bool convFirst, double sparsity = 0, object? rBatch = null,
        bool convIsOutput = false, bool secondConsumer = false, bool reluBeforeAdd = false, int h = H, int w = W)
    {
        var g = new GraphProto { Name = "residual" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, "N", C, h, w));
        g.Input.Add(ValueInfoProto.Tensor("r", TensorDataType.Float, rBatch ?? "N", M, h, w));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, "N", M, h, w));
        var weights = TestData.Random(M * C * 9, 11, -1f, 1f);
        var keep = TestData.Random(weights.Length, 12, 0f, 1f);
        for (int i = 0; i < weights.Length; i++) if (keep[i] < sparsity) weights[i] = 0f;
        g.Initializer.Add(TensorProto.FromFloats("W", [M, C, 3, 3], weights));
        g.Initializer.Add(TensorProto.FromFloats("B", [M], TestData.Random(M, 13, -1f, 1f)));
        g.Node.Add(new NodeProto("Conv", "conv", ["x", "W", "B"], ["c"], AttributeProto.IntList("pads", [1, 1, 1, 1])));
        string addIn = "c";
        if (reluBeforeAdd) { g.Node.Add(new NodeProto("Relu", "conv_relu", ["c"], ["cr"])); addIn = "cr"; }
        g.Node.Add(new NodeProto("Add", "add", convFirst ? [addIn, "r"] : ["r", addIn], [relu ? "s" : "y"]));
        if (relu) g.Node.Add(new NodeProto("Relu", "relu", ["s"], ["y"]));
        if (convIsOutput) g.Output.Add(ValueInfoProto.Tensor("c", TensorDataType.Float, "N", M, h, w));
        if (secondConsumer)
        {
            g.Node.Add(new NodeProto("Sigmoid", "other_use", ["c"], ["z"]));
            g.Output.Add(ValueInfoProto.Tensor("z", TensorDataType.Float, "N", M, h, w));
        }
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        return OnnxGraphImporter.ToGraph(new OnnxModel(model));
    }

    private static float[] Run(InferenceSession s, Tensor x, Tensor r, string output = "y") =>
        s.Run(new Dictionary<string, Tensor> { ["x"] = x, ["r"] = r })[output].ToArray();

    private static void WithThreads(int threads, Action body)
    {
        int saved = WorkerPool.DefaultThreads;
        try { WorkerPool.DefaultThreads = threads; body(); }
        finally { WorkerPool.DefaultThreads = saved; }
    }

    private static void AssertClose(float[] expected, float[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Max(MathF.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{context} [{i}]: {actual[i]} vs {expected[i]}");
    }

    public static TheoryData<bool, bool, double, int, int> Cases()
    {
        var d = new TheoryData<bool, bool, double, int, int>();
        foreach (bool relu in new[] { true, false })
            foreach (bool convFirst in new[] { true, false })
                foreach (double sparsity in new[] { 0.0, 0.9 })
                    foreach (int batch in new[] { 1, 3 })
                        d.Add(relu, convFirst, sparsity, batch, relu == convFirst ? 1 : 2);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_conv_residual_equals_the_separate_conv_and_add(bool relu, bool convFirst, double sparsity, int batch, int threads)
    {
        var graph = Model(relu, convFirst, sparsity);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, new PassOptions { FuseResidualAdds = false });
        var reference = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        var conv = Assert.Single(fused.Graph.Nodes);
        Assert.True(GraphPasses.HasResidual(conv));
        Assert.Equal("r", conv.Inputs[GraphPasses.ConvResidualInput]);
        Assert.Equal("y", conv.Outputs[0]);
        Assert.Equal(relu ? ActivationKind.Relu : ActivationKind.None, conv.FusedActivation.Kind);
        Assert.Contains(separate.Graph.Nodes, n => n.OpType == "Add");

        var x = Tensor.FromArray(TestData.Random(batch * C * H * W, 21, -2f, 2f), batch, C, H, W);
        var r = Tensor.FromArray(TestData.Random(batch * M * H * W, 22, -2f, 2f), batch, M, H, W);
        WithThreads(threads, () =>
        {
            var expected = Run(separate, x, r);
            var actual = Run(fused, x, r);
            AssertClose(expected, actual, "fused vs separate");
            AssertClose(Run(reference, x, r), actual, "fused vs reference");
            if (relu) Assert.Contains(actual, v => v == 0f);
            Assert.Contains(actual, v => v != 0f);
            // The kernel says so, and never writes its output over the residual it still reads.
            var plan = fused.PlanFor(batch);
            var step = Assert.Single(plan.Kernels.OfType<ConvKernel>());
            Assert.EndsWith(relu ? " + residual Relu" : " + residual", step.KernelName);
            var (yo, yl) = plan.Memory.Placement["y"];
            var (ro, rl) = plan.Memory.Placement["r"];
            Assert.True(yo + yl <= ro || ro + rl <= yo, $"y [{yo}, {yo + yl}) overlaps r [{ro}, {ro + rl})");
        });
    }

    [Fact]
    public void Residual_sum_over_a_large_output_splits_across_the_pool_and_still_matches()
    {
        const int h = 512, w = 512; // M·h·w = 1 << 22 floats: the threaded sum
        Assert.True(M * h * w >= ConvKernel.ResidualParallelFrom);
        var graph = Model(relu: true, convFirst: true, h: h, w: w);
        var fused = InferenceSession.Create(graph, PassOptions.Dense);
        var separate = InferenceSession.Create(graph, PassOptions.Dense with { FuseResidualAdds = false });
        Assert.True(GraphPasses.HasResidual(Assert.Single(fused.Graph.Nodes)));
        var x = Tensor.FromArray(TestData.Random(C * h * w, 51, -2f, 2f), 1, C, h, w);
        var r = Tensor.FromArray(TestData.Random(M * h * w, 52, -2f, 2f), 1, M, h, w);
        WithThreads(2, () => AssertClose(Run(separate, x, r), Run(fused, x, r), "512x512"));
    }

    [Fact]
    public void Exported_fused_graph_writes_the_residual_back_as_an_add()
    {
        var fused = InferenceSession.Create(Model(relu: true, convFirst: false));
        var exported = OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(fused.Graph));
        Assert.Equal(["Conv", "Add", "Relu"], exported.Nodes.Select(n => n.OpType));
        Assert.Equal(3, exported.Nodes[0].Inputs.Count);
        var again = InferenceSession.Create(exported);
        Assert.True(GraphPasses.HasResidual(Assert.Single(again.Graph.Nodes)));
        var x = Tensor.FromArray(TestData.Random(2 * C * H * W, 31, -2f, 2f), 2, C, H, W);
        var r = Tensor.FromArray(TestData.Random(2 * M * H * W, 32, -2f, 2f), 2, M, H, W);
        var separate = InferenceSession.Create(exported, new PassOptions { FuseResidualAdds = false });
        AssertClose(Run(separate, x, r), Run(fused, x, r), "exported and fused");
    }

    [Theory]
    [InlineData("output")]    // the conv's own output is a graph output
    [InlineData("consumer")]  // the conv's output feeds another node too
    [InlineData("broadcast")] // r is [1,M,H,W]: equal to the conv's output at batch 1 only
    [InlineData("relu")]      // a Relu between the conv and the Add stays
    public void Residual_fusion_does_not_fire_where_it_would_change_the_graph(string why)
    {
        var graph = Model(relu: true, convFirst: true, rBatch: why == "broadcast" ? 1 : null,
            convIsOutput: why == "output", secondConsumer: why == "consumer", reluBeforeAdd: why == "relu");
        var fused = InferenceSession.Create(graph);
        Assert.DoesNotContain(fused.Graph.Nodes, GraphPasses.HasResidual);
        Assert.Contains(fused.Graph.Nodes, n => n.OpType == "Add");
        // Still the right answer (batch 3 broadcasts r in the broadcast case).
        var separate = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        int rb = why == "broadcast" ? 1 : 3;
        var x = Tensor.FromArray(TestData.Random(3 * C * H * W, 41, -2f, 2f), 3, C, H, W);
        var r = Tensor.FromArray(TestData.Random(rb * M * H * W, 42, -2f, 2f), rb, M, H, W);
        AssertClose(Run(separate, x, r), Run(fused, x, r), why);
    }

    [Theory]
    [InlineData(0.0, 1, 1)]
    [InlineData(0.0, 3, 2)]
    [InlineData(0.9, 1, 2)]
    [InlineData(0.9, 3, 1)]
    public void Resnet_mini_with_fused_residuals_equals_the_unfused_graph(double sparsity, int batch, int threads)
    {
        var graph = OnnxGraphImporter.ToGraph(ZooBuilder.Build("resnet-mini", seed: 7, sparsity: sparsity).Model);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, new PassOptions { FuseResidualAdds = false });
        Assert.Contains(separate.Graph.Nodes, n => n.OpType == "Add");
        Assert.DoesNotContain(fused.Graph.Nodes, n => n.OpType == "Add");
        Assert.Equal(separate.Graph.Nodes.Count(n => n.OpType == "Add"), fused.Graph.Nodes.Count(GraphPasses.HasResidual));
        var input = fused.RuntimeInputs[0];
        using var x = Tensor.Random(17, [batch, 3, 32, 32]);
        WithThreads(threads, () =>
        {
            var feeds = new Dictionary<string, Tensor> { [input.Name] = x };
            var expected = separate.Run(feeds)[fused.Outputs[0].Name].ToArray();
            var actual = fused.Run(feeds)[fused.Outputs[0].Name].ToArray();
            float scale = expected.Max(MathF.Abs);
            Assert.True(scale > 0);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale, $"logit {i}: {actual[i]} vs {expected[i]}");
        });
    }
}
