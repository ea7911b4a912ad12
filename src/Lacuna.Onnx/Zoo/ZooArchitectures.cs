namespace Lacuna.Onnx.Zoo;

/// <summary>
/// A torchvision-layout ResNet: stem conv 7x7/2 + BN + ReLU + MaxPool 3x3/2, four stages of widths
/// w·{1, 2, 4, 8}, stride 2 at the start of stages 2-4, GlobalAveragePool, Flatten, Gemm.
/// Bottleneck blocks are 1x1 → 3x3 → 1x1 (expansion 4) with the stride on the 3x3 (ResNet v1.5);
/// basic blocks are 3x3 → 3x3. A block whose input and output shapes differ gets a projection shortcut
/// (1x1 conv with the block's stride + BN), named <c>layer{g}.{i}.downsample.{0,1}</c> as in torchvision.
/// </summary>
public sealed record ResNetSpec(bool Bottleneck, int[] Blocks, int Width = 64, int Classes = 1000, int ImageSize = 224)
{
    public const int Expansion = 4;

    /// <summary>Output channels of stage <paramref name="stage"/> (0-based).</summary>
    public int StageOutChannels(int stage) => (Width << stage) * (Bottleneck ? Expansion : 1);
}

/// <summary>The architectures of the zoo, each a few lines over <see cref="OnnxGraphBuilder"/>.</summary>
internal static partial class ZooArchitectures
{
    public static string ResNet(OnnxGraphBuilder b, ResNetSpec spec)
    {
        string x = b.Input("input", 3, spec.ImageSize, spec.ImageSize);
        x = b.Relu(b.BatchNorm(b.Conv(x, "conv1", spec.Width, 7, 2, 3), "bn1"));
        x = b.MaxPool(x, "maxpool", 3, 2, 1);
        for (int stage = 0; stage < 4; stage++)
        {
            int width = spec.Width << stage;
            for (int i = 0; i < spec.Blocks[stage]; i++)
            {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                string prefix = $"layer{stage + 1}.{i}";
                x = spec.Bottleneck ? BottleneckBlock(b, x, prefix, width, stride) : BasicBlock(b, x, prefix, width, stride);
            }
        }
        x = b.Flatten(b.GlobalAveragePool(x, "avgpool"), "flatten");
        return b.Gemm(x, "fc", spec.Classes);
    }

    private static string BottleneckBlock(OnnxGraphBuilder b, string x, string p, int width, int stride)
    {
        int outChannels = width * ResNetSpec.Expansion;
        string y = b.Relu(b.BatchNorm(b.Conv(x, $"{p}.conv1", width, 1, 1, 0), $"{p}.bn1"));
        y = b.Relu(b.BatchNorm(b.Conv(y, $"{p}.conv2", width, 3, stride, 1), $"{p}.bn2"));
        y = b.BatchNorm(b.Conv(y, $"{p}.conv3", outChannels, 1, 1, 0), $"{p}.bn3");
        return b.Relu(b.Add(y, Shortcut(b, x, p, outChannels, stride), $"{p}.add"));
    }

    private static string BasicBlock(OnnxGraphBuilder b, string x, string p, int width, int stride)
    {
        string y = b.Relu(b.BatchNorm(b.Conv(x, $"{p}.conv1", width, 3, stride, 1), $"{p}.bn1"));
        y = b.BatchNorm(b.Conv(y, $"{p}.conv2", width, 3, 1, 1), $"{p}.bn2");
        return b.Relu(b.Add(y, Shortcut(b, x, p, width, stride), $"{p}.add"));
    }

    private static string Shortcut(OnnxGraphBuilder b, string x, string p, int outChannels, int stride) =>
        stride == 1 && b.ShapeOf(x)[0] == outChannels
            ? x
            : b.BatchNorm(b.Conv(x, $"{p}.downsample.0", outChannels, 1, stride, 0), $"{p}.downsample.1");

    /// <summary>
    /// VGG-16 (configuration D, torchvision <c>vgg16</c>, no BN): 13 conv 3x3/1 pad 1 with bias + ReLU in
    /// blocks of 2, 2, 3, 3, 3 each closed by MaxPool 2x2/2; classifier 25088 → 4096 → 4096 → 1000
    /// (ReLU between; dropout is the identity at inference; the adaptive 7x7 pool is the identity at 224²).
    /// Names follow torchvision's <c>features.{i}</c> / <c>classifier.{i}</c> indices.
    /// </summary>
    public static string Vgg16(OnnxGraphBuilder b)
    {
        int[][] blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
        string x = b.Input("input", 3, 224, 224);
        int index = 0;
        foreach (var block in blocks)
        {
            foreach (int channels in block)
            {
                x = b.Relu(b.Conv(x, $"features.{index}", channels, 3, 1, 1, bias: true), $"features.{index + 1}");
                index += 2;
            }
            x = b.MaxPool(x, $"features.{index++}", 2, 2, 0);
        }
        x = b.Flatten(x, "flatten");
        x = b.Relu(b.Gemm(x, "classifier.0", 4096), "classifier.1");
        x = b.Relu(b.Gemm(x, "classifier.3", 4096), "classifier.4");
        return b.Gemm(x, "classifier.6", 1000);
    }

    /// <summary>
    /// MobileNetV1, width 1.0 (Howard et al. 2017, table 1): conv 3x3/2 → 32, then 13 depthwise-separable
    /// blocks (depthwise 3x3 with group = C, BN, ReLU; pointwise 1x1, BN, ReLU), GlobalAveragePool,
    /// Gemm 1024 → 1000. The last depthwise conv has stride 1 (as in the reference implementations;
    /// the table's "s2" there would give a 4x4 map). No torchvision model exists; names are
    /// <c>stem.{conv,bn}</c> and <c>blocks.{i}.{dw,pw}.{conv,bn}</c>.
    /// </summary>
    public static string MobileNetV1(OnnxGraphBuilder b)
    {
        (int Out, int Stride)[] blocks =
        [
            (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
        ];
        string x = b.Input("input", 3, 224, 224);
        x = b.Relu(b.BatchNorm(b.Conv(x, "stem.conv", 32, 3, 2, 1), "stem.bn"));
        for (int i = 0; i < blocks.Length; i++)
        {
            int c = b.ShapeOf(x)[0];
            x = b.Relu(b.BatchNorm(b.Conv(x, $"blocks.{i}.dw.conv", c, 3, blocks[i].Stride, 1, group: c), $"blocks.{i}.dw.bn"));
            x = b.Relu(b.BatchNorm(b.Conv(x, $"blocks.{i}.pw.conv", blocks[i].Out, 1, 1, 0), $"blocks.{i}.pw.bn"));
        }
        x = b.Flatten(b.GlobalAveragePool(x, "avgpool"), "flatten");
        return b.Gemm(x, "fc", 1000);
    }
}
