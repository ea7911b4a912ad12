using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;

namespace Lacuna.Tests.Graph;

/// <summary>Element-wise nodes whose behaviour is not a plain row: PRelu's slope, Clip's bounds, Dropout's mask.</summary>
public class ElementwiseNodeTests
{
    [Theory]
    [InlineData(new[] { 2, 5, 3, 7 }, new[] { 5, 1, 1 })] // per-channel slope (PyTorch)
    [InlineData(new[] { 2, 5, 3, 7 }, new int[0])]        // one shared slope
    [InlineData(new[] { 4, 9 }, new[] { 9 })]
    public void PRelu_broadcasts_its_slope(int[] xShape, int[] slopeShape)
    {
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(xShape), 1, specials: true);
        var slope = ElementwiseCheck.Data(Broadcast.ElementCount(slopeShape), 2, false);
        var expected = new float[x.Length];
        ReferenceElementwise.PRelu(x, xShape, slope, slopeShape, expected);
        var node = new GraphNode("p", "PRelu", ["x", "slope"], ["y"], opset: 16);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(node, [x, slope], [xShape, slopeShape])[0], "PRelu");
    }

    [Fact]
    public void PRelu_rejects_a_slope_larger_than_x()
    {
        var node = new GraphNode("p", "PRelu", ["x", "slope"], ["y"], opset: 16);
        Assert.Throws<ShapeMismatchException>(() => ElementwiseCheck.RunNode(node, [new float[3], new float[6]], [[3], [2, 3]]));
    }

    [Fact]
    public void Clip_reads_bounds_from_attributes_before_opset_11_and_inputs_since()
    {
        var x = ElementwiseCheck.Data(37, 3, specials: true);
        var expected = new float[37];
        ReferenceElementwise.Clip(x, expected, -0.5f, 0.25f);
        var old = new GraphNode("c", "Clip", ["x"], ["y"], [GraphAttribute.Of("min", -0.5f), GraphAttribute.Of("max", 0.25f)], opset: 6);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(old, [x], [[37]])[0], "Clip-6");
        var now = new GraphNode("c", "Clip", ["x", "lo", "hi"], ["y"], opset: 13);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(now, [x, [-0.5f], [0.25f]], [[37], [], []])[0], "Clip-13");
        var onlyMax = new GraphNode("c", "Clip", ["x", "", "hi"], ["y"], opset: 13);
        ReferenceElementwise.Clip(x, expected, float.NegativeInfinity, 0.25f);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(onlyMax, [x, [], [0.25f]], [[37], [], []])[0], "Clip-13 max only");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(13)]
    public void Dropout_is_the_identity_with_an_all_true_mask(int opset)
    {
        var x = ElementwiseCheck.Data(24, 4, specials: true);
        // The ratio is an attribute before opset 12, an input since; neither changes inference.
        var node = opset < 12
            ? new GraphNode("d", "Dropout", ["x"], ["y", "mask"], [GraphAttribute.Of("ratio", 0.5f)], opset)
            : new GraphNode("d", "Dropout", ["x", "ratio"], ["y", "mask"], opset: opset);
        var outs = opset < 12 ? ElementwiseCheck.RunNode(node, [x], [[2, 3, 4]]) : ElementwiseCheck.RunNode(node, [x, [0.5f]], [[2, 3, 4], []]);
        ElementwiseCheck.Close(x, outs[0], "Dropout Y");
        Assert.All(outs[1], m => Assert.Equal(1f, m));
    }

    /// <summary>What PyTorch exports for AlexNet/VGG/SqueezeNet: Dropout with a mask output nobody reads.</summary>
    [Fact]
    public void Model_with_an_unused_dropout_mask_loads_and_runs()
    {
        var g = new GraphProto { Name = "dropout_mask" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 2, 8));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 2, 8));
        g.Node.Add(new NodeProto("Dropout", "drop", ["x"], ["d", "mask"], AttributeProto.Float("ratio", 0.5f)));
        g.Node.Add(new NodeProto("Relu", "relu", ["d"], ["y"]));
        var model = new ModelProto { IrVersion = 7, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 9));
        var session = InferenceSession.Create(OnnxGraphImporter.ToGraph(new OnnxModel(model)));
        var x = ElementwiseCheck.Data(16, 5, false);
        var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [2, 8]) })["y"];
        var expected = new float[16];
        ReferenceElementwise.Relu(x, expected);
        ElementwiseCheck.Close(expected, y.Span, "Dropout then Relu");
    }
}
