using Lacuna.Bench.Baselines;
using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// DenseNet-121, MobileNetV2 and GoogLeNet: counts at 224² (shape-only), pruning, and small-resolution builds
/// (32², so the suite stays fast) run by Lacuna's dense and sparse plans and by ONNX Runtime on the same bytes.
/// </summary>
public sealed class ZooModernArchitecturesTests
{
    private static ZooModel ShapeOnly(string name, int? imageSize = null) =>
        ZooBuilder.Build(name, new ZooOptions(WithWeights: false, ImageSize: imageSize));

    private const double Sparsity = 0.9;

    // Each pruned 32² model is built once for the pruning and the run tests (8M weights for DenseNet-121).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<ZooModel>> Pruned32 = new();

    private static ZooModel PrunedSmall(string name) =>
        Pruned32.GetOrAdd(name, n => new Lazy<ZooModel>(() => ZooBuilder.Build(n, new ZooOptions(Seed: 9, Sparsity: Sparsity, ImageSize: 32)))).Value;

    // Published counts (torchvision): densenet121 7,978,856; mobilenet_v2 3,504,872; googlenet 6,624,904
    // (the pretrained model without its auxiliary heads). GFLOPs are 2 per conv/Gemm multiply-accumulate:
    // torchvision lists 2.83, 0.30 and 1.50 G multiply-accumulates ("GFLOPS") respectively.
    [Theory]
    [InlineData("densenet121", 7_978_856L, 121, 5_668_000_000L)]
    [InlineData("mobilenetv2", 3_504_872L, 53, 602_000_000L)]
    [InlineData("googlenet", 6_624_904L, 58, 2_997_000_000L)]
    public void ParameterCountsMatchPublished(string name, long parameters, int convGemmLayers, long flopsRounded)
    {
        var m = ShapeOnly(name);
        Assert.Equal(parameters, m.ParameterCount);
        Assert.Equal(convGemmLayers, m.Layers.Count);
        Assert.InRange(m.Flops, flopsRounded - 1_000_000, flopsRounded + 1_000_000);
        // Initializer elements = parameters + BN running statistics + the two ReLU6 bounds (MobileNetV2).
        long NotTrainable(TensorProto t) =>
            t.Name.EndsWith(".running_mean") || t.Name.EndsWith(".running_var") || t.Name.StartsWith("relu6.") ? t.GetElementCount() : 0;
        var init = m.Model.Graph.Initializer;
        Assert.Equal(parameters, init.Sum(t => t.GetElementCount()) - init.Sum(NotTrainable));
    }

    [Theory]
    // name, Conv, BatchNormalization, Relu, Clip, Add, Concat, MaxPool, AveragePool
    [InlineData("densenet121", 120, 121, 121, 0, 0, 58, 1, 3)]
    [InlineData("mobilenetv2", 52, 52, 0, 35, 10, 0, 0, 0)]
    [InlineData("googlenet", 57, 57, 57, 0, 0, 9, 13, 0)]
    public void OpCountsFollowTheArchitecture(string name, int conv, int bn, int relu, int clip, int add, int concat, int maxPool, int avgPool)
    {
        var nodes = ShapeOnly(name).Model.Graph.Node;
        int Count(string op) => nodes.Count(n => n.OpType == op);
        Assert.Equal(
            new[] { conv, bn, relu, clip, add, concat, maxPool, avgPool, 1, 1, 1 },
            new[] { Count("Conv"), Count("BatchNormalization"), Count("Relu"), Count("Clip"), Count("Add"), Count("Concat"),
             Count("MaxPool"), Count("AveragePool"), Count("GlobalAveragePool"), Count("Flatten"), Count("Gemm") });
        Assert.Equal(nodes.Count, nodes.Select(n => n.Name).Distinct().Count());
    }

    [Theory]
    [InlineData("densenet121", 224)]
    [InlineData("mobilenetv2", 224)]
    [InlineData("googlenet", 224)]
    [InlineData("densenet121", 32)]
    [InlineData("mobilenetv2", 48)]
    [InlineData("googlenet", 40)]
    public void RoundTripsWithInputAndOutputShapes(string name, int size)
    {
        var m = ShapeOnly(name, size);
        var parsed = OnnxModel.Parse(m.Model.ToBytes());
        Assert.True(parsed.Proto.ContentEquals(m.Model.Proto));
        Assert.Equal(13, Assert.Single(parsed.Proto.OpsetImport).Version);
        Assert.Equal($"[N, 3, {size}, {size}]", Assert.Single(parsed.Graph.Input).Type!.TensorType!.Shape!.ToString());
        Assert.Equal("[N, 1000]", Assert.Single(parsed.Graph.Output).Type!.TensorType!.Shape!.ToString());
        var known = new HashSet<string>(parsed.Graph.Initializer.Select(t => t.Name)) { "input" };
        foreach (var node in parsed.Graph.Node)
        {
            Assert.All(node.Input, i => Assert.Contains(i, known));
            foreach (var o in node.Output) known.Add(o);
        }
    }

    [Fact]
    public void TorchvisionNamesShapesAndAttributes()
    {
        var dense = ShapeOnly("densenet121").Model.Graph;
        Assert.Equal([128L, 128 + 6 * 32, 1, 1], dense.FindInitializer("features.denseblock2.denselayer7.conv1.weight")!.Dims);
        Assert.Equal([32L, 128, 3, 3], dense.FindInitializer("features.denseblock3.denselayer24.conv2.weight")!.Dims);
        Assert.Equal([512L, 1024, 1, 1], dense.FindInitializer("features.transition3.conv.weight")!.Dims);
        Assert.Equal([1024L], dense.FindInitializer("features.norm5.running_var")!.Dims);
        Assert.Equal([1000L, 1024], dense.FindInitializer("classifier.weight")!.Dims);
        // A dense layer's BN reads the Concat of the block input and all earlier layers: nothing to fold into.
        var cat = dense.Node.Single(n => n.Name == "features.denseblock1.denselayer3.cat");
        Assert.Equal(new[] { "features.pool0", "features.denseblock1.denselayer1.conv2", "features.denseblock1.denselayer2.conv2" }, cat.Input.ToArray());
        Assert.Equal(1, cat.FindAttribute("axis")!.I);
        Assert.Equal("features.denseblock1.denselayer3.cat", dense.Node.Single(n => n.Name == "features.denseblock1.denselayer3.norm1").Input[0]);
        Assert.Equal(17, dense.Node.Single(n => n.Name == "features.denseblock4.cat").Input.Count);

        var v2 = ShapeOnly("mobilenetv2").Model.Graph;
        var dw = v2.Node.Single(n => n.Name == "features.2.conv.1.0");
        Assert.Equal(96, dw.FindAttribute("group")!.I);
        Assert.Equal([2L, 2], dw.FindAttribute("strides")!.Ints);
        Assert.Equal([96L, 1, 3, 3], v2.FindInitializer("features.2.conv.1.0.weight")!.Dims);
        Assert.Equal([1280L, 320, 1, 1], v2.FindInitializer("features.18.0.weight")!.Dims);
        Assert.Equal([1000L, 1280], v2.FindInitializer("classifier.1.weight")!.Dims);
        var clip = v2.Node.First(n => n.OpType == "Clip");
        Assert.Equal(new[] { "relu6.min", "relu6.max" }, clip.Input.Skip(1).ToArray());
        Assert.Contains(v2.Node, n => n.Name == "features.3.add");
        Assert.DoesNotContain(v2.Node, n => n.Name == "features.4.add"); // stride 2

        var g = ShapeOnly("googlenet").Model.Graph;
        Assert.Equal([208L, 96, 3, 3], g.FindInitializer("inception4a.branch2.1.conv.weight")!.Dims);
        Assert.Equal([48L, 16, 3, 3], g.FindInitializer("inception4a.branch3.1.conv.weight")!.Dims); // torchvision's 3x3
        Assert.Equal(1e-3f, g.Node.Single(n => n.Name == "conv1.bn").FindAttribute("epsilon")!.F);
        Assert.Equal(1, g.Node.Single(n => n.Name == "maxpool1").FindAttribute("ceil_mode")!.I);
        Assert.Equal(4, g.Node.Single(n => n.Name == "inception5b.cat").Input.Count);
        Assert.Equal([1000L, 1024], g.FindInitializer("fc.weight")!.Dims);
    }

    [Theory]
    [InlineData("densenet121")]
    [InlineData("mobilenetv2")]
    [InlineData("googlenet")]
    public void PruningHitsTheSparsityInEveryLayerButTheFirst(string name)
    {
        var m = PrunedSmall(name);
        for (int i = 0; i < m.Layers.Count; i++)
        {
            var w = m.Model.ReadFloats(m.Model.Graph.FindInitializer(m.Layers[i].WeightName)!);
            Assert.Equal(i == 0 ? 0 : (int)Math.Round(Sparsity * w.Length), w.Count(v => v == 0f));
        }
        Assert.InRange(m.WeightSparsity, 0.89, 0.9);
    }

    [Fact]
    public void ImageSizeIsCheckedPerModel()
    {
        var small = Assert.Throws<ArgumentException>(() => ZooBuilder.Build("densenet121", new ZooOptions(WithWeights: false, ImageSize: 16)));
        Assert.Contains("at least 32", small.Message);
        var fixedSize = Assert.Throws<ArgumentException>(() => ZooBuilder.Build("vgg16", new ZooOptions(WithWeights: false, ImageSize: 64)));
        Assert.Contains("224² only", fixedSize.Message);
        Assert.Equal(224, ZooBuilder.Find("googlenet").ImageSize);
    }

    /// <summary>
    /// Pruned to 0.9 at 32² (every spatial stage still present, the last at 1x1): Lacuna's sparse plan, its dense
    /// plan and ONNX Runtime agree within 1e-3 of the largest logit, at batch 2 so per-image offsets are exercised.
    /// </summary>
    [Theory]
    [InlineData("densenet121", 1)]
    [InlineData("mobilenetv2", 2)]
    [InlineData("googlenet", 1)]
    public void SmallResolutionRunsLikeOnnxRuntimeDenseAndSparse(string name, int threads)
    {
        Assert.True(OnnxRuntime.IsAvailable, $"{OnnxRuntime.InstallHint}. Tried: {string.Join(", ", OnnxRuntime.Candidates())}");
        var zoo = PrunedSmall(name);
        const int batch = 2;
        using var x = Tensor.Random(31, new[] { batch, 3, 32, 32 });
        using var ort = OnnxRuntimeSession.Create(zoo.Model.ToBytes(), threads);
        var (expected, shape) = ort.Run(x.Span, new long[] { batch, 3, 32, 32 });
        Assert.Equal(new long[] { batch, 1000 }, shape);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0);

        var graph = OnnxGraphImporter.ToGraph(zoo.Model);
        foreach (var options in new[] { new PassOptions(), PassOptions.Dense })
        {
            var session = InferenceSession.Create(graph, options);
            var y = session.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"];
            Assert.Equal(new[] { batch, 1000 }, y.Shape.Dims.ToArray());
            var actual = y.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-3f * scale,
                    $"{name} {(options.SparseKernels ? "sparse" : "dense")} plan, logit {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]} (scale {scale})");
        }
    }
}
