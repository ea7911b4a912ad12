using Lacuna.Pruning;

namespace Lacuna.Onnx.Zoo;

/// <summary>How a zoo model is built.</summary>
/// <param name="Seed">Seed of the weight stream (He-normal conv/Gemm, BN statistics, biases).</param>
/// <param name="Sparsity">Magnitude-prune every conv and Gemm weight to this fraction of zeros (0 = dense).</param>
/// <param name="PruneFirstConv">Also prune the first conv (usually left dense: 3 input channels, little compute saved).</param>
/// <param name="DlmcDirectory">A DLMC folder of one method and sparsity (ResNet-50 family only) whose patterns replace the weights.</param>
/// <param name="WithWeights">False builds a shape-only model: initializers have dims but no data.</param>
/// <param name="ImageSize">Input height and width for models built at any resolution (<see cref="ZooBuilder.Entry.MinImageSize"/>); null: the model's own.</param>
/// <param name="Pattern">
/// The sparsity pattern each pruned layer's W [M × C/g·kh·kw] (OIHW flattened; Gemm [out × in]) is pruned to, by
/// magnitude within the pattern (<see cref="SparsityPattern.Prune"/>); null: unstructured. A pattern that fixes its
/// own sparsity (N:M, a series) prunes with <see cref="Sparsity"/> 0, and rejects any other.
/// </param>
/// <param name="SequenceLength">Transformers: the exported sequence length; null: the symbol <c>seq</c>.</param>
public sealed record ZooOptions(
    ulong Seed = 1,
    double Sparsity = 0,
    bool PruneFirstConv = false,
    string? DlmcDirectory = null,
    bool WithWeights = true,
    int? ImageSize = null,
    SparsityPattern? Pattern = null,
    int? SequenceLength = null);

/// <summary>
/// The model zoo: standard CNNs as ONNX (opset 13) with seeded weights, input <c>input</c> [N, 3, H, W]
/// with symbolic batch N and output <c>logits</c> [N, classes].
/// <code>
/// var m = ZooBuilder.Build("resnet50", new ZooOptions(Seed: 7, Sparsity: 0.9));
/// m.Model.Save("rn50-s90.onnx");
/// </code>
/// </summary>
public static class ZooBuilder
{
    /// <summary>
    /// A zoo entry: name, one-line description and its builder, which takes the input resolution. A model with a
    /// <see cref="MinImageSize"/> is built at any resolution from it up (global pooling before the classifier;
    /// tests use small ones); without, only at <see cref="ImageSize"/>.
    /// </summary>
    public sealed record Entry(string Name, string Description, ResNetSpec? ResNet, Func<OnnxGraphBuilder, int, string> Build,
        int ImageSize = 224, int? MinImageSize = null, TransformerSpec? Transformer = null, GnmtSpec? Gnmt = null);

    public static readonly ResNetSpec ResNet50Spec = new(Bottleneck: true, Blocks: [3, 4, 6, 3]);
    public static readonly ResNetSpec ResNet18Spec = new(Bottleneck: false, Blocks: [2, 2, 2, 2]);

    /// <summary>A bottleneck ResNet small enough for tests: width 8, blocks [1, 2, 1, 1], 32² input, 10 classes.</summary>
    public static readonly ResNetSpec ResNetMiniSpec = new(Bottleneck: true, Blocks: [1, 2, 1, 1], Width: 8, Classes: 10, ImageSize: 32);

    public static IReadOnlyList<Entry> Entries { get; } =
    [
        Res("resnet50", "ResNet-50 v1.5 (torchvision layout), 224²", ResNet50Spec),
        Res("resnet18", "ResNet-18 (torchvision layout), 224²", ResNet18Spec),
        new("vgg16", "VGG-16 (configuration D, no BN), 224²", null, (b, _) => ZooArchitectures.Vgg16(b)),
        new("mobilenetv1", "MobileNetV1 width 1.0, 224²", null, (b, _) => ZooArchitectures.MobileNetV1(b)),
        new("mobilenetv2", "MobileNetV2 width 1.0 (torchvision layout, ReLU6 as Clip), 224²", null, ZooArchitectures.MobileNetV2, MinImageSize: 32),
        new("densenet121", "DenseNet-121 (torchvision layout, Concat + pre-activation BN), 224²", null, ZooArchitectures.DenseNet121, MinImageSize: 32),
        new("googlenet", "GoogLeNet / Inception v1 (torchvision layout with BN, no aux heads), 224²", null, ZooArchitectures.GoogLeNet, MinImageSize: 32),
        new("jasper-mini", "Jasper 5x2 at half width (1-D conv + BN + ReLU blocks with residuals), 64 mel features x frames (image size = frames, 256)",
            null, ZooArchitectures.JasperMini, ImageSize: 256, MinImageSize: 16),
        Res("resnet-mini", "bottleneck ResNet, width 8, blocks [1,2,1,1], 32², 10 classes (tests)", ResNetMiniSpec),
        Tf("bert-base", "BERT-base encoder + pooler: 12 layers, 768, FFN 3072, 12 heads, vocab 30522 (int64 ids, mask)", TransformerSpec.BertBase),
        Tf("transformer-base", "Transformer-base encoder: 6 layers, 512, FFN 2048, 8 heads, ReLU, post-LN (int64 ids)", TransformerSpec.TransformerBase),
        Tf("bert-tiny", "BERT layout, 2 layers, hidden 32, 2 heads, FFN 64, vocab 1000 (tests)", TransformerSpec.BertTiny),
        new("gnmt-encoder", "GNMT encoder: embedding + bidirectional LSTM + 3 LSTMs of 1024 with residuals, vocab 32320 (int64 ids)", null,
            (_, _) => throw new InvalidOperationException("built by GnmtGraphBuilder."), ImageSize: 0, Gnmt: GnmtSpec.Encoder),
        new("gnmt-tiny", "GNMT encoder layout at hidden 32, vocab 100 (tests)", null,
            (_, _) => throw new InvalidOperationException("built by GnmtGraphBuilder."), ImageSize: 0, Gnmt: GnmtSpec.Tiny),
        Tf("transformer-tiny", "Transformer-base layout, 2 layers, 32, 4 heads, FFN 64, vocab 1000 (tests)", TransformerSpec.TransformerTiny),
    ];

    public static IEnumerable<string> Names => Entries.Select(e => e.Name);

    public static Entry Find(string name) =>
        Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown zoo model '{name}'; known: {string.Join(", ", Names)}.", nameof(name));

    public static ZooModel Build(string name, ulong seed = 1, double sparsity = 0) =>
        Build(name, new ZooOptions(Seed: seed, Sparsity: sparsity));

    public static ZooModel Build(string name, ZooOptions options)
    {
        if (name is null) ThrowHelper.ArgumentNull(nameof(name));
        if (options is null) ThrowHelper.ArgumentNull(nameof(options));
        var entry = Find(name);
        if (entry.Transformer is not null) return BuildTransformer(entry, entry.Transformer, options);
        if (entry.Gnmt is not null) return BuildGnmt(entry, entry.Gnmt, options);
        if (options.SequenceLength is not null)
            throw new ArgumentException($"'{entry.Name}' is not a sequence model; a sequence length applies to transformers only.", nameof(options));
        var (pattern, prune) = Pruning(options);
        if (options.DlmcDirectory is not null && entry.ResNet is not { Bottleneck: true })
            throw new ArgumentException($"DLMC matrices map onto bottleneck ResNets only, not '{entry.Name}'.", nameof(options));
        int imageSize = options.ImageSize ?? entry.ImageSize;
        if (imageSize != entry.ImageSize && entry.MinImageSize is null)
            throw new ArgumentException($"'{entry.Name}' is built at {entry.ImageSize}² only (got image size {imageSize}).", nameof(options));
        if (imageSize < entry.MinImageSize)
            throw new ArgumentException($"'{entry.Name}' needs an image size of at least {entry.MinImageSize} (got {imageSize}).", nameof(options));

        var b = new OnnxGraphBuilder(entry.Name, options.Seed, options.WithWeights);
        string last = entry.Build(b, imageSize);
        DlmcCoverage? coverage = null;
        if (prune)
        {
            // Every layer's weight as the matrix the planner multiplies: W [M × C/g·kh·kw], or [out × in] for Gemm.
            for (int i = 0; i < b.Layers.Count; i++)
                if (i > 0 || options.PruneFirstConv)
                {
                    var weights = b.Layers[i].Weights!;
                    int rows = (int)b.Layers[i].Dims[0];
                    pattern.Prune(weights, rows, weights.Length / rows, options.Sparsity);
                }
        }
        if (options.DlmcDirectory is not null)
            coverage = DlmcResNetMapping.Apply(b.Layers, entry.ResNet!, options.DlmcDirectory, options.Seed);
        foreach (var layer in b.Layers)
            layer.Sparsity = layer.Weights is null ? 0 : (double)layer.Weights.AsSpan().Count(0f) / layer.Weights.Length;
        var model = b.Finish(last, "logits", entry.Name);
        model.Dlmc = coverage;
        model.Pattern = prune ? pattern.Name : null;
        return model;
    }

    /// <summary>
    /// A transformer encoder (<see cref="TransformerGraphBuilder"/>): every linear layer magnitude-pruned with
    /// <see cref="ZooOptions.Sparsity"/>, or given DLMC's patterns (Transformer-base encoders only).
    /// </summary>
    private static ZooModel BuildTransformer(Entry entry, TransformerSpec spec, ZooOptions options)
    {
        if (options.ImageSize is not null)
            throw new ArgumentException($"'{entry.Name}' is a sequence model; give a sequence length, not an image size.", nameof(options));
        var (pattern, prune) = Pruning(options);
        if (options.SequenceLength is int seq && (seq < 1 || seq > spec.MaxPositions))
            throw new ArgumentException($"'{entry.Name}' takes sequence lengths 1..{spec.MaxPositions} (got {seq}).", nameof(options));
        if (options.DlmcDirectory is not null && spec.Family != TransformerFamily.Encoder)
            throw new ArgumentException($"DLMC transformer matrices map onto the Transformer-base encoder, not '{entry.Name}'.", nameof(options));
        var b = new TransformerGraphBuilder(entry.Name, spec, options.Seed, options.SequenceLength, options.WithWeights);
        b.Build();
        DlmcCoverage? coverage = null;
        if (prune)
            foreach (var layer in b.Layers)
            {
                // Each linear layer's weight as the planner multiplies it: W [out × in], K = in.
                int rows = (int)layer.Dims[0];
                pattern.Prune(layer.Weights!, rows, layer.Weights!.Length / rows, options.Sparsity);
            }
        if (options.DlmcDirectory is not null)
            coverage = DlmcTransformerMapping.Apply(b.Layers, spec, options.DlmcDirectory, options.Seed);
        foreach (var layer in b.Layers)
            layer.Sparsity = layer.Weights is null ? 0 : (double)layer.Weights.AsSpan().Count(0f) / layer.Weights.Length;
        var model = b.Finish(entry.Name);
        model.Dlmc = coverage;
        model.Pattern = prune ? pattern.Name : null;
        return model;
    }

    /// <summary>The GNMT encoder (<see cref="GnmtGraphBuilder"/>): every LSTM weight pruned by sparsity and pattern.</summary>
    private static ZooModel BuildGnmt(Entry entry, GnmtSpec spec, ZooOptions options)
    {
        if (options.DlmcDirectory is not null) throw new ArgumentException($"'{entry.Name}' has no DLMC mapping.", nameof(options));
        if (options.ImageSize is not null)
            throw new ArgumentException($"'{entry.Name}' is a sequence model; give a sequence length, not an image size.", nameof(options));
        if (options.SequenceLength is int seq && (seq < 1 || seq > spec.MaxLength))
            throw new ArgumentOutOfRangeException(nameof(options), seq, $"'{entry.Name}' takes sequence lengths 1..{spec.MaxLength}.");
        var (pattern, prune) = Pruning(options);
        var b = new GnmtGraphBuilder(entry.Name, spec, options.Seed, options.SequenceLength, options.WithWeights);
        b.Build();
        if (prune)
            foreach (var layer in b.Layers)
                pattern.Prune(layer.Weights!, (int)layer.Dims[0], (int)layer.Dims[1], options.Sparsity);
        foreach (var layer in b.Layers)
            layer.Sparsity = layer.Weights is null ? 0 : (double)layer.Weights.AsSpan().Count(0f) / layer.Weights.Length;
        var model = b.Finish(entry.Name);
        model.Pattern = prune ? pattern.Name : null;
        return model;
    }

    /// <summary>
    /// The checks every family shares: sparsity in [0, 1), exclusive with a DLMC folder and with a pattern that fixes its
    /// own; a DLMC folder takes no pattern; pruning needs weights. Returns the pattern (unstructured when none) and whether
    /// the weights are pruned at all.
    /// </summary>
    private static (SparsityPattern Pattern, bool Prune) Pruning(ZooOptions options)
    {
        if (!(options.Sparsity >= 0 && options.Sparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Sparsity, "sparsity must be in [0, 1).");
        if (options.Sparsity > 0 && options.DlmcDirectory is not null)
            throw new ArgumentException("sparsity and a DLMC folder are exclusive: the folder fixes the sparsity.", nameof(options));
        var pattern = options.Pattern ?? UnstructuredPattern.Instance;
        bool prune = options.Sparsity > 0 || !pattern.SparsityIsFree;
        if (!pattern.SparsityIsFree && options.Sparsity > 0)
            throw new ArgumentException($"pattern {pattern} fixes its own sparsity ({pattern.ResultingSparsity(options.Sparsity):P1}); give no sparsity.", nameof(options));
        if (pattern is not UnstructuredPattern && options.DlmcDirectory is not null)
            throw new ArgumentException($"a DLMC folder fixes the pruned topology; it cannot be combined with pattern {pattern}.", nameof(options));
        if (!options.WithWeights && (prune || options.DlmcDirectory is not null))
            throw new ArgumentException("pruning and DLMC mapping need weights (WithWeights = true).", nameof(options));
        return (pattern, prune);
    }

    private static Entry Tf(string name, string description, TransformerSpec spec) =>
        new(name, description, null, (_, _) => throw new InvalidOperationException($"'{name}' is built by {nameof(TransformerGraphBuilder)}."),
            ImageSize: 0, Transformer: spec);

    private static Entry Res(string name, string description, ResNetSpec spec) =>
        new(name, description, spec, (b, _) => ZooArchitectures.ResNet(b, spec), spec.ImageSize);
}
