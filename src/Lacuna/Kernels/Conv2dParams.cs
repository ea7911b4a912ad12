namespace Lacuna.Kernels;

/// <summary>
/// Geometry of a 2-D convolution (ONNX Conv semantics): weight [M, C/groups, KH, KW], input
/// [N, C, H, W], output [N, M, OH, OW] with OH = (H + padTop + padBottom - dilationH·(KH-1) - 1) / strideH + 1.
/// Padding may be asymmetric. Shared by the reference, the fast kernels and the ONNX loader.
/// </summary>
public sealed record Conv2dParams(
    int KernelH, int KernelW,
    int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1,
    int Groups = 1)
{
    /// <summary>Square kernel, symmetric padding.</summary>
    public static Conv2dParams Square(int kernel, int stride = 1, int pad = 0, int dilation = 1, int groups = 1) =>
        new(kernel, kernel, stride, stride, pad, pad, pad, pad, dilation, dilation, groups);

    public void Validate()
    {
        if (KernelH < 1 || KernelW < 1) ThrowHelper.OutOfRange("kernel", $"{KernelH}x{KernelW}", "Kernel sizes must be at least 1.");
        if (StrideH < 1 || StrideW < 1) ThrowHelper.OutOfRange("stride", $"{StrideH}x{StrideW}", "Strides must be at least 1.");
        if (DilationH < 1 || DilationW < 1) ThrowHelper.OutOfRange("dilation", $"{DilationH}x{DilationW}", "Dilations must be at least 1.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            ThrowHelper.OutOfRange("pads", $"{PadTop},{PadLeft},{PadBottom},{PadRight}", "Pads must be non-negative.");
        if (Groups < 1) ThrowHelper.OutOfRange(nameof(Groups), Groups, "Groups must be at least 1.");
    }

    public int OutputHeight(int h) => (h + PadTop + PadBottom - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    public int OutputWidth(int w) => (w + PadLeft + PadRight - DilationW * (KernelW - 1) - 1) / StrideW + 1;

    /// <summary>
    /// Checks input [N,C,H,W] and weight [M,C/groups,KH,KW] against these parameters and returns the
    /// output shape [N,M,OH,OW]; throws naming both shapes when they disagree.
    /// </summary>
    public int[] OutputShape(ReadOnlySpan<int> input, ReadOnlySpan<int> weight)
    {
        Validate();
        string shapes = $"input [{string.Join(", ", input.ToArray())}], weight [{string.Join(", ", weight.ToArray())}]";
        if (input.Length != 4) ThrowHelper.Shape("input", $"Conv2d input must be rank 4 (NCHW); got {shapes}.");
        if (weight.Length != 4) ThrowHelper.Shape("weight", $"Conv2d weight must be rank 4 (M, C/groups, KH, KW); got {shapes}.");
        int c = input[1], m = weight[0];
        if (c % Groups != 0 || m % Groups != 0)
            ThrowHelper.Shape("weight", $"Channels ({c} in, {m} out) must be divisible by groups={Groups}; {shapes}.");
        if (weight[1] != c / Groups)
            ThrowHelper.Shape("weight", $"Weight has {weight[1]} input channels per group but input has {c}/{Groups}; {shapes}.");
        if (weight[2] != KernelH || weight[3] != KernelW)
            ThrowHelper.Shape("weight", $"Weight kernel {weight[2]}x{weight[3]} does not match parameters {KernelH}x{KernelW}; {shapes}.");
        int oh = OutputHeight(input[2]), ow = OutputWidth(input[3]);
        if (oh < 1 || ow < 1)
            ThrowHelper.Shape("input", $"Input {input[2]}x{input[3]} is too small for kernel {KernelH}x{KernelW} (dilation {DilationH}x{DilationW}, pads {PadTop},{PadLeft},{PadBottom},{PadRight}); {shapes}.");
        return new[] { input[0], m, oh, ow };
    }
}
