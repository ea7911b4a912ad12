using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// 3-D Conv ([N, C, D, H, W]) through the registry: every attribute (kernel_shape, strides, pads, dilations, group,
/// auto_pad SAME_UPPER / SAME_LOWER / VALID), constant and run-time weights, and the passes that rewrite a Conv (a
/// following Relu, a BatchNormalization, a residual Add fused into it), against <see cref="ReferenceConvNd"/> and the
/// unfused graph; 3-D ConvTranspose's output_shape, auto_pad, pads and output_padding. A 4-D (rank-6) Conv is refused
/// naming the node and what is supported.
/// </summary>
public class Conv3dTests
{
    [Theory]
    // batch, c, m, d, h, w, k (cube), stride, pad (all sides), dilation, groups, auto_pad
    [InlineData(1, 3, 5, 5, 6, 7, 3, 1, 1, 1, 1, "NOTSET")]
    [InlineData(2, 4, 8, 7, 5, 9, 3, 2, 0, 1, 2, "SAME_UPPER")]
    [InlineData(1, 6, 6, 6, 7, 8, 2, 2, 0, 1, 3, "SAME_LOWER")]
    [InlineData(1, 2, 3, 9, 8, 17, 3, 1, 0, 2, 1, "VALID")]
    [InlineData(3, 4, 4, 3, 5, 5, 1, 1, 0, 1, 4, "NOTSET")]
    public void MatchesTheReference(int batch, int c, int m, int d, int h, int w, int k, int stride, int pad, int dilation, int groups, string autoPad)
    {
        int[] ws = [m, c / groups, k, k, k];
        float[] wt = TestData.Random(ws.Aggregate(1, (a, v) => a * v), (ulong)(m + k), -0.5f, 0.5f), b = TestData.Random(m, 2);
        var attrs = new List<GraphAttribute>
        {
            GraphAttribute.Of("kernel_shape", new long[] { k, k, k }), GraphAttribute.Of("strides", new long[] { stride, stride, stride }),
            GraphAttribute.Of("dilations", new long[] { dilation, dilation, dilation }), GraphAttribute.Of("group", (long)groups),
        };
        if (autoPad == "NOTSET") attrs.Add(GraphAttribute.Of("pads", Enumerable.Repeat((long)pad, 6).ToArray()));
        else attrs.Add(GraphAttribute.Of("auto_pad", autoPad));
        var g = Graph([c, d, h, w], ws, wt, b, new GraphNode("conv3d", "Conv", ["x", "W", "B"], ["y"], attrs));
        float[] x = TestData.Random(batch * c * d * h * w, 7);
        int[] xs = [batch, c, d, h, w];
        var y = InferenceSession.Create(g).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, xs) })["y"];

        // auto_pad by the ONNX formula: total = max(0, (ceil(in/s) − 1)·s + (k − 1)·dil + 1 − in), odd one at the end for UPPER.
        int[] begin = new int[3], end = new int[3];
        for (int a = 0; a < 3; a++)
        {
            int size = xs[2 + a], total = autoPad is "SAME_UPPER" or "SAME_LOWER"
                ? Math.Max(0, ((size + stride - 1) / stride - 1) * stride + (k - 1) * dilation + 1 - size)
                : autoPad == "VALID" ? 0 : 2 * pad;
            (begin[a], end[a]) = autoPad == "SAME_LOWER" ? (total - total / 2, total / 2) : (total / 2, total - total / 2);
        }
        var p = new ConvNdParams([k, k, k], [stride, stride, stride], begin, end, [dilation, dilation, dilation], groups);
        int[] os = p.OutputShape(xs, ws);
        Assert.Equal(os, y.Shape.Dims.ToArray());
        var expected = new float[os.Aggregate(1, (a, v) => a * v)];
        ReferenceConvNd.Compute(x, xs, wt, ws, b, expected, p);
        KernelAssert.Close(expected, y.Span, (c / groups) * k * k * k, $"conv3d k{k} s{stride} p{pad} d{dilation} g{groups} {autoPad}");
    }

    [Fact]
    public void RunTimeWeights_TakeTheSameKernel()
    {
        int[] xs = [2, 3, 4, 5, 6], ws = [4, 3, 2, 3, 2];
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", xs));
        g.Inputs.Add(new GraphValue("W", ws));
        g.Outputs.Add(new GraphValue("y", null));
        g.Nodes.Add(new GraphNode("conv3d", "Conv", ["x", "W"], ["y"], [GraphAttribute.Of("pads", new long[] { 1, 0, 1, 0, 1, 0 })]));
        float[] x = TestData.Random(xs.Aggregate(1, (a, v) => a * v), 3), wt = TestData.Random(ws.Aggregate(1, (a, v) => a * v), 4);
        var session = InferenceSession.Create(g);
        var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, xs), ["W"] = Tensor.FromArray(wt, ws) })["y"];
        var p = new ConvNdParams([2, 3, 2], [1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 1], 1);
        var expected = new float[p.OutputShape(xs, ws).Aggregate(1, (a, v) => a * v)];
        ReferenceConvNd.Compute(x, xs, wt, ws, default, expected, p);
        KernelAssert.Close(expected, y.Span, 3 * 12, "run-time weights");
        Assert.Contains(session.PlanFor(2).Kernels, k => k.KernelName.StartsWith("Vol2ColConv3d", StringComparison.Ordinal));
    }

    /// <summary>Conv → BatchNormalization → Add(r) → Relu: folded and fused, the result is the unfused graph's.</summary>
    [Fact]
    public void FoldedBatchNorm_FusedResidualAndRelu_EqualTheUnfusedGraph()
    {
        int c = 4, m = 6, d = 3, h = 5, w = 7;
        int[] ws = [m, c, 3, 3, 3];
        var g = Graph([c, d, h, w], ws, TestData.Random(m * c * 27, 1, -0.5f, 0.5f), TestData.Random(m, 2),
            new GraphNode("conv3d", "Conv", ["x", "W", "B"], ["c"], [GraphAttribute.Of("pads", new long[] { 1, 1, 1, 1, 1, 1 })]));
        g.Inputs.Add(new GraphValue("r", [GraphValue.Symbolic, m, d, h, w], "N"));
        foreach (var (name, seed, lo) in new[] { ("scale", 3UL, 0.5f), ("shift", 4UL, -1f), ("mean", 5UL, -1f), ("var", 6UL, 0.5f) })
            g.AddInitializer(new GraphTensor(name, [m], TestData.Random(m, seed, lo, 1.5f)));
        g.Nodes.Add(new GraphNode("bn", "BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"]));
        g.Nodes.Add(new GraphNode("add", "Add", ["n", "r"], ["s"]));
        g.Nodes.Add(new GraphNode("relu", "Relu", ["s"], ["y"]));
        var fused = InferenceSession.Create(g);
        var plain = InferenceSession.Create(g, PassOptions.None);
        var conv = Assert.Single(fused.Graph.Nodes);
        Assert.True(GraphPasses.HasResidual(conv));
        Assert.Equal(ActivationKind.Relu, conv.FusedActivation.Kind);
        foreach (int batch in new[] { 1, 2 })
        {
            var inputs = new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromArray(TestData.Random(batch * c * d * h * w, 8, -2f, 2f), batch, c, d, h, w),
                ["r"] = Tensor.FromArray(TestData.Random(batch * m * d * h * w, 9, -2f, 2f), batch, m, d, h, w),
            };
            var expected = plain.Run(inputs)["y"].ToArray();
            var actual = fused.Run(inputs)["y"].ToArray();
            KernelAssert.Close(expected, actual, c * 27, $"batch {batch}", rtol: 1e-4f);
            Assert.Contains(actual, v => v == 0f);
            Assert.Contains(actual, v => v > 0f);
            Assert.Contains(fused.PlanFor(batch).Kernels, k => k.KernelName == "Vol2ColConv3d (GEMM) + residual");
        }
    }

    [Fact]
    public void FusedPostActivation_EqualsTheUnfusedGraph()
    {
        int c = 3, m = 5, d = 3, h = 4, w = 6;
        int[] ws = [m, c, 3, 3, 3];
        var g = Graph([c, d, h, w], ws, TestData.Random(m * c * 27, 11, -0.5f, 0.5f), TestData.Random(m, 12),
            new GraphNode("conv3d", "Conv", ["x", "W", "B"], ["c"], [GraphAttribute.Of("pads", new long[] { 1, 1, 1, 1, 1, 1 })]));
        g.Nodes.Add(new GraphNode("swish", "HardSwish", ["c"], ["y"], [], 14));
        var fused = InferenceSession.Create(g);
        var plain = InferenceSession.Create(g, PassOptions.None);
        Assert.Equal(Lacuna.Kernels.Elementwise.PostActivationKind.HardSwish, Assert.Single(fused.Graph.Nodes).FusedPost.Kind);
        var inputs = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(TestData.Random(2 * c * d * h * w, 13, -2f, 2f), 2, c, d, h, w) };
        var actual = fused.Run(inputs)["y"].ToArray();
        KernelAssert.Close(plain.Run(inputs)["y"].ToArray(), actual, c * 27, "HardSwish after a 3-D conv", rtol: 1e-4f);
        Assert.Contains(actual, v => v < 0f); // HardSwish's negative dip: the curve itself, not a Relu
    }

    /// <summary>3-D ConvTranspose through the registry: output_shape and auto_pad SAME_UPPER resolve into pads per axis
    /// (ConvTranspose2dParams.Resolve), groups and output_padding, against <see cref="ReferenceConvTransposeNd"/>.</summary>
    [Theory]
    [InlineData("output_shape")]
    [InlineData("SAME_UPPER")]
    [InlineData("pads")]
    public void ConvTranspose3d_Attributes_MatchTheReference(string mode)
    {
        int[] xs = [2, 4, 3, 4, 5], ws = [4, 3, 2, 3, 2];
        var attrs = new List<GraphAttribute> { GraphAttribute.Of("strides", new long[] { 2, 1, 2 }), GraphAttribute.Of("group", 2L) };
        int[] begin, end, outputPad = [0, 0, 0];
        switch (mode)
        {
            case "output_shape": // natural output 6x6x10; asking 7x5x10 pads one more at the end of D and crops H
                attrs.Add(GraphAttribute.Of("output_shape", new long[] { 7, 5, 10 }));
                (begin, end, outputPad) = ([0, 1, 0], [0, 0, 0], [1, 0, 0]);
                break;
            case "SAME_UPPER": // output = input · stride = 6x4x10: total pads 0, 2, 0
                attrs.Add(GraphAttribute.Of("auto_pad", "SAME_UPPER"));
                (begin, end) = ([0, 1, 0], [0, 1, 0]);
                break;
            default:
                attrs.Add(GraphAttribute.Of("pads", new long[] { 1, 0, 1, 0, 1, 0 }));
                attrs.Add(GraphAttribute.Of("output_padding", new long[] { 1, 0, 1 }));
                (begin, end, outputPad) = ([1, 0, 1], [0, 1, 0], [1, 0, 1]);
                break;
        }
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", xs));
        g.Outputs.Add(new GraphValue("y", null));
        float[] w = TestData.Random(ws.Aggregate(1, (a, v) => a * v), 31), b = TestData.Random(6, 32), x = TestData.Random(xs.Aggregate(1, (a, v) => a * v), 33);
        g.AddInitializer(new GraphTensor("W", ws, w));
        g.AddInitializer(new GraphTensor("B", [6], b));
        g.Nodes.Add(new GraphNode("up3d", "ConvTranspose", ["x", "W", "B"], ["y"], attrs));
        var y = InferenceSession.Create(g).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, xs) })["y"];
        var p = new Lacuna.Kernels.ConvTranspose.ConvTransposeNdParams([2, 3, 2], [2, 1, 2], begin, end, [1, 1, 1], outputPad, 2);
        int[] os = p.OutputShape(xs, ws);
        Assert.Equal(os, y.Shape.Dims.ToArray());
        var expected = new float[os.Aggregate(1, (a, v) => a * v)];
        ReferenceConvTransposeNd.Compute(x, xs, w, ws, b, expected, p);
        KernelAssert.Close(expected, y.Span, 2 * 12, $"convtranspose3d {mode}");
    }

    [Fact]
    public void FourDimensionalConv_IsUnsupportedWithAClearMessage()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [1, 2, 3, 3, 3, 3]));
        g.Outputs.Add(new GraphValue("y", null));
        g.AddInitializer(new GraphTensor("W", [3, 2, 1, 1, 1, 1], TestData.Random(6, 1)));
        g.Nodes.Add(new GraphNode("conv4d", "Conv", ["x", "W"], ["y"]));
        var e = Assert.Throws<UnsupportedOperatorException>(() => InferenceSession.Create(g).PlanFor(1));
        Assert.Contains("conv4d", e.Message);
        Assert.Contains("1-D, 2-D and 3-D", e.Message);
        Assert.Contains("rank 6", e.Message);
    }

    [Fact]
    public void WeightWithWrongChannels_IsAModelErrorNamingTheNode()
    {
        var g = Graph([4, 3, 3, 3], [2, 3, 1, 1, 1], TestData.Random(6, 1), TestData.Random(2, 2),
            new GraphNode("bad3d", "Conv", ["x", "W", "B"], ["y"]));
        var e = Assert.Throws<LacunaFormatException>(() => InferenceSession.Create(g).PlanFor(1));
        Assert.Contains("bad3d", e.Message);
        Assert.Contains("input channels per group", e.Message);
    }

    /// <summary>Input x [N, ...inner] with a symbolic batch, constant W and B, one node writing "y" (or "c").</summary>
    private static ModelGraph Graph(int[] inner, int[] ws, float[] w, float[] b, GraphNode conv)
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, .. inner], "N"));
        g.Outputs.Add(new GraphValue("y", null));
        g.AddInitializer(new GraphTensor("W", ws, w));
        g.AddInitializer(new GraphTensor("B", [ws[0]], b));
        g.Nodes.Add(conv);
        return g;
    }
}
