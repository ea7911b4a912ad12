using Lacuna.Onnx;
using Lacuna.Onnx.Zoo;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// Zoo models: parameter counts against the published ones, op counts, I/O metadata, serialization round
/// trips, seeding, pruning per layer and argument errors. Large models are built shape-only (no weight data).
/// </summary>
public sealed class ZooBuilderTests
{
    private static ZooModel ShapeOnly(string name) => ZooBuilder.Build(name, new ZooOptions(WithWeights: false));

    // Published counts: torchvision resnet50 25,557,032, resnet18 11,689,512, vgg16 138,357,544;
    // MobileNetV1 1.0-224 "4.2M" (Howard et al.; 4,231,976 with BN gamma/beta and the 1000-way fc).
    [Theory]
    [InlineData("resnet50", 25_557_032L, 54, 8_178_000_000L)]
    [InlineData("resnet18", 11_689_512L, 21, 3_628_000_000L)]
    [InlineData("vgg16", 138_357_544L, 16, 30_941_000_000L)]
    [InlineData("mobilenetv1", 4_231_976L, 28, 1_137_000_000L)]
    public void ParameterCountsMatchPublished(string name, long parameters, int convGemmLayers, long flopsRounded)
    {
        var m = ShapeOnly(name);
        Assert.Equal(parameters, m.ParameterCount);
        Assert.Equal(convGemmLayers, m.Layers.Count);
        Assert.InRange(m.Flops, flopsRounded - 1_000_000, flopsRounded + 1_000_000);
        // Initializer elements = parameters + BN running statistics.
        long initializerElements = m.Model.Graph.Initializer.Sum(t => t.GetElementCount());
        long runningStats = m.Model.Graph.Initializer.Where(t => t.Name.EndsWith(".running_mean") || t.Name.EndsWith(".running_var")).Sum(t => t.GetElementCount());
        Assert.Equal(parameters, initializerElements - runningStats);
    }

    [Theory]
    [InlineData("resnet50", 53, 53, 49, 16, 1, 1, 1)]
    [InlineData("resnet18", 20, 20, 17, 8, 1, 1, 1)]
    [InlineData("vgg16", 13, 0, 15, 0, 5, 3, 0)]
    [InlineData("mobilenetv1", 27, 27, 27, 0, 0, 1, 1)]
    public void OpCountsFollowTheArchitecture(string name, int conv, int bn, int relu, int add, int maxPool, int gemm, int globalPool)
    {
        var nodes = ShapeOnly(name).Model.Graph.Node;
        int Count(string op) => nodes.Count(n => n.OpType == op);
        Assert.Equal(conv, Count("Conv"));
        Assert.Equal(bn, Count("BatchNormalization"));
        Assert.Equal(relu, Count("Relu"));
        Assert.Equal(add, Count("Add"));
        Assert.Equal(maxPool, Count("MaxPool"));
        Assert.Equal(gemm, Count("Gemm"));
        Assert.Equal(globalPool, Count("GlobalAveragePool"));
        Assert.Equal(1, Count("Flatten"));
        Assert.Equal(nodes.Count, nodes.Select(n => n.Name).Distinct().Count());
    }

    [Theory]
    [InlineData("resnet50")]
    [InlineData("resnet18")]
    [InlineData("vgg16")]
    [InlineData("mobilenetv1")]
    [InlineData("resnet-mini")]
    public void ShapeOnlyModelRoundTripsWithSymbolicBatchAndOpset13(string name)
    {
        var m = ShapeOnly(name);
        var parsed = OnnxModel.Parse(m.Model.ToBytes());
        Assert.True(parsed.Proto.ContentEquals(m.Model.Proto));
        Assert.Equal(13, Assert.Single(parsed.Proto.OpsetImport).Version);
        var input = Assert.Single(parsed.Graph.Input);
        var output = Assert.Single(parsed.Graph.Output);
        Assert.Equal("input", input.Name);
        Assert.Equal("logits", output.Name);
        int size = name == "resnet-mini" ? 32 : 224, classes = name == "resnet-mini" ? 10 : 1000;
        Assert.Equal($"[N, 3, {size}, {size}]", input.Type!.TensorType!.Shape!.ToString());
        Assert.Equal($"[N, {classes}]", output.Type!.TensorType!.Shape!.ToString());
        Assert.Equal("logits", parsed.Graph.Node[^1].Output[0]);
        // Shape-only weights are external data in a file that is never written; reading one fails naming the tensor.
        var missing = Assert.ThrowsAny<Exception>(() => parsed.ReadFloats(parsed.Graph.Initializer[0]));
        Assert.Contains(parsed.Graph.Initializer[0].Name, missing.Message);
        Assert.Equal(name + ".shape-only.bin", parsed.Graph.Initializer[0].ExternalData[0].Value);
        // Every node input is the graph input, an initializer or an earlier node's output.
        var known = new HashSet<string>(parsed.Graph.Initializer.Select(t => t.Name)) { "input" };
        foreach (var node in parsed.Graph.Node)
        {
            Assert.All(node.Input, i => Assert.Contains(i, known));
            foreach (var o in node.Output) known.Add(o);
        }
    }

    [Fact]
    public void TorchvisionNamesAndShapes()
    {
        var g = ShapeOnly("resnet50").Model.Graph;
        Assert.Equal([256L, 64, 1, 1], g.FindInitializer("layer1.0.downsample.0.weight")!.Dims);
        Assert.Equal([256L, 256, 3, 3], g.FindInitializer("layer3.5.conv2.weight")!.Dims);
        Assert.Equal([2048L], g.FindInitializer("layer4.2.bn3.running_var")!.Dims);
        Assert.Equal([1000L, 2048], g.FindInitializer("fc.weight")!.Dims);
        var stride = g.Node.Single(n => n.Name == "layer2.0.conv2").FindAttribute("strides")!;
        Assert.Equal([2L, 2], stride.Ints); // v1.5: stride on the 3x3
        var dw = ShapeOnly("mobilenetv1").Model.Graph.Node.Single(n => n.Name == "blocks.12.dw.conv");
        Assert.Equal(1024, dw.FindAttribute("group")!.I);
    }

    [Fact]
    public void WeightsAreSeededHeNormalAndBnIsNonTrivial()
    {
        var a = ZooBuilder.Build("resnet-mini", seed: 5);
        var b = ZooBuilder.Build("resnet-mini", seed: 5);
        var c = ZooBuilder.Build("resnet-mini", seed: 6);
        Assert.Equal(a.Model.ToBytes(), b.Model.ToBytes());
        Assert.NotEqual(a.Model.ToBytes(), c.Model.ToBytes());

        var w = a.Model.ReadFloats(a.Model.Graph.FindInitializer("layer3.0.conv2.weight")!); // fan_in 32·9
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.8 * Math.Sqrt(2.0 / 288), 1.2 * Math.Sqrt(2.0 / 288));

        var gamma = a.Model.ReadFloats(a.Model.Graph.FindInitializer("layer2.1.bn2.weight")!);
        var variance = a.Model.ReadFloats(a.Model.Graph.FindInitializer("layer2.1.bn2.running_var")!);
        var mean = a.Model.ReadFloats(a.Model.Graph.FindInitializer("layer2.1.bn2.running_mean")!);
        Assert.All(gamma, v => Assert.InRange(v, 0.9f, 1.1f));
        Assert.All(variance, v => Assert.InRange(v, 0.5f, 1.5f));
        Assert.Contains(gamma, v => v != 1f);
        Assert.Contains(mean, v => v != 0f);
    }

    [Fact]
    public void SavedModelLoadsBackEqual()
    {
        var m = ZooBuilder.Build("resnet-mini", seed: 2);
        string path = Path.Combine(Path.GetTempPath(), $"lacuna-zoo-{Guid.NewGuid():N}.onnx");
        try
        {
            m.Model.Save(path);
            var loaded = OnnxModel.Load(path);
            Assert.True(loaded.Proto.ContentEquals(m.Model.Proto));
            Assert.Equal(m.Model.ReadFloats(m.Model.Graph.FindInitializer("fc.weight")!), loaded.ReadFloats(loaded.Graph.FindInitializer("fc.weight")!));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PruningHitsTheSparsityInEveryLayer(bool pruneFirstConv)
    {
        const double s = 0.75;
        var m = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 3, Sparsity: s, PruneFirstConv: pruneFirstConv));
        for (int i = 0; i < m.Layers.Count; i++)
        {
            var layer = m.Layers[i];
            var w = m.Model.ReadFloats(m.Model.Graph.FindInitializer(layer.WeightName)!);
            int zeros = w.Count(v => v == 0f);
            int expected = i == 0 && !pruneFirstConv ? 0 : (int)Math.Round(s * w.Length);
            Assert.Equal(expected, zeros);
            Assert.Equal((double)zeros / w.Length, layer.Sparsity, 12);
        }
        Assert.InRange(m.WeightSparsity, 0.70, 0.75);
    }

    [Fact]
    public void BadArgumentsAreErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => ZooBuilder.Build("resnet51"));
        Assert.Contains("resnet51", e.Message);
        Assert.Contains("resnet50", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ZooBuilder.Build("resnet-mini", sparsity: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ZooBuilder.Build("resnet-mini", sparsity: -0.1));
        Assert.Throws<ArgumentException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(Sparsity: 0.5, WithWeights: false)));
        Assert.Throws<ArgumentException>(() => ZooBuilder.Build("vgg16", new ZooOptions(DlmcDirectory: Path.GetTempPath())));
        Assert.Throws<ArgumentException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(Sparsity: 0.5, DlmcDirectory: Path.GetTempPath())));
    }
}
