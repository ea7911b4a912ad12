namespace Lacuna.Onnx.Zoo;

internal static partial class ZooArchitectures
{
    /// <summary>
    /// GoogLeNet / Inception v1 as torchvision builds it (<c>googlenet</c>, without the auxiliary heads, which
    /// inference drops): every conv is conv (no bias) + BN (ε = 0.001) + ReLU; stem conv 7x7/2 → 64, MaxPool 3x3/2,
    /// conv 1x1 → 64, conv 3x3 → 192, MaxPool 3x3/2, inception 3a-3b, MaxPool 3x3/2, 4a-4e, MaxPool 2x2/2, 5a-5b,
    /// GlobalAveragePool, Gemm 1024 → 1000; all max pools in ceil mode. An inception module concatenates four
    /// branches: 1x1; 1x1 → 3x3; 1x1 → 3x3 (torchvision's kernel where the paper has 5x5); MaxPool 3x3/1 → 1x1.
    /// Names follow torchvision (<c>inception4c.branch2.1.conv</c>). Any input of at least 32² works.
    /// </summary>
    public static string GoogLeNet(OnnxGraphBuilder b, int imageSize)
    {
        string x = b.Input("input", 3, imageSize, imageSize);
        x = BasicConv(b, x, "conv1", 64, 7, 2, 3);
        x = b.MaxPool(x, "maxpool1", 3, 2, 0, ceilMode: true);
        x = BasicConv(b, x, "conv2", 64, 1, 1, 0);
        x = BasicConv(b, x, "conv3", 192, 3, 1, 1);
        x = b.MaxPool(x, "maxpool2", 3, 2, 0, ceilMode: true);
        x = Inception(b, x, "inception3a", 64, 96, 128, 16, 32, 32);
        x = Inception(b, x, "inception3b", 128, 128, 192, 32, 96, 64);
        x = b.MaxPool(x, "maxpool3", 3, 2, 0, ceilMode: true);
        x = Inception(b, x, "inception4a", 192, 96, 208, 16, 48, 64);
        x = Inception(b, x, "inception4b", 160, 112, 224, 24, 64, 64);
        x = Inception(b, x, "inception4c", 128, 128, 256, 24, 64, 64);
        x = Inception(b, x, "inception4d", 112, 144, 288, 32, 64, 64);
        x = Inception(b, x, "inception4e", 256, 160, 320, 32, 128, 128);
        x = b.MaxPool(x, "maxpool4", 2, 2, 0, ceilMode: true);
        x = Inception(b, x, "inception5a", 256, 160, 320, 32, 128, 128);
        x = Inception(b, x, "inception5b", 384, 192, 384, 48, 128, 128);
        x = b.Flatten(b.GlobalAveragePool(x, "avgpool"), "flatten");
        return b.Gemm(x, "fc", 1000);
    }

    private static string Inception(OnnxGraphBuilder b, string x, string p,
        int ch1x1, int ch3x3Reduce, int ch3x3, int ch5x5Reduce, int ch5x5, int poolProjection)
    {
        string branch1 = BasicConv(b, x, $"{p}.branch1", ch1x1, 1, 1, 0);
        string branch2 = BasicConv(b, BasicConv(b, x, $"{p}.branch2.0", ch3x3Reduce, 1, 1, 0), $"{p}.branch2.1", ch3x3, 3, 1, 1);
        string branch3 = BasicConv(b, BasicConv(b, x, $"{p}.branch3.0", ch5x5Reduce, 1, 1, 0), $"{p}.branch3.1", ch5x5, 3, 1, 1);
        string pooled = b.MaxPool(x, $"{p}.branch4.0", 3, 1, 1, ceilMode: true);
        string branch4 = BasicConv(b, pooled, $"{p}.branch4.1", poolProjection, 1, 1, 0);
        return b.Concat([branch1, branch2, branch3, branch4], $"{p}.cat");
    }

    /// <summary>torchvision's BasicConv2d: conv (no bias) named <c>{p}.conv</c>, BN (ε = 0.001) <c>{p}.bn</c>, ReLU.</summary>
    private static string BasicConv(OnnxGraphBuilder b, string x, string p, int outChannels, int kernel, int stride, int pad) =>
        b.Relu(b.BatchNorm(b.Conv(x, $"{p}.conv", outChannels, kernel, stride, pad), $"{p}.bn", epsilon: 1e-3f), $"{p}.relu");
}
