using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>Builds small ONNX graphs for the fusion tests and compares the fused session with the unfused one.</summary>
internal static class FusionModels
{
    public static ModelGraph Import(GraphProto g, int opset = 13)
    {
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", opset));
        return OnnxGraphImporter.ToGraph(new OnnxModel(model));
    }

    public static object[] Dims(int[] s) => s.Select(d => (object)d).ToArray();

    /// <summary>Runs both sessions on the same random input (with a NaN at index 3 unless <paramref name="nan"/> is false) and returns (unfused, fused) outputs.</summary>
    public static (float[] Expected, float[] Actual) RunBoth(InferenceSession separate, InferenceSession fused, Dictionary<string, int[]> inputs, ulong seed, bool nan = true)
    {
        var feeds = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in inputs)
        {
            var data = TestData.Random(LayerCases.Count(shape), seed++, -3f, 3f);
            if (nan) data[3] = float.NaN;
            feeds[name] = Tensor.FromArray(data, shape);
        }
        return (separate.Run(feeds)["y"].ToArray(), fused.Run(feeds)["y"].ToArray());
    }
}

/// <summary>DenseNet's pre-activation BatchNormalization → Relu (after a Concat, so it cannot fold into a conv) runs as one node.</summary>
public class BatchNormActivationFusionTests
{
    private static ModelGraph ConcatBnAct(int c1, int c2, int h, int w, string act)
    {
        int c = c1 + c2;
        var g = new GraphProto { Name = "concat_bn_act" };
        g.Input.Add(ValueInfoProto.Tensor("a", TensorDataType.Float, 2, c1, h, w));
        g.Input.Add(ValueInfoProto.Tensor("b", TensorDataType.Float, 2, c2, h, w));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 2, c, h, w));
        g.Initializer.Add(TensorProto.FromFloats("scale", [c], TestData.Random(c, 11, 0.5f, 2f)));
        g.Initializer.Add(TensorProto.FromFloats("shift", [c], TestData.Random(c, 12, -1f, 1f)));
        g.Initializer.Add(TensorProto.FromFloats("mean", [c], TestData.Random(c, 13, -1f, 1f)));
        g.Initializer.Add(TensorProto.FromFloats("var", [c], TestData.Random(c, 14, 0.1f, 3f)));
        g.Node.Add(new NodeProto("Concat", "cat", ["a", "b"], ["cat_out"], AttributeProto.Int("axis", 1)));
        g.Node.Add(new NodeProto("BatchNormalization", "bn", ["cat_out", "scale", "shift", "mean", "var"], ["bn_out"], AttributeProto.Float("epsilon", 1e-5f)));
        if (act == "Relu") g.Node.Add(new NodeProto("Relu", "relu", ["bn_out"], ["y"]));
        else
        {
            g.Initializer.Add(TensorProto.FromFloats("lo", [], [-0.5f]));
            g.Initializer.Add(TensorProto.FromFloats("hi", [], [1.5f]));
            g.Node.Add(new NodeProto("Clip", "clip", ["bn_out", "lo", "hi"], ["y"]));
        }
        return FusionModels.Import(g);
    }

    [Theory]
    [InlineData(3, 5, 7, 9, "Relu")]    // planes of 63: vector body and tail
    [InlineData(16, 16, 2, 3, "Relu")]  // spatial < 16: the across-channels path
    [InlineData(8, 24, 1, 1, "Clip")]   // [N, C, 1, 1]
    [InlineData(4, 12, 33, 33, "Clip")] // odd planes, Clip as a second pass
    public void Batchnorm_with_fused_activation_equals_the_separate_nodes(int c1, int c2, int h, int w, string act)
    {
        var graph = ConcatBnAct(c1, c2, h, w, act);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, PassOptions.None);
        var bn = Assert.Single(fused.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal(act == "Relu" ? ActivationKind.Relu : ActivationKind.Clip, bn.FusedActivation.Kind);
        Assert.DoesNotContain(fused.Graph.Nodes, n => n.OpType == act);
        Assert.Contains(fused.PlanFor(2).Steps, s => s.Kernel == "BatchNorm+" + act);
        Assert.Contains(separate.Graph.Nodes, n => n.OpType == act);

        var (expected, actual) = FusionModels.RunBoth(separate, fused,
            new() { ["a"] = [2, c1, h, w], ["b"] = [2, c2, h, w] }, 21);
        Assert.True(float.IsNaN(actual[3]), "NaN passes through BN and the activation");
        KernelAssert.Exact(expected, actual, $"{c1}+{c2}x{h}x{w} {act}");
    }

    [Fact]
    public void Batchnorm_whose_output_is_also_read_elsewhere_keeps_its_activation_separate()
    {
        var g = new GraphProto { Name = "bn_two_readers" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 1, 4, 5, 5));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 1, 4, 5, 5));
        foreach (var (name, seed) in new[] { ("s", 1UL), ("b", 2UL), ("m", 3UL), ("v", 4UL) })
            g.Initializer.Add(TensorProto.FromFloats(name, [4], TestData.Random(4, seed, 0.2f, 1f)));
        g.Node.Add(new NodeProto("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["t"]));
        g.Node.Add(new NodeProto("Relu", "relu", ["t"], ["r"]));
        g.Node.Add(new NodeProto("Add", "add", ["t", "r"], ["y"]));
        var graph = FusionModels.Import(g);
        var fused = InferenceSession.Create(graph);
        Assert.Equal(ActivationKind.None, Assert.Single(fused.Graph.Nodes, n => n.OpType == "BatchNormalization").FusedActivation.Kind);
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [1, 4, 5, 5] }, 5);
        KernelAssert.Exact(expected, actual, "two readers");
    }
}

/// <summary>ShuffleNet's Reshape → Transpose(0, 2, 1, 3, 4) → Reshape channel shuffle runs as one ChannelShuffle copy.</summary>
public class ChannelShuffleFusionTests
{
    /// <summary>A grouped 1x1 conv, the three-node shuffle, then a Relu (a ShuffleNet unit's first half).</summary>
    private static ModelGraph Block(int n, int c, int h, int w, int groups, long[] split, long[] merge)
    {
        var g = new GraphProto { Name = "shuffle_block" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, n, c, h, w));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, FusionModels.Dims(merge.Select(d => (int)d).ToArray())));
        g.Initializer.Add(TensorProto.FromFloats("W", [c, c / groups, 1, 1], TestData.Random(c * (c / groups), 7, -1f, 1f)));
        g.Initializer.Add(TensorProto.FromInt64s("split_shape", [split.Length], split));
        g.Initializer.Add(TensorProto.FromInt64s("merge_shape", [merge.Length], merge));
        g.Node.Add(new NodeProto("Conv", "gconv", ["x", "W"], ["c"], AttributeProto.Int("group", groups)));
        g.Node.Add(new NodeProto("Reshape", "split", ["c", "split_shape"], ["s"]));
        g.Node.Add(new NodeProto("Transpose", "shuffle", ["s"], ["t"], AttributeProto.IntList("perm", 0, 2, 1, 3, 4)));
        g.Node.Add(new NodeProto("Reshape", "merge", ["t", "merge_shape"], ["m"]));
        g.Node.Add(new NodeProto("Relu", "relu", ["m"], ["y"]));
        return FusionModels.Import(g);
    }

    [Theory]
    [InlineData(1, 12, 7, 7, 3)]    // ShuffleNet's g = 3, odd planes
    [InlineData(2, 16, 5, 9, 4)]    // batch 2, g = 4
    [InlineData(1, 240, 14, 14, 3)] // a real stage-2 layer: large enough to split across threads
    [InlineData(2, 8, 1, 1, 2)]     // 1x1 planes
    public void Fused_shuffle_equals_the_three_nodes(int n, int c, int h, int w, int groups)
    {
        var graph = Block(n, c, h, w, groups, [n, groups, c / groups, h, w], [n, c, h, w]);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, PassOptions.None);
        var shuffle = Assert.Single(fused.Graph.Nodes, x => x.OpType == "ChannelShuffle");
        Assert.Equal(groups, shuffle.Int("groups", 0));
        Assert.DoesNotContain(fused.Graph.Nodes, x => x.OpType is "Transpose" or "Reshape");
        Assert.Contains(fused.PlanFor(n).Steps, s => s.Kernel == "Transpose.ChannelShuffle");
        Assert.Single(separate.Graph.Nodes, x => x.OpType == "Transpose");

        var (expected, actual) = FusionModels.RunBoth(separate, fused, new() { ["x"] = [n, c, h, w] }, 31);
        KernelAssert.Exact(expected, actual, $"{n}x{c}x{h}x{w} g{groups}");

        // Exported, the shuffle is the three ONNX nodes again, and computes the same.
        var exported = OnnxGraphImporter.ToGraph(OnnxGraphExporter.ToModel(fused.Graph));
        Assert.DoesNotContain(exported.Nodes, x => x.OpType == "ChannelShuffle");
        Assert.Equal(2, exported.Nodes.Count(x => x.OpType == "Reshape"));
        var reimported = InferenceSession.Create(exported, PassOptions.None);
        var (_, again) = FusionModels.RunBoth(separate, reimported, new() { ["x"] = [n, c, h, w] }, 31);
        KernelAssert.Exact(expected, again, "exported");
    }

    [Fact]
    public void Split_shape_with_inferred_dimensions_still_fuses()
    {
        var graph = Block(1, 12, 4, 4, 3, [0, 3, -1, 4, 4], [0, -1, 4, 4]);
        var fused = InferenceSession.Create(graph);
        Assert.Single(fused.Graph.Nodes, x => x.OpType == "ChannelShuffle");
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [1, 12, 4, 4] }, 41);
        KernelAssert.Exact(expected, actual, "0/-1 shapes");
    }

    [Fact]
    public void Reshape_transpose_reshape_that_is_not_a_shuffle_stays_three_nodes()
    {
        // The merge flattens H into channels: not the input's shape, so not a channel shuffle.
        var graph = Block(1, 12, 4, 4, 3, [1, 3, 4, 4, 4], [1, 48, 4, 1]);
        var fused = InferenceSession.Create(graph);
        Assert.DoesNotContain(fused.Graph.Nodes, x => x.OpType == "ChannelShuffle");
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [1, 12, 4, 4] }, 43);
        KernelAssert.Exact(expected, actual, "not a shuffle");
    }
}

/// <summary>Per-channel constant Mul/Add after a Conv or BatchNormalization (Caffe2/TF exports) fold into its parameters.</summary>
public class PerChannelAffineFoldTests
{
    /// <summary>producer → Mul(scale) → Add(shift) → Relu, the constants shaped as given.</summary>
    private static ModelGraph Chain(string producer, int c, int h, int w, int[] scaleDims, int[] shiftDims, float? special = null)
    {
        var g = new GraphProto { Name = "affine_chain" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, 2, c, h, w));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, 2, c, h, w));
        if (producer == "Conv")
        {
            g.Initializer.Add(TensorProto.FromFloats("W", [c, c, 3, 3], TestData.Random(c * c * 9, 51, -0.5f, 0.5f)));
            g.Initializer.Add(TensorProto.FromFloats("B", [c], TestData.Random(c, 52, -0.5f, 0.5f)));
            g.Node.Add(new NodeProto("Conv", "conv", ["x", "W", "B"], ["p"], AttributeProto.IntList("pads", 1, 1, 1, 1)));
        }
        else
        {
            foreach (var (name, seed, lo) in new[] { ("s", 53UL, 0.5f), ("b", 54UL, -1f), ("m", 55UL, -1f), ("v", 56UL, 0.2f) })
                g.Initializer.Add(TensorProto.FromFloats(name, [c], TestData.Random(c, seed, lo, 2f)));
            g.Node.Add(new NodeProto("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["p"]));
        }
        var scale = TestData.Random(LayerCases.Count(scaleDims), 57, -2f, 2f);
        if (special is { } sp) scale[0] = sp;
        g.Initializer.Add(TensorProto.FromFloats("scale", scaleDims.Select(d => (long)d).ToArray(), scale));
        g.Initializer.Add(TensorProto.FromFloats("shift", shiftDims.Select(d => (long)d).ToArray(), TestData.Random(LayerCases.Count(shiftDims), 58, -1f, 1f)));
        g.Node.Add(new NodeProto("Mul", "mul", ["p", "scale"], ["q"]));
        g.Node.Add(new NodeProto("Add", "add", ["shift", "q"], ["r"])); // constant first: Add commutes
        g.Node.Add(new NodeProto("Relu", "relu", ["r"], ["y"]));
        return FusionModels.Import(g);
    }

    [Theory]
    [InlineData("Conv", 8, 9, 7, new[] { 8, 1, 1 }, new[] { 1, 8, 1, 1 })]
    [InlineData("Conv", 5, 6, 6, new[] { 1 }, new[] { 5, 1, 1 })]         // scalar scale
    [InlineData("Conv", 16, 4, 4, new[] { 1, 16, 1, 1 }, new int[0])]     // scalar shift of rank 0
    [InlineData("BatchNormalization", 12, 5, 5, new[] { 12, 1, 1 }, new[] { 12, 1, 1 })]
    [InlineData("BatchNormalization", 7, 3, 3, new[] { 1, 7, 1, 1 }, new[] { 1 })]
    public void Mul_and_add_fold_into_the_producer_which_then_takes_the_relu(string producer, int c, int h, int w, int[] scaleDims, int[] shiftDims)
    {
        var graph = Chain(producer, c, h, w, scaleDims, shiftDims);
        var fused = InferenceSession.Create(graph);
        var separate = InferenceSession.Create(graph, PassOptions.None);
        var node = Assert.Single(fused.Graph.Nodes);
        Assert.Equal(producer, node.OpType);
        Assert.Equal(ActivationKind.Relu, node.FusedActivation.Kind);
        Assert.Equal(4, separate.Graph.Nodes.Count);
        // No NaN for Conv: its fused Relu epilogue (already used for Conv → Relu) maps NaN to 0 where the Relu node
        // keeps it; that is the conv kernels' behaviour, not this fold's.
        bool conv = producer == "Conv";
        var (expected, actual) = FusionModels.RunBoth(separate, fused, new() { ["x"] = [2, c, h, w] }, 61, nan: !conv);
        Assert.True(conv || float.IsNaN(actual[3]), "BN keeps a NaN input element");
        KernelAssert.Close(expected, actual, producer == "Conv" ? c * 9 : 4, $"{producer} {c}x{h}x{w}");
    }

    [Theory]
    [InlineData(new[] { 1, 1, 4, 4 })] // per-position, not per-channel
    [InlineData(new[] { 2, 6, 1, 1 })] // per-sample
    public void Constants_that_are_not_per_channel_stay_separate_nodes(int[] scaleDims)
    {
        var graph = Chain("Conv", 6, 4, 4, scaleDims, [6, 1, 1]);
        var fused = InferenceSession.Create(graph);
        Assert.Single(fused.Graph.Nodes, n => n.OpType == "Mul");
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [2, 6, 4, 4] }, 62, nan: false);
        KernelAssert.Close(expected, actual, 6 * 9, "not per-channel");
    }

    [Fact]
    public void A_non_finite_scale_is_not_folded()
    {
        var graph = Chain("Conv", 4, 3, 3, [4, 1, 1], [4, 1, 1], float.PositiveInfinity);
        var fused = InferenceSession.Create(graph);
        Assert.Single(fused.Graph.Nodes, n => n.OpType == "Mul");
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [2, 4, 3, 3] }, 63, nan: false);
        KernelAssert.Close(expected, actual, 4 * 9, "inf scale");
    }
}

/// <summary>Per-column constant Mul/Add after a fully connected Gemm fold into B and C.</summary>
public class GemmAffineFoldTests
{
    [Theory]
    [InlineData(3, 17, 9, 1, true, true, 0.5f)]
    [InlineData(1, 8, 33, 0, false, true, 1f)]
    [InlineData(2, 5, 16, 0, true, false, 1f)]
    [InlineData(4, 6, 7, 1, false, false, 2f)]
    public void Mul_and_add_after_gemm_fold_into_its_weights_and_bias(int m, int k, int n, int transB, bool withC, bool scalarShift, float beta)
    {
        var g = new GraphProto { Name = "gemm_affine" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, m, k));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, m, n));
        long[] bDims = transB != 0 ? [n, k] : [k, n];
        g.Initializer.Add(TensorProto.FromFloats("B", bDims, TestData.Random(n * k, 71, -1f, 1f)));
        var gemmInputs = new List<string> { "x", "B" };
        if (withC)
        {
            g.Initializer.Add(TensorProto.FromFloats("C", [n], TestData.Random(n, 72, -1f, 1f)));
            gemmInputs.Add("C");
        }
        g.Initializer.Add(TensorProto.FromFloats("scale", [1, n], TestData.Random(n, 73, -2f, 2f)));
        g.Initializer.Add(scalarShift ? TensorProto.FromFloats("shift", [], [0.25f]) : TensorProto.FromFloats("shift", [n], TestData.Random(n, 74, -1f, 1f)));
        g.Node.Add(new NodeProto("Gemm", "fc", [.. gemmInputs], ["p"], AttributeProto.Int("transB", transB), AttributeProto.Float("beta", beta)));
        g.Node.Add(new NodeProto("Mul", "mul", ["p", "scale"], ["q"]));
        g.Node.Add(new NodeProto("Add", "add", ["q", "shift"], ["r"]));
        g.Node.Add(new NodeProto("Relu", "relu", ["r"], ["y"]));
        var graph = FusionModels.Import(g);
        var fused = InferenceSession.Create(graph);
        var node = Assert.Single(fused.Graph.Nodes);
        Assert.Equal("Gemm", node.OpType);
        Assert.Equal(ActivationKind.Relu, node.FusedActivation.Kind);
        var (expected, actual) = FusionModels.RunBoth(InferenceSession.Create(graph, PassOptions.None), fused, new() { ["x"] = [m, k] }, 75, nan: false);
        KernelAssert.Close(expected, actual, k, $"gemm {m}x{k}x{n} transB={transB}");
    }
}
