using Lacuna.Graph;
using Lacuna.Graph.Ops.Operators;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Elementwise;

/// <summary>
/// Every binary and variadic element-wise row (the fast span form through <see cref="BroadcastPlan"/>) against its
/// double-precision reference, on broadcast shapes of every kind, on every ISA tier the suite runs on.
/// </summary>
public class BroadcastPlanTests
{
    /// <summary>Same shape at lengths around every vector width, scalar operands, per-channel, general, zero-size.</summary>
    public static TheoryData<int[], int[]> ShapePairs()
    {
        var d = new TheoryData<int[], int[]>();
        foreach (int n in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129 }) d.Add([n], [n]);
        d.Add([2, 3, 17], [2, 3, 17]);
        d.Add([3, 33], []);             // scalar right
        d.Add([], [2, 5, 9]);           // scalar left
        d.Add([1], [4, 7]);             // size-1 left
        d.Add([2, 5, 3, 7], [1, 5, 1, 1]);   // per-channel
        d.Add([1, 6, 1, 1], [2, 6, 4, 9]);   // per-channel on the left
        d.Add([3, 1, 5], [1, 4, 1]);    // both broadcast (outer product)
        d.Add([2, 3, 4, 5], [3, 1, 5]); // general
        d.Add([4, 1], [1, 33]);         // inner run of 33 against repeated values
        d.Add([5, 1, 1], [1, 1, 1]);    // both repeat along the run
        d.Add([0, 3], [1, 3]);          // zero-size
        d.Add([2, 0, 4], [4]);
        d.Add([], []);
        return d;
    }

    [Theory]
    [MemberData(nameof(ShapePairs))]
    public void Binary_rows_match_the_reference(int[] aShape, int[] bShape)
    {
        foreach (var row in ElementwiseOps.BinaryRows.Where(r => r.Opsets.From >= 7))
        {
            if (row.Name == "PRelu" && !Broadcast.Shape(aShape, bShape, "PRelu").AsSpan().SequenceEqual(aShape)) continue;
            var plan = new BroadcastPlan(aShape, bShape, row.Name);
            foreach (bool specials in new[] { false, true })
            {
                var a = ElementwiseCheck.Data(plan.ALength, 11, specials);
                var b = ElementwiseCheck.Data(plan.BLength, 12, specials);
                if (row.Name is "Div" && !specials) b = b.Select(v => MathF.Abs(v) < 0.05f ? 0.5f : v).ToArray();
                var expected = new float[plan.Count];
                ReferenceElementwise.Binary(a, aShape, b, bShape, expected, row.Reference, row.Name);
                var actual = TestData.Poisoned(plan.Count);
                plan.Run(a, b, actual, row.Fast);
                ElementwiseCheck.Close(expected, actual, $"{row.Name} {Broadcast.Format(aShape)} {Broadcast.Format(bShape)} specials={specials}",
                    rtol: row.Name == "Pow" ? 1e-5f : 2e-6f);
            }
        }
    }

    [Fact]
    public void Broadcasts_reduce_to_the_expected_runs()
    {
        Assert.Equal((1, 2 * 3 * 17), Shape([2, 3, 17], [2, 3, 17]));   // same shape: one run
        Assert.Equal((1, 99), Shape([3, 33], []));                      // scalar: one run against a value
        Assert.Equal((2 * 64, 56 * 56), Shape([2, 64, 56, 56], [1, 64, 1, 1])); // per-channel: a run per (n, c)
        Assert.Equal((3 * 4, 5), Shape([3, 1, 5], [1, 4, 1]));           // general: the innermost axis
        Assert.Equal((0, 3), Shape([0, 3], [1, 3]));

        static (int, int) Shape(int[] a, int[] b) { var p = new BroadcastPlan(a, b); return (p.Runs, p.RunLength); }
    }

    [Fact]
    public void In_place_on_the_left_operand_matches()
    {
        int[] a = [3, 4, 10], b = [4, 1];
        var plan = new BroadcastPlan(a, b);
        var x = ElementwiseCheck.Data(plan.ALength, 3, false);
        var y = ElementwiseCheck.Data(plan.BLength, 4, false);
        var expected = new float[plan.Count];
        ReferenceElementwise.Binary(x, a, y, b, expected, (p, q) => p - q, "Sub");
        plan.Run(x, y, x, BinaryKernels.Sub);
        ElementwiseCheck.Close(expected, x, "in place Sub");
    }

    [Fact]
    public void Incompatible_shapes_and_short_spans_are_rejected()
    {
        Assert.Throws<ShapeMismatchException>(() => new BroadcastPlan([2, 3], [4, 3], "Add"));
        var plan = new BroadcastPlan([2, 3], [3]);
        var e = Assert.Throws<ArgumentException>(() => plan.Run(new float[6], new float[2], new float[6], BinaryKernels.Add));
        Assert.Contains("Add", e.Message);
    }

    /// <summary>Variadic shape sets: equal shapes, mixed broadcasts (the first input smaller than the output), one input, zero-size.</summary>
    public static TheoryData<int[][]> VariadicShapes() => new()
    {
        new[] { new[] { 2, 3, 17 }, new[] { 2, 3, 17 } },
        new[] { new[] { 2, 3, 17 }, new[] { 2, 3, 17 }, new[] { 2, 3, 17 } },
        new[] { new[] { 3, 1 }, new[] { 1, 33 }, new[] { 33 }, Array.Empty<int>() },
        new[] { new[] { 1 }, new[] { 2, 5, 9 } },
        new[] { new[] { 4, 65 } },
        new[] { new[] { 0, 4 }, new[] { 1, 4 } },
    };

    [Theory]
    [MemberData(nameof(VariadicShapes))]
    public void Variadic_rows_match_the_reference(int[][] shapes)
    {
        foreach (var row in ElementwiseOps.VariadicRows.Where(r => r.Opsets.From >= 8))
            foreach (bool specials in new[] { false, true })
            {
                var inputs = shapes.Select((s, i) => ElementwiseCheck.Data(Broadcast.ElementCount(s), (ulong)(20 + i), specials)).ToArray();
                var outShape = ReferenceElementwise.VariadicShape(shapes, row.Name);
                var expected = new float[Broadcast.ElementCount(outShape)];
                ReferenceElementwise.Variadic(inputs, shapes, expected, row.Reference, row.Mean, row.Name);
                var node = new GraphNode(row.Name.ToLowerInvariant(), row.Name, shapes.Select((_, i) => $"x{i}"), ["y"], opset: 13);
                var actual = ElementwiseCheck.RunNode(node, inputs, shapes)[0];
                ElementwiseCheck.Close(expected, actual, $"{row.Name} of {shapes.Length} specials={specials}", rtol: 1e-5f);
            }
    }

    [Fact]
    public void Variadic_before_opset_8_requires_equal_shapes()
    {
        var node = new GraphNode("s", "Sum", ["a", "b"], ["y"], opset: 7);
        Assert.Throws<ShapeMismatchException>(() => ElementwiseCheck.RunNode(node, [new float[6], new float[3]], [[2, 3], [3]]));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 3 }, 1)]  // Caffe2 bias: B aligned at axis 1
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 4, 5 }, -1)] // default: A's trailing dimensions
    public void Legacy_broadcast_aligns_B_at_axis(int[] aShape, int[] bShape, int axis)
    {
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("broadcast", 1L) };
        if (axis >= 0) attrs.Add(GraphAttribute.Of("axis", (long)axis));
        var node = new GraphNode("add", "Add", ["a", "b"], ["y"], attrs, opset: 6);
        var a = ElementwiseCheck.Data(Broadcast.ElementCount(aShape), 5, false);
        var b = ElementwiseCheck.Data(Broadcast.ElementCount(bShape), 6, false);
        int at = axis >= 0 ? axis : aShape.Length - bShape.Length;
        int[] aligned = [.. Enumerable.Repeat(1, at), .. bShape, .. Enumerable.Repeat(1, aShape.Length - at - bShape.Length)];
        var expected = new float[a.Length];
        ReferenceElementwise.Add(a, aShape, b, aligned, expected);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(node, [a, b], [aShape, bShape])[0], "legacy Add");
    }
}
