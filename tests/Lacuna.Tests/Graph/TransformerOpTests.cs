using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>The transformer operators as compiled nodes against the references (outputs NaN-poisoned by RunNode).</summary>
public class TransformerOpTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 7, 4 })]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 3, 7, 4 })]
    [InlineData(new[] { 1, 3, 5, 7 }, new[] { 2, 1, 7, 4 })]
    [InlineData(new[] { 7 }, new[] { 2, 7, 4 })]
    [InlineData(new[] { 2, 5, 7 }, new[] { 7 })]
    [InlineData(new[] { 4, 1, 17, 33 }, new[] { 4, 6, 33, 16 })]
    [InlineData(new[] { 12, 65, 64 }, new[] { 12, 64, 65 })]
    [InlineData(new[] { 2, 3, 0 }, new[] { 0, 4 })]
    public void MatMul_broadcasts_batches_on_batched_gemm(int[] a, int[] b)
    {
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(a), 1, false);
        var w = ElementwiseCheck.Data(Broadcast.ElementCount(b), 2, false);
        var expected = new float[Broadcast.ElementCount(ReferenceMatMul.OutputShape(a, b))];
        ReferenceMatMul.Compute(x, a, w, b, expected);
        var node = new GraphNode("m", "MatMul", ["a", "b"], ["y"], opset: 13);
        var y = ElementwiseCheck.RunNode(node, [x, w], [a, b])[0];
        KernelAssert.Close(expected, y, a[^1], $"MatMul {Broadcast.Format(a)}·{Broadcast.Format(b)}");
    }

    [Theory]
    [InlineData(new[] { 3, 5, 33 }, new long[] { -1 }, 1, 13)]
    [InlineData(new[] { 3, 5, 33 }, new long[] { 1 }, 0, 13)]
    [InlineData(new[] { 3, 5, 33 }, new long[] { 0, 2 }, 1, 13)]
    [InlineData(new[] { 4, 6, 2, 3 }, new long[] { 1, 2 }, 0, 18)]
    [InlineData(new[] { 4, 6, 17 }, new long[0], 1, 13)]
    public void ReduceMean_matches_the_reference(int[] shape, long[] axes, int keepdims, int opset)
    {
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), 3, false);
        var reduced = new bool[shape.Length];
        if (axes.Length == 0) Array.Fill(reduced, true);
        foreach (long a in axes) reduced[a < 0 ? a + shape.Length : a] = true;
        var expected = new float[shape.Where((d, i) => !reduced[i]).Aggregate(1, (p, d) => p * d)];
        ReferenceReduce.Mean(x, shape, reduced, expected);
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("keepdims", (long)keepdims) };
        GraphNode node;
        GraphTensor? axesConst = null;
        if (opset < 18)
        {
            if (axes.Length > 0) attrs.Add(GraphAttribute.Of("axes", axes));
            node = new GraphNode("r", "ReduceMean", ["x"], ["y"], attrs, opset);
        }
        else
        {
            axesConst = new GraphTensor("axes", [axes.Length], axes);
            node = new GraphNode("r", "ReduceMean", ["x", "axes"], ["y"], attrs, opset);
        }
        var k = Lacuna.Graph.Ops.OpCompiler.Compile(node, opset < 18 ? [shape] : [shape, [axes.Length]], i => i == 1 ? axesConst : null, null);
        int[] want = shape.Select((d, i) => reduced[i] ? 1 : d).Where((d, i) => keepdims == 1 || !reduced[i]).ToArray();
        Assert.Equal(want, k.OutShapes[0]);
        var y = ElementwiseCheck.RunNode(node, opset < 18 ? [x] : [x, axes.Select(v => (float)v).ToArray()], opset < 18 ? [shape] : [shape, [axes.Length]], i => i == 1 ? axesConst : null)[0];
        KernelAssert.Close(expected, y, shape.Where((d, i) => reduced[i]).Aggregate(1, (p, d) => p * d), "ReduceMean");
    }

    [Theory]
    [InlineData(new long[] { -1 })]
    [InlineData(new long[] { 1 })]
    [InlineData(new long[] { 0, 2 })]
    public void ReduceSum_and_ReduceMax_reduce_the_same_axes(long[] axes)
    {
        int[] shape = [3, 5, 33];
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), 5, false);
        var reduced = new bool[3];
        foreach (long a in axes) reduced[a < 0 ? a + 3 : a] = true;
        int r = shape.Where((d, i) => reduced[i]).Aggregate(1, (p, d) => p * d);
        var mean = new float[Broadcast.ElementCount(shape) / r];
        ReferenceReduce.Mean(x, shape, reduced, mean);
        var axesConst = new GraphTensor("axes", [axes.Length], axes);
        var sum = ElementwiseCheck.RunNode(new GraphNode("s", "ReduceSum", ["x", "axes"], ["y"], opset: 13), [x, []], [shape, [axes.Length]], i => i == 1 ? axesConst : null)[0];
        KernelAssert.Close(mean.Select(v => v * r).ToArray(), sum, r, "ReduceSum");
        var max = ElementwiseCheck.RunNode(new GraphNode("m", "ReduceMax", ["x"], ["y"], [GraphAttribute.Of("axes", axes)], opset: 13), [x], [shape])[0];
        // The maximum of each group, found by scanning every input element into its output position.
        int[] kept = shape.Select((d, i) => reduced[i] ? 1 : d).ToArray();
        var expected = Enumerable.Repeat(float.NegativeInfinity, mean.Length).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            int a0 = i / (5 * 33), a1 = i / 33 % 5, a2 = i % 33;
            int o = ((reduced[0] ? 0 : a0) * kept[1] + (reduced[1] ? 0 : a1)) * kept[2] + (reduced[2] ? 0 : a2);
            expected[o] = Math.Max(expected[o], x[i]);
        }
        Assert.Equal(expected, max);
    }

    [Fact]
    public void Gather_reads_run_time_indices_as_an_embedding_lookup_and_rejects_out_of_range_ones()
    {
        var table = ElementwiseCheck.Data(10 * 6, 4, false);
        float[] ids = [3, 0, 9, -1, 5, 3];
        var node = new GraphNode("emb", "Gather", ["table", "ids"], ["y"], opset: 13);
        var y = ElementwiseCheck.RunNode(node, [table, ids], [[10, 6], [2, 3]])[0];
        for (int j = 0; j < ids.Length; j++)
        {
            int row = ids[j] < 0 ? (int)ids[j] + 10 : (int)ids[j];
            Assert.Equal(table.AsSpan(row * 6, 6).ToArray(), y.AsSpan(j * 6, 6).ToArray());
        }
        var e = Assert.Throws<LacunaFormatException>(() => ElementwiseCheck.RunNode(node, [table, [1, 10]], [[10, 6], [2]]));
        Assert.Contains("index 10 at position 1 is out of range for axis size 10", e.Message);
        Assert.Contains("emb", e.Message);
    }

    [Fact]
    public void Where_Equal_and_Cast_compute_masks_as_one_and_zero()
    {
        float[] cond = [1, 0, 2, 0], a = [1, 2, 3, 4, 5, 6, 7, 8], b = [-1];
        var where = new GraphNode("w", "Where", ["c", "a", "b"], ["y"], opset: 16);
        Assert.Equal(new float[] { 1, -1, 3, -1, 5, -1, 7, -1 }, ElementwiseCheck.RunNode(where, [cond, a, b], [[4], [2, 4], []])[0]);
        var equal = new GraphNode("e", "Equal", ["a", "b"], ["y"], opset: 13);
        Assert.Equal(new float[] { 0, 1, 0, 0 }, ElementwiseCheck.RunNode(equal, [[1, 2, 3, 4], [2]], [[4], [1]])[0]);
        var toInt = new GraphNode("c", "Cast", ["x"], ["y"], [GraphAttribute.Of("to", 7L)], opset: 13);
        Assert.Equal(new float[] { 2, -2, 0 }, ElementwiseCheck.RunNode(toInt, [[2.7f, -2.7f, 0.2f]], [[3]])[0]);
        var toBool = new GraphNode("c", "Cast", ["x"], ["y"], [GraphAttribute.Of("to", 9L)], opset: 13);
        Assert.Equal(new float[] { 1, 1, 0 }, ElementwiseCheck.RunNode(toBool, [[2.7f, -2.7f, 0f]], [[3]])[0]);
        var bad = new GraphNode("c", "Cast", ["x"], ["y"], [GraphAttribute.Of("to", 8L)], opset: 13);
        Assert.Contains("data type 8", Assert.ThrowsAny<Exception>(() => ElementwiseCheck.RunNode(bad, [[1f]], [[1]])).Message);
    }

    [Fact]
    public void Slice_with_negative_steps_and_Split_of_a_fused_projection_copy_the_right_elements()
    {
        var x = Enumerable.Range(0, 2 * 3 * 6).Select(i => (float)i).ToArray();
        var starts = new GraphTensor("s", [2], [-1L, 1]);
        var ends = new GraphTensor("e", [2], [long.MinValue, 5]);
        var axes = new GraphTensor("a", [2], [2L, 1]);
        var steps = new GraphTensor("t", [2], [-2L, 1]);
        GraphTensor?[] consts = [null, starts, ends, axes, steps];
        var slice = new GraphNode("s", "Slice", ["x", "s", "e", "a", "t"], ["y"], opset: 13);
        var y = ElementwiseCheck.RunNode(slice, [x, [], [], [], []], [[2, 3, 6], [2], [2], [2], [2]], i => consts[i])[0];
        // Rows 1..2 of each of the 2 blocks, columns 5, 3, 1.
        var expected = new List<float>();
        for (int b = 0; b < 2; b++) for (int r = 1; r < 3; r++) foreach (int c in new[] { 5, 3, 1 }) expected.Add(x[(b * 3 + r) * 6 + c]);
        Assert.Equal(expected, y);

        var split = new GraphNode("p", "Split", ["x", "sizes"], ["q", "k", "v"], [GraphAttribute.Of("axis", -1L)], opset: 13);
        var sizes = new GraphTensor("sizes", [3], [2L, 2, 2]);
        var parts = ElementwiseCheck.RunNode(split, [x, []], [[2, 3, 6], [3]], i => i == 1 ? sizes : null);
        for (int p = 0; p < 3; p++)
            for (int row = 0; row < 6; row++)
                Assert.Equal(x.AsSpan(row * 6 + 2 * p, 2).ToArray(), parts[p].AsSpan(row * 2, 2).ToArray());
    }

    [Fact]
    public void Expand_broadcasts_to_a_constant_shape()
    {
        var shape = new GraphTensor("s", [3], [2L, 3, 4]);
        var node = new GraphNode("x", "Expand", ["x", "s"], ["y"], opset: 13);
        var y = ElementwiseCheck.RunNode(node, [[1, 2, 3], []], [[3, 1], [3]], i => i == 1 ? shape : null)[0];
        Assert.Equal(24, y.Length);
        for (int i = 0; i < 24; i++) Assert.Equal(1 + i / 4 % 3, y[i]);
    }
}
