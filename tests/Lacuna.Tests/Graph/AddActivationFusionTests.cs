using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>The residual Add with its Relu/Clip fused computes exactly (bit for bit) what the two nodes compute.</summary>
public class AddActivationFusionTests
{
    /// <summary>y = act(a + b) as ONNX: Add then Relu (or Clip 0..6), b broadcast when its shape says so.</summary>
    private static ModelGraph Model(int[] a, int[] b, string act)
    {
        var g = new GraphProto { Name = "add_act" };
        g.Input.Add(ValueInfoProto.Tensor("a", TensorDataType.Float, a.Select(d => (object)d).ToArray()));
        g.Input.Add(ValueInfoProto.Tensor("b", TensorDataType.Float, b.Select(d => (object)d).ToArray()));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, a.Select(d => (object)d).ToArray()));
        g.Node.Add(new NodeProto("Add", "add", ["a", "b"], ["s"]));
        if (act == "Relu") g.Node.Add(new NodeProto("Relu", "relu", ["s"], ["y"]));
        else
        {
            g.Initializer.Add(TensorProto.FromFloats("lo", [], [0f]));
            g.Initializer.Add(TensorProto.FromFloats("hi", [], [6f]));
            g.Node.Add(new NodeProto("Clip", "clip", ["s", "lo", "hi"], ["y"]));
        }
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        return OnnxGraphImporter.ToGraph(new OnnxModel(model));
    }

    [Theory]
    [InlineData(new[] { 1, 256, 56, 56 }, new[] { 1, 256, 56, 56 }, "Relu")] // ResNet-50 layer1 residual: parallel, many chunks
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 2, 3, 5, 7 }, "Relu")]           // below a vector and a chunk
    [InlineData(new[] { 1, 64, 33, 33 }, new[] { 1, 64, 33, 33 }, "Clip")]     // odd length, Clip
    [InlineData(new[] { 2, 8, 4, 4 }, new[] { 1, 8, 1, 1 }, "Relu")]           // broadcast: reference Add, then Relu
    public void Fused_add_and_activation_equals_the_separate_nodes_bit_for_bit(int[] a, int[] b, string act)
    {
        var graph = Model(a, b, act);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, PassOptions.None);
        var add = Assert.Single(fused.Graph.Nodes);
        Assert.Equal("Add", add.OpType);
        Assert.Equal(act == "Relu" ? ActivationKind.Relu : ActivationKind.Clip, add.FusedActivation.Kind);
        Assert.Equal(2, separate.Graph.Nodes.Count);

        var xa = Tensor.FromArray(TestData.Random(a.Aggregate(1, (p, d) => p * d), 3, -4f, 4f), a);
        var xb = Tensor.FromArray(TestData.Random(b.Aggregate(1, (p, d) => p * d), 4, -4f, 4f), b);
        xa.Span[5] = float.NaN; // Relu and Clip keep NaN, fused or not
        var feeds = new Dictionary<string, Tensor> { ["a"] = xa, ["b"] = xb };
        var expected = separate.Run(feeds)["y"].ToArray();
        var actual = fused.Run(feeds)["y"].ToArray();
        Assert.True(float.IsNaN(actual[5]));
        KernelAssert.Exact(expected, actual, string.Join("x", a));
        // The exported model writes the fused activation back as its own node.
        var exported = OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(fused.Graph));
        Assert.Equal(2, exported.Nodes.Count);
    }
}

/// <summary>Caffe2's residual Sum of two becomes an Add and takes the following Relu, computing what the unfused nodes do.</summary>
public class SumToAddTests
{
    [Theory]
    [InlineData(new[] { 1, 64, 28, 28 }, new[] { 1, 64, 28, 28 })]
    [InlineData(new[] { 2, 8, 5, 5 }, new[] { 1, 8, 1, 1 })]
    public void Sum_of_two_then_relu_fuses_and_matches_the_separate_nodes(int[] a, int[] b)
    {
        var g = new GraphProto { Name = "sum_relu" };
        g.Input.Add(ValueInfoProto.Tensor("a", TensorDataType.Float, a.Select(d => (object)d).ToArray()));
        g.Input.Add(ValueInfoProto.Tensor("b", TensorDataType.Float, b.Select(d => (object)d).ToArray()));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, a.Select(d => (object)d).ToArray()));
        g.Node.Add(new NodeProto("Sum", "sum", ["a", "b"], ["s"]));
        g.Node.Add(new NodeProto("Relu", "relu", ["s"], ["y"]));
        var model = new ModelProto { IrVersion = 3, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 8));
        var graph = OnnxGraphImporter.ToGraph(new OnnxModel(model));
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, PassOptions.None);
        var add = Assert.Single(fused.Graph.Nodes);
        Assert.Equal("Add", add.OpType);
        Assert.Equal(ActivationKind.Relu, add.FusedActivation.Kind);
        Assert.Equal("Sum", separate.Graph.Nodes[0].OpType);

        var xa = Tensor.FromArray(TestData.Random(a.Aggregate(1, (p, d) => p * d), 5, -4f, 4f), a);
        var xb = Tensor.FromArray(TestData.Random(b.Aggregate(1, (p, d) => p * d), 6, -4f, 4f), b);
        xa.Span[3] = float.NaN;
        var feeds = new Dictionary<string, Tensor> { ["a"] = xa, ["b"] = xb };
        KernelAssert.Exact(separate.Run(feeds)["y"].ToArray(), fused.Run(feeds)["y"].ToArray(), string.Join("x", a));
    }
}
