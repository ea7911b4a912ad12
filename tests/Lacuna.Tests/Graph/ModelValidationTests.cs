using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;

namespace Lacuna.Tests.Graph;

/// <summary>Validation lists every unsupported node of a model at once; loading still stops at the first.</summary>
public class ModelValidationTests
{
    /// <summary>
    /// x → Acos (unknown operator) → Relu (reads the failed node: not checked); x → Relu with an unknown attribute;
    /// x → BatchNormalization in training mode (found by shape inference); x → Sigmoid (fine).
    /// </summary>
    internal static OnnxModel ThreeProblems()
    {
        var g = new GraphProto { Name = "three_problems" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 1, 4, 3, 3));
        foreach (var o in new[] { "b", "c", "d", "e" }) g.Output.Add(ValueInfoProto.Tensor(o, TensorDataType.Float, 1, 4, 3, 3));
        g.Initializer.Add(TensorProto.FromFloats("ratio", [], [0.5f]));
        g.Initializer.Add(TensorProto.FromFloats("training", [], [1f]));
        g.Node.Add(new NodeProto("Acos", "my_acos", ["x"], ["a"]));
        g.Node.Add(new NodeProto("Relu", "after_acos", ["a"], ["b"]));
        g.Node.Add(new NodeProto("Relu", "r_mystery", ["x"], ["c"], AttributeProto.Int("mystery", 1)));
        // Training-mode Dropout with a non-zero ratio: a random mask no reference can check, refused by design.
        g.Node.Add(new NodeProto("Dropout", "drop_train", ["x", "ratio", "training"], ["d"]));
        g.Node.Add(new NodeProto("Sigmoid", "fine", ["x"], ["e"]));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 15));
        return new OnnxModel(model);
    }

    [Fact]
    public void Validate_lists_all_three_unsupported_nodes_and_load_stops_at_the_first()
    {
        var problems = OnnxGraphImporter.Validate(ThreeProblems());
        var unsupported = problems.Cast<UnsupportedOperatorException>().ToList();
        Assert.Equal(["my_acos", "r_mystery", "drop_train"], unsupported.Select(e => e.NodeName));
        Assert.Equal(["Acos", "Relu", "Dropout"], unsupported.Select(e => e.OpType));
        Assert.All(unsupported, e => Assert.Equal(15, e.Opset));
        Assert.Contains("operator is not supported", unsupported[0].Message);
        Assert.Contains("'mystery'", unsupported[1].Message);
        Assert.Contains("training mode", unsupported[2].Message);

        var first = Assert.Throws<UnsupportedOperatorException>(() => OnnxGraphImporter.ToGraph(ThreeProblems()));
        Assert.Equal("my_acos", first.NodeName);
    }

    [Fact]
    public void An_unsupported_opset_names_the_supported_ranges()
    {
        var g = new GraphProto { Name = "future" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 1, 4));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 1, 4));
        g.Node.Add(new NodeProto("Relu", "future_relu", ["x"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 99));
        var e = Assert.IsType<UnsupportedOperatorException>(Assert.Single(OnnxGraphImporter.Validate(new OnnxModel(model))));
        Assert.Equal("future_relu", e.NodeName);
        Assert.Contains("opset 99 is not supported", e.Message);
        Assert.Matches(@"at opsets \[\d+-\d+\]", e.Message);
    }

    [Fact]
    public void A_supported_model_validates_clean()
    {
        var g = new GraphProto { Name = "ok" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 1, 4));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 1, 4));
        g.Node.Add(new NodeProto("Relu", "r", ["x"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        Assert.Empty(OnnxGraphImporter.Validate(new OnnxModel(model)));
    }
}
