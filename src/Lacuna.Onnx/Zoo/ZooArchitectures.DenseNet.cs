namespace Lacuna.Onnx.Zoo;

internal static partial class ZooArchitectures
{
    /// <summary>
    /// DenseNet-121 (Huang et al. 2017; torchvision <c>densenet121</c>): conv 7x7/2 → 64 + BN + ReLU + MaxPool 3x3/2,
    /// dense blocks of 6, 12, 24, 16 layers with growth rate 32, transitions between them, a final BN + ReLU,
    /// GlobalAveragePool and Gemm → 1000. A dense layer is pre-activation: BN-ReLU-conv 1x1 (4·growth) -
    /// BN-ReLU-conv 3x3 (growth), reading the Concat of the block input and every earlier layer's output. So
    /// most BNs follow a Concat, not a conv, and cannot fold into a producer. The Concats are the ones
    /// torch.onnx.export writes for torchvision's <c>torch.cat(features, 1)</c>: one per layer over all
    /// features so far, and one closing each block. A transition is BN-ReLU-conv 1x1 halving the channels -
    /// AveragePool 2x2/2. Names follow torchvision (<c>features.denseblock2.denselayer7.conv2</c>).
    /// Any input of at least 32² works (the fourth block then runs at 1x1).
    /// </summary>
    public static string DenseNet121(OnnxGraphBuilder b, int imageSize)
    {
        const int growth = 32, bottleneck = 4 * growth;
        int[] blocks = [6, 12, 24, 16];
        string x = b.Input("input", 3, imageSize, imageSize);
        x = b.Relu(b.BatchNorm(b.Conv(x, "features.conv0", 2 * growth, 7, 2, 3), "features.norm0"), "features.relu0");
        x = b.MaxPool(x, "features.pool0", 3, 2, 1);
        for (int block = 1; block <= blocks.Length; block++)
        {
            string p = $"features.denseblock{block}";
            var features = new List<string> { x };
            for (int layer = 1; layer <= blocks[block - 1]; layer++)
            {
                string q = $"{p}.denselayer{layer}";
                string y = features.Count == 1 ? features[0] : b.Concat(features, $"{q}.cat");
                y = b.Conv(b.Relu(b.BatchNorm(y, $"{q}.norm1"), $"{q}.relu1"), $"{q}.conv1", bottleneck, 1, 1, 0);
                y = b.Conv(b.Relu(b.BatchNorm(y, $"{q}.norm2"), $"{q}.relu2"), $"{q}.conv2", growth, 3, 1, 1);
                features.Add(y);
            }
            x = b.Concat(features, $"{p}.cat");
            if (block == blocks.Length) break;
            string t = $"features.transition{block}";
            x = b.Conv(b.Relu(b.BatchNorm(x, $"{t}.norm"), $"{t}.relu"), $"{t}.conv", b.ShapeOf(x)[0] / 2, 1, 1, 0);
            x = b.AveragePool(x, $"{t}.pool", 2, 2);
        }
        x = b.Relu(b.BatchNorm(x, "features.norm5"), "features.relu5");
        x = b.Flatten(b.GlobalAveragePool(x, "avgpool"), "flatten");
        return b.Gemm(x, "classifier", 1000);
    }
}
