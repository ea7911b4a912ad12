namespace Lacuna.Kernels.ConvTranspose;

/// <summary>
/// Geometry of a 2-D transposed convolution (ONNX ConvTranspose): input [N, C, H, W], weight [C, M/groups, KH, KW],
/// output [N, M, OH, OW]. Input pixel (iy, ix) spreads its kernel onto output (iy·SH − PadTop + ky·DH, ix·SW − PadLeft +
/// kx·DW); OH = SH·(H − 1) + OutputPadH + DH·(KH − 1) + 1 − PadTop − PadBottom, likewise OW. The pads here are the final
/// ones: output_shape and auto_pad are resolved into them before (<see cref="Resolve"/>).
/// </summary>
public sealed record ConvTranspose2dParams(
    int KernelH, int KernelW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationH, int DilationW, int OutputPadH, int OutputPadW, int Groups)
{
    public int OutputHeight(int h) => StrideH * (h - 1) + OutputPadH + DilationH * (KernelH - 1) + 1 - PadTop - PadBottom;
    public int OutputWidth(int w) => StrideW * (w - 1) + OutputPadW + DilationW * (KernelW - 1) + 1 - PadLeft - PadRight;

    /// <summary>Checks input [N,C,H,W] and weight [C, M/g, KH, KW] against these parameters; returns [N, M, OH, OW].</summary>
    public int[] OutputShape(ReadOnlySpan<int> input, ReadOnlySpan<int> weight)
    {
        string shapes = $"input [{string.Join(", ", input.ToArray())}], weight [{string.Join(", ", weight.ToArray())}]";
        if (input.Length != 4 || weight.Length != 4) ThrowHelper.Shape("input", $"ConvTranspose needs rank-4 input and weight; got {shapes}.");
        if (KernelH < 1 || KernelW < 1 || StrideH < 1 || StrideW < 1 || DilationH < 1 || DilationW < 1 || Groups < 1)
            ThrowHelper.OutOfRange("kernel", this, "kernel, strides, dilations and groups must be at least 1.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0 || OutputPadH < 0 || OutputPadW < 0)
            ThrowHelper.OutOfRange("pads", this, "pads and output_padding must be non-negative.");
        if (input[1] != weight[0]) ThrowHelper.Shape("weight", $"ConvTranspose weight has {weight[0]} input channels but the input has {input[1]}; {shapes}.");
        if (input[1] % Groups != 0) ThrowHelper.Shape("weight", $"input channels {input[1]} are not divisible by groups={Groups}; {shapes}.");
        if (weight[2] != KernelH || weight[3] != KernelW) ThrowHelper.Shape("weight", $"weight kernel {weight[2]}x{weight[3]} does not match kernel_shape {KernelH}x{KernelW}; {shapes}.");
        int oh = OutputHeight(input[2]), ow = OutputWidth(input[3]);
        if (oh < 1 || ow < 1) ThrowHelper.Shape("pads", $"ConvTranspose output would be {oh}x{ow}; {shapes}.");
        return [input[0], weight[1] * Groups, oh, ow];
    }

    /// <summary>
    /// Pads from an explicit output_shape (or auto_pad SAME_*, whose output is input·stride): the total padding
    /// SH·(H − 1) + OutputPadH + DH·(KH − 1) + 1 − OH, split evenly with the odd element at the end (SAME_UPPER) or the
    /// beginning (otherwise), as the ONNX specification writes it. An output larger than the unpadded one (a negative
    /// total) is reached by more output padding at the end (rows that get only the bias), as ONNX Runtime does.
    /// </summary>
    public static (int Begin, int End, int OutputPad) Resolve(int input, int kernel, int stride, int dilation, int outputPad, int outputSize, bool sameUpper)
    {
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "ConvTranspose output_shape values must be positive.");
        int total = stride * (input - 1) + outputPad + dilation * (kernel - 1) + 1 - outputSize;
        if (total < 0) return (0, 0, outputPad - total);
        return sameUpper ? (total / 2, total - total / 2, outputPad) : (total - total / 2, total / 2, outputPad);
    }
}
