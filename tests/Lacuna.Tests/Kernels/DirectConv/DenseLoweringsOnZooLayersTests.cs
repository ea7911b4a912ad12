using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.DirectConv;

/// <summary>
/// Every dense lowering the conv planner may time (direct, im2col + GEMM, pointwise, depthwise) on every conv layer shape
/// of the zoo CNNs at a small resolution, against the reference at batch 2, 1 and 2 threads, with the output poisoned: the planner keeps
/// whichever measures fastest, so a lowering that is wrong on one shape is a failure that only load decides to show.
/// </summary>
public class DenseLoweringsOnZooLayersTests
{
    [Theory]
    [InlineData("densenet121", 32)]
    [InlineData("mobilenetv2", 32)]
    [InlineData("googlenet", 32)]
    [InlineData("resnet-mini", 32)]
    public void EveryLoweringMatchesTheReference(string model, int size)
    {
        var zoo = ZooBuilder.Build(model, new ZooOptions(ImageSize: model == "resnet-mini" ? null : size));
        var g = OnnxGraphImporter.ToGraph(zoo.Model);
        var shapes = ConstantFolder.InferShapes(g);
        var seen = new HashSet<string>();
        int checkedRuns = 0;
        foreach (var n in g.Nodes.Where(n => n.OpType == "Conv"))
        {
            int[] x = shapes[n.Inputs[0]].ToArray(), w = g.Initializers[n.Inputs[1]].Dims;
            x[0] = 2;
            var p = OpAttributes.Conv(n, w);
            if (!seen.Add($"{string.Join(",", x)}|{string.Join(",", w)}|{p}")) continue;
            int count = w.Aggregate(1, (a, d) => a * d);
            float[] weight = TestData.Random(count, (ulong)count, -0.5f, 0.5f), bias = TestData.Random(w[0], 3);
            float[] input = TestData.Random(x.Aggregate(1, (a, d) => a * d), 5);
            int[] os = p.OutputShape(x, w);
            var expected = new float[os.Aggregate(1, (a, d) => a * d)];
            ReferenceConv2d.Compute(input, x, weight, w, bias, expected, p, Activation.Relu);
            // Every algorithm, and for direct conv every register tile (a plan may time its tiles).
            var lowerings = Enum.GetValues<ConvAlgorithm>().Select(a => (a, (string?)null))
                .Concat(DenseConv2dPlan.DirectTiles.Select(t => (ConvAlgorithm.Direct, (string?)t)));
            foreach (var (alg, tile) in lowerings)
            {
                DenseConv2dPlan plan;
                try { plan = DenseConv2dPlan.Create(weight, w, bias, p, x[2], x[3], Activation.Relu, alg, tile); }
                catch (ArgumentException) { continue; } // the lowering does not apply to this geometry
                foreach (int threads in new[] { 1, 2 })
                {
                    var actual = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
                    plan.Run(input, actual, 2, threads);
                    checkedRuns++;
                    KernelAssert.Close(expected, actual, w[1] * w[2] * w[3], $"{model} {n.Name} {alg} ({plan.Describe()}) threads {threads} x [{string.Join(",", x)}] w [{string.Join(",", w)}]");
                }
            }
        }
        Assert.True(checkedRuns >= seen.Count, $"{model}: only {checkedRuns} lowerings checked over {seen.Count} layer shapes.");
    }
}
