namespace Lacuna.Onnx.Zoo;

internal static partial class ZooArchitectures
{
    /// <summary>(kernel, channels) of Jasper's five block kinds (Li et al. 2019, table 1), here at half width.</summary>
    private static readonly (int Kernel, int Channels)[] JasperMiniBlocks = [(11, 128), (13, 160), (17, 192), (21, 224), (25, 256)];

    /// <summary>Sub-blocks per block in jasper-mini (Jasper 10x5 has 5).</summary>
    private const int JasperMiniRepeats = 2;

    /// <summary>
    /// jasper-mini: Jasper's architecture (Li et al. 2019, "Jasper: An End-to-End Convolutional Neural Acoustic Model")
    /// at 5 blocks × 2 sub-blocks and half width. Input <c>input</c> [N, 64 mel features, frames]; prologue conv 11/2 →
    /// 128; each block: sub-blocks of 1-D conv (no bias) - BN - ReLU, the last one's BN summed with the block input
    /// through a 1x1 conv - BN before its ReLU (the residual); epilogue conv 29 dilation 2 → 384, 1x1 → 512, 1x1 → 29
    /// characters with bias. Output [N, 29, frames/2] logits per frame. Dropout is an identity at inference and omitted.
    /// </summary>
    public static string JasperMini(OnnxGraphBuilder b, int frames)
    {
        string x = b.Input1d("input", 64, frames);
        x = b.Relu(b.BatchNorm(b.Conv1d(x, "prologue.conv", 128, 11, stride: 2, pad: 5), "prologue.bn"));
        for (int i = 0; i < JasperMiniBlocks.Length; i++)
        {
            var (k, c) = JasperMiniBlocks[i];
            string p = $"block{i + 1}", input = x;
            for (int r = 0; r < JasperMiniRepeats; r++)
            {
                x = b.BatchNorm(b.Conv1d(x, $"{p}.{r}.conv", c, k, pad: k / 2), $"{p}.{r}.bn");
                if (r < JasperMiniRepeats - 1) x = b.Relu(x);
            }
            string residual = b.BatchNorm(b.Conv1d(input, $"{p}.residual.conv", c, 1), $"{p}.residual.bn");
            x = b.Relu(b.Add(x, residual, $"{p}.add"));
        }
        x = b.Relu(b.BatchNorm(b.Conv1d(x, "epilogue.0.conv", 384, 29, pad: 28, dilation: 2), "epilogue.0.bn"));
        x = b.Relu(b.BatchNorm(b.Conv1d(x, "epilogue.1.conv", 512, 1), "epilogue.1.bn"));
        return b.Conv1d(x, "epilogue.2.conv", 29, 1, bias: true);
    }
}
