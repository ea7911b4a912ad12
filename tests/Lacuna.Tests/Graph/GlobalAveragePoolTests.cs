using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>The session's vectorized GlobalAveragePool against the double-accumulating reference.</summary>
public class GlobalAveragePoolTests
{
    [Theory]
    [InlineData(1, 2048, 7, 7)]  // ResNet-50's head
    [InlineData(2, 3, 5, 7)]     // planes shorter than a vector
    [InlineData(3, 4, 17, 1)]    // odd lengths around vector widths
    public void Matches_the_reference(int n, int c, int h, int w)
    {
        var g = new GraphProto { Name = "gap" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, n, c, h, w));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, n, c, 1, 1));
        g.Node.Add(new NodeProto("GlobalAveragePool", "gap", ["x"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        var session = InferenceSession.Create(OnnxGraphImporter.ToGraph(new OnnxModel(model)));
        var x = TestData.Random(n * c * h * w, 31, -3f, 5f);
        var expected = new float[n * c];
        ReferencePool.GlobalAveragePool(x, [n, c, h, w], expected);
        var actual = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, n, c, h, w) })["y"].ToArray();
        KernelAssert.Close(expected, actual, h * w, $"{n}x{c}x{h}x{w}");
    }
}
