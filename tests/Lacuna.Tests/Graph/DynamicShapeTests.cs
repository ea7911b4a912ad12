using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;

namespace Lacuna.Tests.Graph;

/// <summary>Plans per input-shape signature, shape arithmetic per plan, and int64/bool inputs checked at the boundary.</summary>
public class DynamicShapeTests
{
    private static InferenceSession Bert() => InferenceSession.Create(OnnxGraphImporter.ToGraph(BertStyleModel.Build(seed: 2)));

    private static Dictionary<string, Tensor> Feeds(int batch, int seq, float id = 3, float mask = 1) => new()
    {
        ["input_ids"] = Tensor.FromArray(Enumerable.Repeat(id, batch * seq).ToArray(), batch, seq),
        ["token_type_ids"] = Tensor.FromArray(new float[batch * seq], batch, seq),
        ["attention_mask"] = Tensor.FromArray(Enumerable.Repeat(mask, batch * seq).ToArray(), batch, seq),
    };

    [Fact]
    public void Plans_follow_the_concrete_batch_and_sequence_and_evaluate_shape_arithmetic_per_plan()
    {
        var session = Bert();
        Assert.Contains(session.Graph.Nodes, n => n.OpType == "Shape"); // left for the plans, not folded with probe sizes
        foreach (var (b, s) in new[] { (1, 1), (2, 9), (3, 4) })
        {
            var y = session.Run(Feeds(b, s));
            Assert.Equal(new[] { b, s, BertStyleModel.Hidden }, y["last_hidden_state"].Shape.AsSpan().ToArray());
            Assert.Equal(new[] { b, BertStyleModel.Hidden }, y["pooler_output"].Shape.AsSpan().ToArray());
            Assert.All(y["last_hidden_state"].ToArray(), v => Assert.True(float.IsFinite(v)));
        }
        var plan = session.PlanFor(new Dictionary<string, int[]> { ["input_ids"] = [2, 9], ["token_type_ids"] = [2, 9], ["attention_mask"] = [2, 9] });
        Assert.Equal(2, plan.Batch);
        Assert.Equal(new[] { 2, 9 }, plan.InputShapes["attention_mask"]);
        Assert.DoesNotContain(plan.Steps, st => st.Node.OpType is "Shape" or "Range" or "Concat"); // evaluated, not run
        // The batch-only entry point still works: every symbolic dimension takes the value.
        Assert.Equal(new[] { 4, 4, BertStyleModel.Hidden }, session.PlanFor(4).Shapes["last_hidden_state"]);
    }

    [Fact]
    public void Int64_and_bool_inputs_must_hold_exact_integers()
    {
        var session = Bert();
        var e = Assert.Throws<ArgumentException>(() => session.Run(Feeds(1, 3, id: 2.5f)));
        Assert.Contains("input 'input_ids' is int64 (carried as float): element 0 is 2.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => session.Run(Feeds(1, 3, id: 1 << 25)));
        Assert.Contains("within ±16777216", e.Message);
        var tooLarge = Assert.Throws<LacunaFormatException>(() => session.Run(Feeds(1, 3, id: BertStyleModel.Vocab)));
        Assert.Contains($"index {BertStyleModel.Vocab} at position 0 is out of range for axis size {BertStyleModel.Vocab}", tooLarge.Message);
        var wrongShape = Assert.Throws<ShapeMismatchException>(() => session.PlanFor(new Dictionary<string, int[]> { ["input_ids"] = [2], ["token_type_ids"] = [2, 3], ["attention_mask"] = [2, 3] }));
        Assert.Contains("input 'input_ids' has shape [2]", wrongShape.Message);

        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("flag", [GraphValue.Symbolic]) { ElementType = GraphElementType.Bool });
        g.Nodes.Add(new GraphNode("c", "Cast", ["flag"], ["y"], [GraphAttribute.Of("to", 1L)]));
        g.Outputs.Add(new GraphValue("y", null));
        var s = InferenceSession.Create(g);
        Assert.Equal(new float[] { 1, 0, 1 }, s.Run(new Dictionary<string, Tensor> { ["flag"] = Tensor.FromArray([1f, 0f, 1f], 3) })["y"].ToArray());
        var b = Assert.Throws<ArgumentException>(() => s.Run(new Dictionary<string, Tensor> { ["flag"] = Tensor.FromArray([1f, 2f], 2) }));
        Assert.Contains("input 'flag' is bool: element 1 is 2; values must be 0 or 1.", b.Message);
    }

    [Fact]
    public void Export_keeps_int64_inputs_and_named_symbolic_dimensions()
    {
        var graph = OnnxGraphImporter.ToGraph(BertStyleModel.Build(seed: 2));
        var again = OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(graph, "test"));
        var ids = again.Inputs.Single(i => i.Name == "input_ids");
        Assert.Equal(GraphElementType.Int64, ids.ElementType);
        Assert.Equal("[batch, sequence]", ids.ShapeText);
        var x = Feeds(2, 3);
        Assert.Equal(InferenceSession.Create(graph).Run(x)["pooler_output"].ToArray(), InferenceSession.Create(again).Run(x)["pooler_output"].ToArray());
    }
}
