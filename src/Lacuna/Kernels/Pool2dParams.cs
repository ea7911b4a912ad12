namespace Lacuna.Kernels;

/// <summary>
/// Geometry of 2-D pooling (ONNX MaxPool/AveragePool over NCHW). Along each spatial axis with input size H,
/// window span E = dilation·(kernel-1)+1 and total padding P = begin + end:
/// OH = floor((H + P - E) / stride) + 1, or with <see cref="CeilMode"/> ceil(...) + 1 minus one if the last
/// window would start in the end padding (at or past H + begin; ONNX opset 19 / PyTorch rule).
/// Window oh covers input rows oh·stride - padTop + j·dilation, j in [0, kernel).
/// <see cref="CountIncludePad"/> (AveragePool only): divide by the window positions inside the explicitly
/// padded input [-begin, H + end) instead of those inside the input [0, H); positions past the end padding,
/// which only ceil mode creates, never count.
/// </summary>
public sealed record Pool2dParams(
    int KernelH, int KernelW,
    int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1,
    bool CeilMode = false,
    bool CountIncludePad = false)
{
    /// <summary>Square window, symmetric padding.</summary>
    public static Pool2dParams Square(int kernel, int stride = 1, int pad = 0, bool ceilMode = false, bool countIncludePad = false) =>
        new(kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, ceilMode, countIncludePad);

    public void Validate()
    {
        if (KernelH < 1 || KernelW < 1) ThrowHelper.OutOfRange("kernel", $"{KernelH}x{KernelW}", "Pool kernel sizes must be at least 1.");
        if (StrideH < 1 || StrideW < 1) ThrowHelper.OutOfRange("stride", $"{StrideH}x{StrideW}", "Pool strides must be at least 1.");
        if (DilationH < 1 || DilationW < 1) ThrowHelper.OutOfRange("dilation", $"{DilationH}x{DilationW}", "Pool dilations must be at least 1.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            ThrowHelper.OutOfRange("pads", $"{PadTop},{PadLeft},{PadBottom},{PadRight}", "Pool pads must be non-negative.");
    }

    public int OutputHeight(int h) => OutputSize(h, KernelH, StrideH, PadTop, PadBottom, DilationH, CeilMode);
    public int OutputWidth(int w) => OutputSize(w, KernelW, StrideW, PadLeft, PadRight, DilationW, CeilMode);

    /// <summary>Output length along one axis (may be ≤ 0 when the input is too small; callers reject that).</summary>
    public static int OutputSize(int size, int kernel, int stride, int padBegin, int padEnd, int dilation, bool ceilMode)
    {
        long span = (long)dilation * (kernel - 1) + 1;
        long room = size + padBegin + padEnd - span;
        if (room < 0) return 0;
        long outSize = (ceilMode ? (room + stride - 1) / stride : room / stride) + 1;
        if (ceilMode && (outSize - 1) * stride >= size + padBegin) outSize--;
        return (int)outSize;
    }

    /// <summary>
    /// Checks input [N,C,H,W] and returns [N,C,OH,OW]; throws naming the shape when the output would be empty or a
    /// window would cover padding only (a max or mean over no input element is undefined).
    /// </summary>
    public int[] OutputShape(ReadOnlySpan<int> input, string op = "Pool")
    {
        Validate();
        string shape = $"[{string.Join(", ", input.ToArray())}]";
        if (input.Length != 4) ThrowHelper.Shape("input", $"{op}: input must be rank 4 (NCHW); got {shape}.");
        foreach (int d in input)
            if (d < 0) ThrowHelper.Shape("input", $"{op}: input shape {shape} has a negative dimension.");
        int oh = OutputHeight(input[2]), ow = OutputWidth(input[3]);
        if (oh < 1 || ow < 1)
            ThrowHelper.Shape("input", $"{op}: input {shape} is too small for kernel {KernelH}x{KernelW} (dilation {DilationH}x{DilationW}, pads {PadTop},{PadLeft},{PadBottom},{PadRight}).");
        CheckWindowsTouchInput(input[2], oh, KernelH, StrideH, PadTop, DilationH, "H", shape, op);
        CheckWindowsTouchInput(input[3], ow, KernelW, StrideW, PadLeft, DilationW, "W", shape, op);
        return new[] { input[0], input[1], oh, ow };
    }

    private static void CheckWindowsTouchInput(int size, int outSize, int kernel, int stride, int padBegin, int dilation, string axis, string shape, string op)
    {
        for (int o = 0; o < outSize; o++)
        {
            bool touches = false;
            for (int j = 0; j < kernel && !touches; j++)
            {
                int i = o * stride - padBegin + j * dilation;
                touches = i >= 0 && i < size;
            }
            if (!touches)
                ThrowHelper.Shape("pads", $"{op}: window {o} along {axis} covers padding only (input {shape}, kernel {kernel}, stride {stride}, pad {padBegin}, dilation {dilation}).");
        }
    }
}
