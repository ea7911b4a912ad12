using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// 1-D Conv ([N, C, L], Jasper's layers) runs as 2-D with H = 1 through the planner: dense and pruned constant weights,
/// strides, dilation, groups, auto_pad SAME, against the 2-D reference on the same memory. The PyTorch Conv1d cases run
/// in ConformanceTests.
/// </summary>
public class Conv1dTests
{
    [Theory]
    [InlineData(1, 8, 16, 33, 11, 1, 5, 1, 1, 0.0, "NOTSET")]
    [InlineData(2, 16, 24, 50, 3, 2, 1, 1, 1, 0.9, "NOTSET")]
    [InlineData(1, 12, 12, 17, 5, 1, 2, 2, 1, 0.0, "NOTSET")]
    [InlineData(3, 8, 8, 40, 7, 1, 0, 1, 4, 0.0, "SAME_UPPER")]
    [InlineData(1, 32, 64, 129, 1, 1, 0, 1, 1, 0.9, "NOTSET")]
    public void MatchesTheReference(int n, int c, int m, int length, int k, int stride, int pad, int dilation, int groups, double sparsity, string autoPad)
    {
        float[] w = TestData.Random(m * (c / groups) * k, (ulong)(m + k), -0.5f, 0.5f), b = TestData.Random(m, 2);
        if (sparsity > 0) Pruner.Magnitude(w, sparsity);
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("strides", new long[] { stride }), GraphAttribute.Of("dilations", new long[] { dilation }),
            GraphAttribute.Of("group", (long)groups) };
        if (autoPad == "NOTSET") attrs.Add(GraphAttribute.Of("pads", new long[] { pad, pad }));
        else attrs.Add(GraphAttribute.Of("auto_pad", autoPad));
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, c, length], "N"));
        g.Outputs.Add(new GraphValue("y", null));
        g.AddInitializer(new GraphTensor("W", [m, c / groups, k], w));
        g.AddInitializer(new GraphTensor("B", [m], b));
        g.Nodes.Add(new GraphNode("conv", "Conv", ["x", "W", "B"], ["y"], attrs));
        var session = InferenceSession.Create(g);
        float[] x = TestData.Random(n * c * length, 7);
        var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [n, c, length]) })["y"];

        int total = autoPad == "NOTSET" ? 2 * pad : Math.Max(0, ((length + stride - 1) / stride - 1) * stride + (k - 1) * dilation + 1 - length);
        var p = new Conv2dParams(1, k, 1, stride, 0, total / 2, 0, total - total / 2, 1, dilation, groups);
        int[] os = p.OutputShape([n, c, 1, length], [m, c / groups, 1, k]);
        Assert.Equal(new[] { n, m, os[3] }, y.Shape.Dims.ToArray());
        var expected = new float[n * m * os[3]];
        ReferenceConv2d.Compute(x, [n, c, 1, length], w, [m, c / groups, 1, k], b, expected, p);
        ElementwiseCheck.Close(expected, y.Span, $"conv1d k{k} s{stride} d{dilation} g{groups} sparsity {sparsity}", rtol: 1e-4f, atol: 1e-5f);
    }
}
