namespace Lacuna.Onnx.Zoo;

internal static partial class ZooArchitectures
{
    /// <summary>(expansion t, output channels c, repeats n, first stride s): Sandler et al. 2018, table 2.</summary>
    private static readonly (int T, int C, int N, int S)[] MobileNetV2Table =
    [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ];

    /// <summary>
    /// MobileNetV2, width 1.0 (torchvision <c>mobilenet_v2</c>): conv 3x3/2 → 32 + BN + ReLU6, 17 inverted
    /// residual blocks from the (t, c, n, s) table, conv 1x1 → 1280 + BN + ReLU6, GlobalAveragePool, Gemm → 1000.
    /// A block is expand 1x1 (t·C; absent when t = 1) - BN - ReLU6, depthwise 3x3 (group = channels) - BN - ReLU6,
    /// project 1x1 - BN (linear bottleneck), plus the block input when the stride is 1 and the channels match.
    /// ReLU6 is Clip(0, 6) as PyTorch exports it. Names follow torchvision (<c>features.5.conv.1.0</c> is block
    /// 5's depthwise conv). Any input of at least 32² works.
    /// </summary>
    public static string MobileNetV2(OnnxGraphBuilder b, int imageSize)
    {
        string x = b.Input("input", 3, imageSize, imageSize);
        x = b.Relu6(b.BatchNorm(b.Conv(x, "features.0.0", 32, 3, 2, 1), "features.0.1"), "features.0.2");
        int index = 1;
        foreach (var (t, c, n, s) in MobileNetV2Table)
            for (int i = 0; i < n; i++)
                x = InvertedResidual(b, x, $"features.{index++}", t, c, i == 0 ? s : 1);
        x = b.Relu6(b.BatchNorm(b.Conv(x, $"features.{index}.0", 1280, 1, 1, 0), $"features.{index}.1"), $"features.{index}.2");
        x = b.Flatten(b.GlobalAveragePool(x, "avgpool"), "flatten");
        return b.Gemm(x, "classifier.1", 1000);
    }

    private static string InvertedResidual(OnnxGraphBuilder b, string x, string p, int expansion, int outChannels, int stride)
    {
        int inChannels = b.ShapeOf(x)[0], hidden = inChannels * expansion;
        string y = x;
        int part = 0;
        if (expansion != 1)
        {
            string e = $"{p}.conv.{part++}";
            y = b.Relu6(b.BatchNorm(b.Conv(y, $"{e}.0", hidden, 1, 1, 0), $"{e}.1"), $"{e}.2");
        }
        string d = $"{p}.conv.{part++}";
        y = b.Relu6(b.BatchNorm(b.Conv(y, $"{d}.0", hidden, 3, stride, 1, group: hidden), $"{d}.1"), $"{d}.2");
        y = b.BatchNorm(b.Conv(y, $"{p}.conv.{part}", outChannels, 1, 1, 0), $"{p}.conv.{part + 1}");
        return stride == 1 && inChannels == outChannels ? b.Add(y, x, $"{p}.add") : y;
    }
}
