using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels.Reduce;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Every reduction as a compiled node against <see cref="ReferenceReduce.Compute"/> (outputs NaN-poisoned by RunNode):
/// rows (inner = 1), accumulated rows at sizes around every vector width, scattered axes, empty groups, NaN/±Inf,
/// both opset forms of axes.
/// </summary>
public class ReduceOpTests
{
    public static TheoryData<string> Kinds()
    {
        var d = new TheoryData<string>();
        foreach (var k in Enum.GetValues<ReduceKind>()) d.Add(ReduceKernels.OperatorName(k));
        return d;
    }

    // Shapes and axes that reach each kernel: last axis (rows), a middle block (accumulated rows), scattered, all.
    private static readonly (int[] Shape, long[] Axes)[] Cases =
    [
        ([3, 5, 33], [-1]), ([4, 7], [1]), ([2, 65], [1]), ([3, 9, 17], [1]), ([2, 5, 8], [0]), ([3, 4, 16], [0, 1]),
        ([3, 5, 15], [0, 2]), ([2, 3, 4, 7], [1, 3]), ([4, 6, 17], []), ([31], [0]), ([2, 3, 0, 5], [2]), ([2, 1, 64], [1]),
    ];

    /// <summary>LogSum's sum must stay positive (a log of a float sum near 0 amplifies rounding): its data is |x|.</summary>
    private static float[] Data(string op, int n, ulong seed, bool specials)
    {
        var x = ElementwiseCheck.Data(n, seed, specials);
        if (op == "ReduceLogSum") for (int i = 0; i < n; i++) x[i] = MathF.Abs(x[i]) + (specials ? 0f : 0.05f);
        return x;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Reduction_matches_the_reference_on_every_axis_layout(string op)
    {
        ulong seed = 1;
        foreach (bool specials in new[] { false, true })
        foreach (var (shape, axes) in Cases)
        foreach (int keepdims in new[] { 0, 1 })
        foreach (int opset in new[] { 13, 18 })
        {
            if (op == "ReduceSum" && opset == 13) continue; // ReduceSum takes axes as an input from 13: covered at 18
            var x = Data(op, Broadcast.ElementCount(shape), seed++, specials);
            var reduced = Reduced(shape, axes);
            var expected = new float[shape.Select((d, i) => reduced[i] ? 1 : d).Aggregate(1, (p, d) => p * d)];
            ReferenceReduce.Compute(op, x, shape, reduced, expected);
            var (node, y) = Run(op, x, shape, axes, keepdims, opset);
            int[] want = shape.Select((d, i) => reduced[i] ? 1 : d).Where((d, i) => keepdims == 1 || !reduced[i]).ToArray();
            string context = $"{op} {Broadcast.Format(shape)} axes [{string.Join(",", axes)}] keepdims {keepdims} opset {opset} specials {specials}";
            Assert.True(want.AsSpan().SequenceEqual(node.OutShapes[0]), $"{context}: shape {Broadcast.Format(node.OutShapes[0])}, expected {Broadcast.Format(want)}");
            KernelAssert.Close(expected, y, Math.Max(1, x.Length / Math.Max(1, expected.Length)), context);
        }
    }

    [Fact]
    public void ReduceSum_at_opset_11_reads_its_axes_attribute()
    {
        int[] shape = [3, 9, 17];
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), 77, false);
        var expected = new float[3 * 17];
        ReferenceReduce.Compute("ReduceSum", x, shape, [false, true, false], expected);
        var (_, y) = Run("ReduceSum", x, shape, [1], 0, 11);
        KernelAssert.Close(expected, y, 9, "ReduceSum opset 11");
    }

    [Fact]
    public void LogSumExp_of_groups_with_infinities_or_NaN_is_the_non_finite_maximum()
    {
        float ni = float.NegativeInfinity, pi = float.PositiveInfinity;
        // Groups of 3 along the last axis (rows) and, transposed, along the first (accumulated rows).
        float[] rows = [ni, ni, ni, 1, pi, 2, float.NaN, 0, 1, 1000, 1000, 0];
        float[] expected = [ni, pi, float.NaN, 1000 + MathF.Log(2)];
        ElementwiseCheck.Close(expected, Run("ReduceLogSumExp", rows, [4, 3], [1], 0, 13).Y, "LogSumExp rows");
        float[] cols = new float[12];
        for (int g = 0; g < 4; g++) for (int j = 0; j < 3; j++) cols[j * 4 + g] = rows[g * 3 + j];
        ElementwiseCheck.Close(expected, Run("ReduceLogSumExp", cols, [3, 4], [0], 0, 13).Y, "LogSumExp accumulated rows");
    }

    [Theory]
    [InlineData("ReduceMin", float.PositiveInfinity)]
    [InlineData("ReduceProd", 1f)]
    [InlineData("ReduceL2", 0f)]
    [InlineData("ReduceLogSum", float.NegativeInfinity)]
    [InlineData("ReduceLogSumExp", float.NegativeInfinity)]
    public void An_empty_group_gives_the_identity_of_the_reduction(string op, float empty)
    {
        var (_, y) = Run(op, [], [2, 0, 3], [1], 1, 13);
        Assert.Equal(Enumerable.Repeat(empty, 6).ToArray(), y);
    }

    [Fact]
    public void Noop_with_empty_axes_copies_the_input()
    {
        var x = ElementwiseCheck.Data(12, 9, true);
        var node = new GraphNode("r", "ReduceL1", ["x", "axes"], ["y"], [GraphAttribute.Of("noop_with_empty_axes", 1L)], 18);
        var axes = new GraphTensor("axes", [0], Array.Empty<long>());
        var y = ElementwiseCheck.RunNode(node, [x, []], [[3, 4], [0]], i => i == 1 ? axes : null)[0];
        Assert.Equal(x, y);
    }

    [Theory]
    [InlineData("keepdims", 2L, "keepdims must be 0 or 1")]
    [InlineData("axes", 3L, "out of range")]
    [InlineData("axes", -1L, "listed twice")]
    public void Bad_attributes_are_one_line_errors(string attribute, long value, string message)
    {
        var attrs = new List<GraphAttribute>();
        if (attribute == "keepdims") attrs.Add(GraphAttribute.Of("keepdims", value));
        else attrs.Add(GraphAttribute.Of("axes", value == -1 ? new long[] { 2, -1 } : new[] { value }));
        var node = new GraphNode("r", "ReduceMin", ["x"], ["y"], attrs, 13);
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpCompiler.Compile(node, [[2, 3, 4]], _ => null, null));
        Assert.Contains(message, e.Message);
        Assert.Contains("ReduceMin", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    private static bool[] Reduced(int[] shape, long[] axes)
    {
        var reduced = new bool[shape.Length];
        if (axes.Length == 0) Array.Fill(reduced, true);
        foreach (long a in axes) reduced[a < 0 ? a + shape.Length : a] = true;
        return reduced;
    }

    private static (NodeKernel Kernel, float[] Y) Run(string op, float[] x, int[] shape, long[] axes, int keepdims, int opset)
    {
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("keepdims", (long)keepdims) };
        bool asInput = opset >= (op == "ReduceSum" ? 13 : 18);
        GraphTensor? axesConst = asInput ? new GraphTensor("axes", [axes.Length], axes) : null;
        if (!asInput && axes.Length > 0) attrs.Add(GraphAttribute.Of("axes", axes));
        var node = asInput ? new GraphNode("r", op, ["x", "axes"], ["y"], attrs, opset) : new GraphNode("r", op, ["x"], ["y"], attrs, opset);
        int[][] shapes = asInput ? [shape, [axes.Length]] : [shape];
        var k = OpCompiler.Compile(node, shapes, i => i == 1 ? axesConst : null, null);
        var y = ElementwiseCheck.RunKernel(k, asInput ? [x, axes.Select(v => (float)v).ToArray()] : [x])[0];
        return (k, y);
    }
}
