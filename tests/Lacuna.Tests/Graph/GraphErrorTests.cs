using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;

namespace Lacuna.Tests.Graph;

public class GraphErrorTests
{
    private static ModelGraph Chain(params (string Op, string Name, string[] In, string[] Out)[] nodes)
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [1, 4]));
        foreach (var (op, name, ins, outs) in nodes) g.Nodes.Add(new GraphNode(name, op, ins, outs));
        g.Outputs.Add(new GraphValue(nodes[^1].Out[0], null));
        return g;
    }

    [Fact]
    public void CycleNamesANodeOnTheCycle()
    {
        var g = Chain(("Relu", "a", ["x"], ["u"]), ("Add", "b", ["u", "w"], ["v"]), ("Relu", "c", ["v"], ["w"]), ("Relu", "d", ["w"], ["y"]));
        var e = Assert.Throws<LacunaFormatException>(() => g.TopologicalOrder());
        Assert.Contains("cycle", e.Message);
        Assert.True(e.Message.Contains("'b'") || e.Message.Contains("'c'"), e.Message);
    }

    [Fact]
    public void MissingInputIsNamed()
    {
        var g = Chain(("Relu", "a", ["x"], ["u"]), ("Add", "sum", ["u", "nowhere"], ["y"]));
        var e = Assert.Throws<LacunaFormatException>(() => InferenceSession.Create(g));
        Assert.Contains("'nowhere'", e.Message);
        Assert.Contains("'sum'", e.Message);
    }

    [Fact]
    public void TopologicalOrderSortsShuffledNodes()
    {
        var g = Chain(("Relu", "c", ["v"], ["y"]), ("Relu", "a", ["x"], ["u"]), ("Relu", "b", ["u"], ["v"]));
        Assert.Equal(["a", "b", "c"], g.TopologicalOrder().Select(n => n.Name));
    }

    [Fact]
    public void UnsupportedOperatorFailsAtLoadNamingTheNode()
    {
        var graph = new GraphProto();
        graph.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 1, 4));
        graph.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 1, 4));
        graph.Node.Add(new NodeProto("Acos", "my_acos", ["x"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        var e = Assert.Throws<UnsupportedOperatorException>(() => OnnxGraphImporter.ToGraph(new OnnxModel(model)));
        Assert.Equal("my_acos", e.NodeName);
        Assert.Equal("Acos", e.OpType);
        Assert.Equal(13, e.Opset);
        Assert.Contains("Acos node 'my_acos' (opset 13)", e.Message);

        graph.Node[0] = new NodeProto("Relu", "r", ["x"], ["y"], AttributeProto.Int("mystery", 1));
        var a = Assert.Throws<UnsupportedOperatorException>(() => OnnxGraphImporter.ToGraph(new OnnxModel(model)));
        Assert.Contains("'mystery'", a.Message);
    }

    [Fact]
    public void WrongInputShapeOrNameIsNamed()
    {
        var g = Chain(("Relu", "a", ["x"], ["y"]));
        var s = InferenceSession.Create(g);
        var bad = Assert.Throws<ShapeMismatchException>(() => s.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor(1, 5) }));
        Assert.Contains("'x'", bad.Message);
        Assert.Contains("[1, 5]", bad.Message);
        var missing = Assert.ThrowsAny<ArgumentException>(() => s.Run(new Dictionary<string, Tensor>()));
        Assert.Contains("'x'", missing.Message);
        var unknown = Assert.ThrowsAny<ArgumentException>(() => s.Run(new Dictionary<string, Tensor> { ["x"] = new Tensor(1, 4), ["z"] = new Tensor(1) }));
        Assert.Contains("'z'", unknown.Message);
        var y = s.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([-1f, 2f, float.NaN, -0.5f], 1, 4) })["y"];
        Assert.Equal([0f, 2f, float.NaN, 0f], y.ToArray());
    }

    [Fact]
    public void ShapeGatherUnsqueezeConcatReshapeChainFoldsWithSymbolicBatch()
    {
        // What PyTorch exports for x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze → Concat([-1]) → Reshape.
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, 2, 3], "N"));
        g.AddInitializer(new GraphTensor("zero", [], [0L]));
        g.AddInitializer(new GraphTensor("minus1", [1], [-1L]));
        g.AddInitializer(new GraphTensor("axes", [1], [0L]));
        g.Nodes.Add(new GraphNode("shape", "Shape", ["x"], ["s"]));
        g.Nodes.Add(new GraphNode("gather", "Gather", ["s", "zero"], ["b"]));
        g.Nodes.Add(new GraphNode("unsq", "Unsqueeze", ["b", "axes"], ["b1"]));
        g.Nodes.Add(new GraphNode("cat", "Concat", ["b1", "minus1"], ["target"], [GraphAttribute.Of("axis", 0L)]));
        g.Nodes.Add(new GraphNode("reshape", "Reshape", ["x", "target"], ["y"]));
        g.Outputs.Add(new GraphValue("y", null));
        var s = InferenceSession.Create(g);
        Assert.Single(s.Graph.Nodes);
        var y = s.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Random(1, [4, 2, 3]) })["y"];
        Assert.Equal([4, 6], y.Shape.AsSpan().ToArray());
    }
}
