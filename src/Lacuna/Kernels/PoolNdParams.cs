namespace Lacuna.Kernels;

/// <summary>
/// Geometry of N-D pooling (ONNX MaxPool/AveragePool over [N, C, D1 .. Dk], k ≥ 1): per spatial axis the rules of
/// <see cref="Pool2dParams"/> (window span, ceil mode, count_include_pad). <see cref="ColumnMajorIndices"/> is
/// MaxPool's storage_order = 1: the Indices output counts the spatial position with the first axis fastest.
/// </summary>
public sealed record PoolNdParams(int[] Kernel, int[] Strides, int[] PadsBegin, int[] PadsEnd, int[] Dilations,
    bool CeilMode = false, bool CountIncludePad = false, bool ColumnMajorIndices = false)
{
    public int Rank => Kernel.Length;

    public void Validate()
    {
        int k = Kernel.Length;
        if (k < 1) ThrowHelper.Argument("kernel", "Pool needs at least one spatial axis.");
        if (Strides.Length != k || PadsBegin.Length != k || PadsEnd.Length != k || Dilations.Length != k)
            ThrowHelper.Argument("kernel", $"Pool: kernel, strides, dilations and both pad lists must have {k} values each.");
        if (Kernel.Any(v => v < 1)) ThrowHelper.OutOfRange("kernel", string.Join("x", Kernel), "Pool kernel sizes must be at least 1.");
        if (Strides.Any(v => v < 1)) ThrowHelper.OutOfRange("stride", string.Join("x", Strides), "Pool strides must be at least 1.");
        if (Dilations.Any(v => v < 1)) ThrowHelper.OutOfRange("dilation", string.Join("x", Dilations), "Pool dilations must be at least 1.");
        if (PadsBegin.Concat(PadsEnd).Any(v => v < 0)) ThrowHelper.OutOfRange("pads", string.Join(",", PadsBegin.Concat(PadsEnd)), "Pool pads must be non-negative.");
    }

    /// <summary>
    /// Checks input [N, C, D1 .. Dk] and returns [N, C, O1 .. Ok]; throws naming the shape when the output would be
    /// empty or a window would cover padding only.
    /// </summary>
    public int[] OutputShape(ReadOnlySpan<int> input, string op = "Pool")
    {
        Validate();
        string shape = $"[{string.Join(", ", input.ToArray())}]";
        if (input.Length != Rank + 2) ThrowHelper.Shape("input", $"{op}: input must be rank {Rank + 2} (N, C and {Rank} spatial axes); got {shape}.");
        foreach (int d in input)
            if (d < 0) ThrowHelper.Shape("input", $"{op}: input shape {shape} has a negative dimension.");
        var os = new int[input.Length];
        os[0] = input[0];
        os[1] = input[1];
        for (int a = 0; a < Rank; a++)
        {
            int size = input[2 + a];
            int o = Pool2dParams.OutputSize(size, Kernel[a], Strides[a], PadsBegin[a], PadsEnd[a], Dilations[a], CeilMode);
            if (o < 1)
                ThrowHelper.Shape("input", $"{op}: input {shape} is too small along spatial axis {a} for kernel {Kernel[a]} (dilation {Dilations[a]}, pads {PadsBegin[a]},{PadsEnd[a]}).");
            for (int w = 0; w < o; w++)
            {
                bool touches = false;
                for (int j = 0; j < Kernel[a] && !touches; j++)
                {
                    int i = w * Strides[a] - PadsBegin[a] + j * Dilations[a];
                    touches = i >= 0 && i < size;
                }
                if (!touches)
                    ThrowHelper.Shape("pads", $"{op}: window {w} along spatial axis {a} covers padding only (input {shape}, kernel {Kernel[a]}, stride {Strides[a]}, pad {PadsBegin[a]}, dilation {Dilations[a]}).");
            }
            os[2 + a] = o;
        }
        return os;
    }
}
