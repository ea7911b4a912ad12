using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>Sparse 1x1 convolutions planned with bf16 activations (<see cref="PassOptions.SparsePrecision"/>).</summary>
public class Bf16ActivationPlanTests
{
    [Theory]
    [InlineData(24, 16, 9, 1, 2)]
    [InlineData(32, 48, 13, 2, 1)]
    public void Spmm_candidates_use_the_precision_and_stay_within_a_percent(int m, int c, int hw, int stride, int batch)
    {
        var weight = TestData.Random(m * c, 61);
        Pruner.Magnitude(weight, 0.8);
        var bias = TestData.Random(m, 62);
        var p = new Conv2dParams(1, 1, stride, stride);
        var prepared = ConvPlanner.Prepare(weight, [m, c, 1, 1], bias, p, hw, hw, Activation.Relu, allowSparse: true, SpmmPrecision.BFloat16Activations);
        var x = TestData.Random(batch * c * hw * hw, 63);
        var expected = new float[batch * prepared.OutLength];
        ReferenceConv2d.Compute(x, [batch, c, hw, hw], weight, [m, c, 1, 1], bias, expected, p, Activation.Relu);
        float scale = expected.Max(MathF.Abs);
        var spmm = prepared.Kernels.Where(k => k.Name.StartsWith("spmm", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(spmm);
        foreach (var cand in spmm)
        {
            Assert.Contains("BFloat16Activations", cand.Describe());
            var y = TestData.Poisoned(expected.Length);
            cand.Run(x, y, batch);
            for (int i = 0; i < y.Length; i++)
                Assert.True(MathF.Abs(y[i] - expected[i]) <= 1e-2f * scale, $"{cand.Name} y[{i}] = {y[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public void Session_with_bf16_activations_matches_fp32_within_a_percent_of_the_logits()
    {
        var zoo = ZooBuilder.Build("resnet-mini", seed: 5, sparsity: 0.9);
        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        var fp32 = InferenceSession.Create(graph);
        var bf16 = InferenceSession.Create(graph, new PassOptions { SparsePrecision = SpmmPrecision.BFloat16Activations });
        using var x = Tensor.Random(9, new[] { 2, 3, 32, 32 });
        var input = new Dictionary<string, Tensor> { ["input"] = x };
        var y32 = fp32.Run(input)["logits"].ToArray();
        var y16 = bf16.Run(input)["logits"].ToArray();
        float scale = y32.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < y32.Length; i++)
            Assert.True(MathF.Abs(y16[i] - y32[i]) <= 1e-2f * scale, $"logit {i}: {y16[i]} vs {y32[i]}");
    }
}
