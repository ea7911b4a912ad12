using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;

namespace Lacuna.Tests.Graph;

/// <summary>ArgMax/ArgMin against the reference (every axis, widths around the vector, ties, NaN); GatherElements and GatherND on the ONNX examples.</summary>
public class SelectionOpTests
{
    [Theory]
    [InlineData("ArgMax")]
    [InlineData("ArgMin")]
    public void ArgMax_and_ArgMin_match_the_reference(string op)
    {
        ulong seed = 3;
        foreach (int[] shape in new[] { new[] { 5, 33 }, new[] { 4, 7, 37 }, new[] { 3, 6, 8 }, new[] { 2, 9, 17 }, new[] { 1 }, new[] { 6, 1, 5 } })
        for (int axis = -shape.Length; axis < shape.Length; axis++)
        foreach (string data in new[] { "float", "specials", "ties" })
        foreach (int last in new[] { 0, 1 })
        foreach (int keep in new[] { 0, 1 })
        {
            var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), seed++, data == "specials");
            if (data == "ties") for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i]); // -2 .. 2: many equal values
            int a = axis < 0 ? axis + shape.Length : axis;
            int outer = Broadcast.ElementCount(shape[..a]), r = shape[a], inner = Broadcast.ElementCount(shape[(a + 1)..]);
            var expected = new float[outer * inner];
            ReferenceIndexing.ArgExtreme(x, outer, r, inner, op == "ArgMax", last == 1, expected);
            var node = new GraphNode("a", op, ["x"], ["y"],
                [GraphAttribute.Of("axis", (long)axis), GraphAttribute.Of("keepdims", (long)keep), GraphAttribute.Of("select_last_index", (long)last)], 13);
            var k = Lacuna.Graph.Ops.OpCompiler.Compile(node, [shape], _ => null, null);
            int[] want = keep == 1 ? shape.Select((d, i) => i == a ? 1 : d).ToArray() : shape.Where((_, i) => i != a).ToArray();
            Assert.Equal(want, k.OutShapes[0]);
            var y = ElementwiseCheck.RunKernel(k, [x])[0];
            Assert.True(expected.AsSpan().SequenceEqual(y), $"{op} {Broadcast.Format(shape)} axis {axis} {data} last {last}");
        }
    }

    [Fact]
    public void ArgMax_prefers_the_first_NaN_and_the_reference_agrees_with_a_hand_example()
    {
        float[] x = [1, 3, 3, float.NaN, 2, float.NaN];
        var y = new float[1];
        ReferenceIndexing.ArgExtreme(x, 1, 6, 1, true, false, y);
        Assert.Equal(3f, y[0]);
        ReferenceIndexing.ArgExtreme(x.AsSpan(0, 3), 1, 3, 1, true, true, y);
        Assert.Equal(2f, y[0]);
        ReferenceIndexing.ArgExtreme(x.AsSpan(0, 3), 1, 3, 1, false, false, y);
        Assert.Equal(0f, y[0]);
    }

    [Fact]
    public void GatherElements_follows_the_ONNX_examples_and_rejects_an_index_out_of_range()
    {
        var n1 = new GraphNode("g", "GatherElements", ["d", "i"], ["y"], [GraphAttribute.Of("axis", 1L)], 13);
        Assert.Equal(new float[] { 1, 1, 4, 3 }, ElementwiseCheck.RunNode(n1, [[1, 2, 3, 4], [0, 0, 1, 0]], [[2, 2], [2, 2]])[0]);
        var n0 = new GraphNode("g", "GatherElements", ["d", "i"], ["y"], [GraphAttribute.Of("axis", 0L)], 13);
        Assert.Equal(new float[] { 4, 8, 3, 7, 2, 3 }, ElementwiseCheck.RunNode(n0, [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 0, 2, 0, 0]], [[3, 3], [2, 3]])[0]);
        Assert.Equal(new float[] { 7, 5, 3 }, ElementwiseCheck.RunNode(n0, [[1, 2, 3, 4, 5, 6, 7, 8, 9], [-1, -2, 0]], [[3, 3], [1, 3]])[0]);
        var e = Assert.Throws<LacunaFormatException>(() => ElementwiseCheck.RunNode(n0, [[1, 2, 3, 4], [2, 0]], [[2, 2], [1, 2]]));
        Assert.Contains("out of range", e.Message);
        Assert.Throws<ShapeMismatchException>(() => ElementwiseCheck.RunNode(n0, [[1, 2, 3, 4], [0, 0]], [[2, 2], [2]]));
    }

    [Fact]
    public void GatherND_follows_the_ONNX_examples()
    {
        var n = new GraphNode("g", "GatherND", ["d", "i"], ["y"], opset: 13);
        Assert.Equal(new float[] { 0, 3 }, ElementwiseCheck.RunNode(n, [[0, 1, 2, 3], [0, 0, 1, 1]], [[2, 2], [2, 2]])[0]);
        Assert.Equal(new float[] { 2, 3, 0, 1 }, ElementwiseCheck.RunNode(n, [[0, 1, 2, 3], [1, 0]], [[2, 2], [2, 1]])[0]);
        float[] cube = [0, 1, 2, 3, 4, 5, 6, 7];
        Assert.Equal(new float[] { 2, 3, 4, 5 }, ElementwiseCheck.RunNode(n, [cube, [0, 1, 1, 0]], [[2, 2, 2], [2, 2]])[0]);
        var batched = new GraphNode("g", "GatherND", ["d", "i"], ["y"], [GraphAttribute.Of("batch_dims", 1L)], 13);
        Assert.Equal(new float[] { 2, 3, 4, 5 }, ElementwiseCheck.RunNode(batched, [cube, [1, 0]], [[2, 2, 2], [2, 1]])[0]);
        var e = Assert.ThrowsAny<ArgumentException>(() => ElementwiseCheck.RunNode(n, [[0, 1, 2, 3], [0, 0, 0]], [[2, 2], [1, 3]]));
        Assert.Contains("last indices dimension 3", e.Message);
    }

    [Fact]
    public void Bad_attributes_are_one_line_errors()
    {
        var arg = new GraphNode("a", "ArgMax", ["x"], ["y"], [GraphAttribute.Of("axis", 2L)], 13);
        var e = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(arg, [new float[6]], [[2, 3]]));
        Assert.Contains("axis 2 is out of range for rank 2", e.Message);
        var nd = new GraphNode("g", "GatherND", ["d", "i"], ["y"], [GraphAttribute.Of("batch_dims", 2L)], 13);
        e = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(nd, [new float[4], [0, 0]], [[2, 2], [2, 1]]));
        Assert.Contains("batch_dims 2", e.Message);
    }
}
