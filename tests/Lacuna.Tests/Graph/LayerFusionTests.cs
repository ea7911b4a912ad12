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

    /// <summary>Runs both sessions on the same random input (with a NaN at index 3) and returns (unfused, fused) outputs.</summary>
    public static (float[] Expected, float[] Actual) RunBoth(InferenceSession separate, InferenceSession fused, Dictionary<string, int[]> inputs, ulong seed)
    {
        var feeds = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in inputs)
        {
            var data = TestData.Random(LayerCases.Count(shape), seed++, -3f, 3f);
            data[3] = float.NaN;
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
