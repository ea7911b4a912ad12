using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;

namespace Lacuna.Tests.Kernels.Pooling;

/// <summary>
/// MaxPool / AveragePool over 1 and 3 spatial axes and MaxPool's Indices output: the N-D reference agrees with the
/// 2-D one; 1-D nodes (the 2-D kernels with H = 1) and 3-D nodes match it; indices point at the maxima.
/// </summary>
public class PoolNdTests
{
    // kernel, stride, pad begin, pad end, dilation, ceil, count_include_pad
    public static TheoryData<int, int, int, int, int, bool, bool> Geometries() => new()
    {
        { 3, 1, 0, 0, 1, false, false }, { 3, 2, 1, 1, 1, false, false }, { 2, 2, 0, 1, 1, true, false }, { 3, 2, 1, 2, 2, true, true },
        { 5, 3, 2, 2, 1, false, true }, { 1, 1, 0, 0, 1, false, false }, { 4, 1, 3, 0, 1, true, true },
    };

    private static PoolNdParams Params(int rank, int k, int s, int pb, int pe, int d, bool ceil, bool include, bool colMajor = false) =>
        new(Enumerable.Repeat(k, rank).ToArray(), Enumerable.Repeat(s, rank).ToArray(), Enumerable.Repeat(pb, rank).ToArray(),
            Enumerable.Repeat(pe, rank).ToArray(), Enumerable.Repeat(d, rank).ToArray(), ceil, include, colMajor);

    private static GraphNode Node(string op, PoolNdParams p, bool indices = false) => new("p", op, ["x"], indices ? ["y", "i"] : ["y"],
    [
        GraphAttribute.Of("kernel_shape", p.Kernel.Select(v => (long)v).ToArray()), GraphAttribute.Of("strides", p.Strides.Select(v => (long)v).ToArray()),
        GraphAttribute.Of("pads", p.PadsBegin.Concat(p.PadsEnd).Select(v => (long)v).ToArray()), GraphAttribute.Of("dilations", p.Dilations.Select(v => (long)v).ToArray()),
        GraphAttribute.Of("ceil_mode", p.CeilMode ? 1L : 0L), GraphAttribute.Of(op == "MaxPool" ? "storage_order" : "count_include_pad", (op == "MaxPool" ? p.ColumnMajorIndices : p.CountIncludePad) ? 1L : 0L),
    ], 12);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_N_D_reference_is_the_2_D_reference_for_two_axes(int k, int s, int pb, int pe, int d, bool ceil, bool include)
    {
        int[] shape = [2, 3, 11, 9];
        var p = Params(2, k, s, pb, pe, d, ceil, include);
        var p2 = new Pool2dParams(k, k, s, s, pb, pb, pe, pe, d, d, ceil, include);
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), 3, true);
        int[] os = p.OutputShape(shape);
        Assert.Equal(p2.OutputShape(shape), os);
        float[] max2 = new float[Broadcast.ElementCount(os)], maxN = new float[max2.Length], avg2 = new float[max2.Length], avgN = new float[max2.Length];
        ReferencePool.MaxPool(x, shape, max2, p2);
        ReferencePoolNd.MaxPool(x, shape, maxN, [], p);
        ReferencePool.AveragePool(x, shape, avg2, p2);
        ReferencePoolNd.AveragePool(x, shape, avgN, p);
        Assert.Equal(max2, maxN);
        Assert.Equal(avg2, avgN);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void One_and_three_dimensional_nodes_match_the_reference(int k, int s, int pb, int pe, int d, bool ceil, bool include)
    {
        foreach (int[] shape in new[] { new[] { 2, 3, 37 }, new[] { 1, 2, 17 }, new[] { 2, 2, 7, 9, 8 } })
        {
            int rank = shape.Length - 2;
            var p = Params(rank, k, s, pb, pe, d, ceil, include);
            var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), (ulong)shape.Sum(), true);
            int count = Broadcast.ElementCount(p.OutputShape(shape));
            foreach (string op in new[] { "MaxPool", "AveragePool" })
            {
                var expected = new float[count];
                if (op == "MaxPool") ReferencePoolNd.MaxPool(x, shape, expected, [], p);
                else ReferencePoolNd.AveragePool(x, shape, expected, p);
                var y = ElementwiseCheck.RunNode(Node(op, p), [x], [shape])[0];
                ElementwiseCheck.Close(expected, y, $"{op} {Broadcast.Format(shape)} k{k} s{s} p{pb},{pe} d{d} ceil {ceil} include {include}");
            }
        }
    }

    [Fact]
    public void A_3_D_pool_with_depth_1_is_the_2_D_pool()
    {
        int[] shape3 = [2, 3, 1, 10, 13], shape2 = [2, 3, 10, 13];
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape2), 8, false);
        var p3 = new PoolNdParams([1, 3, 2], [1, 2, 1], [0, 1, 0], [0, 1, 1], [1, 1, 2], true, true);
        var p2 = new Pool2dParams(3, 2, 2, 1, 1, 0, 1, 1, 1, 2, true, true);
        foreach (string op in new[] { "MaxPool", "AveragePool" })
        {
            var expected = new float[Broadcast.ElementCount(p2.OutputShape(shape2))];
            if (op == "MaxPool") ReferencePool.MaxPool(x, shape2, expected, p2); else ReferencePool.AveragePool(x, shape2, expected, p2);
            var y = ElementwiseCheck.RunNode(Node(op, p3), [x], [shape3])[0];
            ElementwiseCheck.Close(expected, y, op);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Indices_point_at_the_first_maximum_row_or_column_major(bool columnMajor)
    {
        int[] shape = [2, 3, 9, 7];
        var p = new PoolNdParams([3, 2], [2, 2], [1, 0], [1, 1], [1, 1], false, false, columnMajor);
        var x = ElementwiseCheck.Data(Broadcast.ElementCount(shape), 21, false);
        for (int i = 0; i < x.Length; i += 5) x[i] = 1.5f; // ties: the first in window order wins
        var outs = ElementwiseCheck.RunNode(Node("MaxPool", p, indices: true), [x], [shape]);
        int[] os = p.OutputShape(shape);
        var expected = new float[outs[0].Length];
        ReferencePoolNd.MaxPool(x, shape, expected, [], p);
        Assert.Equal(expected, outs[0]);
        int h = shape[2], w = shape[3], oh = os[2], ow = os[3];
        for (int plane = 0; plane < 6; plane++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int o = (plane * oh + oy) * ow + ox;
            // The first maximum in window order (rows, then columns), by a direct scan.
            int bestY = -1, bestX = -1;
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 2; kx++)
            {
                int iy = oy * 2 - 1 + ky, ix = ox * 2 + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                if (bestY < 0 || x[(plane * h + iy) * w + ix] > x[(plane * h + bestY) * w + bestX]) { bestY = iy; bestX = ix; }
            }
            long want = (long)plane * h * w + (columnMajor ? bestX * h + bestY : bestY * w + bestX);
            Assert.True(want == outs[1][o], $"output {o}: index {outs[1][o]}, expected {want}");
        }
    }

    [Theory]
    [InlineData("storage_order", 2L, "storage_order must be 0 or 1")]
    [InlineData("ceil_mode", 3L, "ceil_mode must be 0 or 1")]
    [InlineData("kernel_shape", 0L, "kernel_shape has 1 values; a rank-5 input needs 3")]
    public void Bad_attributes_are_one_line_errors(string name, long value, string message)
    {
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("kernel_shape", name == "kernel_shape" ? new long[] { 2 } : new long[] { 2, 2, 2 }) };
        if (name != "kernel_shape") attrs.Add(GraphAttribute.Of(name, value));
        var node = new GraphNode("p", "MaxPool", ["x"], ["y"], attrs, 12);
        var e = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(node, [new float[2 * 2 * 4 * 4 * 4]], [[2, 2, 4, 4, 4]]));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void AveragePool_has_no_Indices_output()
    {
        var node = new GraphNode("p", "AveragePool", ["x"], ["y", "i"], [GraphAttribute.Of("kernel_shape", new long[] { 2 })], 12);
        var e = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(node, [new float[8]], [[1, 1, 8]]));
        Assert.Contains("one output", e.Message);
    }
}
