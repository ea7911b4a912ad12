using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.Elementwise;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;
using Lacuna.Threading;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Sigmoid, HardSigmoid and HardSwish after a Conv become its post-activation (<see cref="GraphNode.FusedPost"/>,
/// <see cref="GraphPasses.FuseActivations"/>): the same result as the separate nodes on dense and sparse plans, written
/// back as the node on export, and not fused where the graph needs the conv's own output.
/// Sets WorkerPool.DefaultThreads: runs in the global-threads collection.
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public class PostActivationFusionTests
{
    private const int C = 6, M = 18, H = 9, W = 13;

    /// <summary>y = post([Relu](Conv3x3(x))) as ONNX (opset 14, where HardSwish exists).</summary>
    private static ModelGraph Model(string post, bool relu, double sparsity, bool convIsOutput = false, string? after = null)
    {
        var g = new GraphProto { Name = "post" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, "N", C, H, W));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, "N", M, H, W));
        var weights = TestData.Random(M * C * 9, 61, -1f, 1f);
        var keep = TestData.Random(weights.Length, 62, 0f, 1f);
        for (int i = 0; i < weights.Length; i++) if (keep[i] < sparsity) weights[i] = 0f;
        g.Initializer.Add(TensorProto.FromFloats("W", [M, C, 3, 3], weights));
        g.Initializer.Add(TensorProto.FromFloats("B", [M], TestData.Random(M, 63, -1f, 1f)));
        g.Node.Add(new NodeProto("Conv", "conv", ["x", "W", "B"], ["c"], AttributeProto.IntList("pads", [1, 1, 1, 1])));
        string input = "c";
        if (relu) { g.Node.Add(new NodeProto("Relu", "relu", ["c"], ["cr"])); input = "cr"; }
        var attributes = post == "HardSigmoid" ? new[] { AttributeProto.Float("alpha", 0.3f), AttributeProto.Float("beta", 0.4f) } : [];
        g.Node.Add(new NodeProto(post, "post", [input], [after is null ? "y" : "p"], attributes));
        if (after is not null) g.Node.Add(new NodeProto(after, "after", ["p"], ["y"]));
        if (convIsOutput) g.Output.Add(ValueInfoProto.Tensor("c", TensorDataType.Float, "N", M, H, W));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 14));
        return OnnxGraphImporter.ToGraph(new OnnxModel(model));
    }

    private static float[] Run(InferenceSession s, Tensor x) => s.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"].ToArray();

    private static void AssertClose(float[] expected, float[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, MathF.Abs(expected[i])), $"{context} [{i}]: {actual[i]} vs {expected[i]}");
    }

    public static TheoryData<string, bool, double, int, int> Cases()
    {
        var d = new TheoryData<string, bool, double, int, int>();
        foreach (string post in new[] { "HardSwish", "Sigmoid", "HardSigmoid" })
            foreach (double sparsity in new[] { 0.0, 0.9 })
            {
                d.Add(post, sparsity > 0, sparsity, 1, 1);
                d.Add(post, sparsity == 0, sparsity, 3, 2);
            }
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_post_activation_equals_the_separate_nodes(string post, bool relu, double sparsity, int batch, int threads)
    {
        var graph = Model(post, relu, sparsity);
        var fused = InferenceSession.Create(graph);
        var reference = InferenceSession.Create(graph, PassOptions.None with { SparseKernels = false });
        var conv = Assert.Single(fused.Graph.Nodes);
        Assert.Equal(post, conv.FusedPost.OpType);
        Assert.Equal(relu ? ActivationKind.Relu : ActivationKind.None, conv.FusedActivation.Kind);
        if (post == "HardSigmoid") Assert.Equal((0.3f, 0.4f), (conv.FusedPost.Alpha, conv.FusedPost.Beta));
        var x = Tensor.FromArray(TestData.Random(batch * C * H * W, 64, -3f, 3f), batch, C, H, W);
        int saved = WorkerPool.DefaultThreads;
        try
        {
            WorkerPool.DefaultThreads = threads;
            var expected = Run(reference, x);
            var actual = Run(fused, x);
            AssertClose(expected, actual, $"{post} relu={relu} sparsity {sparsity}");
            Assert.Contains(actual, v => v > 0f && v < 1f); // inside the curve, not only its flat parts
            var step = Assert.Single(fused.PlanFor(batch).Kernels.OfType<ConvKernel>());
            Assert.Contains($"+ {conv.FusedPost}", step.KernelName);
        }
        finally { WorkerPool.DefaultThreads = saved; }
    }

    [Fact]
    public void Exported_fused_graph_writes_the_post_activation_back_as_its_node()
    {
        var graph = Model("HardSigmoid", relu: true, sparsity: 0);
        var fused = InferenceSession.Create(graph);
        var exported = OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(fused.Graph));
        Assert.Equal(["Conv", "Relu", "HardSigmoid"], exported.Nodes.Select(n => n.OpType));
        Assert.Equal(0.3f, exported.Nodes[2].Float("alpha", 0));
        Assert.Equal(0.4f, exported.Nodes[2].Float("beta", 0));
        var x = Tensor.FromArray(TestData.Random(2 * C * H * W, 65, -3f, 3f), 2, C, H, W);
        AssertClose(Run(InferenceSession.Create(graph, PassOptions.None), x), Run(InferenceSession.Create(exported, PassOptions.None), x), "round trip");
    }

    [Theory]
    [InlineData("output")] // the conv's own output is a graph output
    [InlineData("relu")]   // a Relu after the post-activation stays a node: the kernel applies its own activation first
    public void Post_activation_is_not_fused_where_it_would_change_the_graph(string why)
    {
        var graph = Model("HardSwish", relu: false, sparsity: 0, convIsOutput: why == "output", after: why == "relu" ? "Relu" : null);
        var fused = InferenceSession.Create(graph);
        if (why == "output") Assert.Contains(fused.Graph.Nodes, n => n.OpType == "HardSwish");
        else
        {
            var conv = Assert.Single(fused.Graph.Nodes, n => n.OpType == "Conv");
            Assert.Equal(PostActivationKind.HardSwish, conv.FusedPost.Kind);
            Assert.Equal(ActivationKind.None, conv.FusedActivation.Kind);
            Assert.Contains(fused.Graph.Nodes, n => n.OpType == "Relu");
        }
        var x = Tensor.FromArray(TestData.Random(C * H * W, 66, -3f, 3f), 1, C, H, W);
        AssertClose(Run(InferenceSession.Create(graph, PassOptions.None), x), Run(fused, x), why);
    }
}
