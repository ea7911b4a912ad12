namespace Lacuna.Kernels.ConvTranspose;

/// <summary>
/// Geometry of an N-D transposed convolution (ONNX ConvTranspose over S spatial axes): input [N, C, D1..DS], weight
/// [C, M/groups, K1..KS], output [N, M, O1..OS] with Oa = Sa·(Da − 1) + OutputPadding[a] + Dila·(Ka − 1) + 1 −
/// PadsBegin[a] − PadsEnd[a]; input position i spreads its kernel onto output i·Sa − PadsBegin[a] + k·Dila. Pads are
/// final (output_shape and auto_pad resolved by <see cref="ConvTranspose2dParams.Resolve"/>). The N-D reference and
/// the 3-D kernel read it; 1-D and 2-D layers use <see cref="ConvTranspose2dParams"/>.
/// </summary>
public sealed class ConvTransposeNdParams
{
    public ConvTransposeNdParams(int[] kernel, int[] strides, int[] padsBegin, int[] padsEnd, int[] dilations, int[] outputPadding, int groups)
    {
        int s = kernel.Length;
        if (s < 1 || new[] { strides, padsBegin, padsEnd, dilations, outputPadding }.Any(a => a.Length != s))
            ThrowHelper.OutOfRange("kernel", s, "kernel, strides, pads (begin and end), dilations and output_padding must all have one value per spatial axis.");
        (Kernel, Strides, PadsBegin, PadsEnd, Dilations, OutputPadding, Groups) = (kernel, strides, padsBegin, padsEnd, dilations, outputPadding, groups);
        if (kernel.Concat(strides).Concat(dilations).Any(v => v < 1) || groups < 1)
            ThrowHelper.OutOfRange("kernel", this, "kernel, strides, dilations and groups must be at least 1.");
        if (padsBegin.Concat(padsEnd).Concat(outputPadding).Any(v => v < 0))
            ThrowHelper.OutOfRange("pads", this, "pads and output_padding must be non-negative.");
    }

    public int[] Kernel { get; }
    public int[] Strides { get; }
    public int[] PadsBegin { get; }
    public int[] PadsEnd { get; }
    public int[] Dilations { get; }
    public int[] OutputPadding { get; }
    public int Groups { get; }

    public int Spatial => Kernel.Length;
    public int KernelVolume => Kernel.Aggregate(1, (a, k) => a * k);

    public int OutputSize(int a, int input) =>
        Strides[a] * (input - 1) + OutputPadding[a] + Dilations[a] * (Kernel[a] - 1) + 1 - PadsBegin[a] - PadsEnd[a];

    /// <summary>Checks input [N, C, D1..DS] and weight [C, M/g, K1..KS]; returns [N, M, O1..OS].</summary>
    public int[] OutputShape(ReadOnlySpan<int> input, ReadOnlySpan<int> weight)
    {
        string shapes = $"input [{string.Join(", ", input.ToArray())}], weight [{string.Join(", ", weight.ToArray())}]";
        int rank = Spatial + 2;
        if (input.Length != rank || weight.Length != rank)
            ThrowHelper.Shape("input", $"a {Spatial}-D ConvTranspose needs rank-{rank} input and weight; got {shapes}.");
        if (input[1] != weight[0]) ThrowHelper.Shape("weight", $"ConvTranspose weight has {weight[0]} input channels but the input has {input[1]}; {shapes}.");
        if (input[1] % Groups != 0) ThrowHelper.Shape("weight", $"input channels {input[1]} are not divisible by groups={Groups}; {shapes}.");
        var y = new int[rank];
        (y[0], y[1]) = (input[0], weight[1] * Groups);
        for (int a = 0; a < Spatial; a++)
        {
            if (weight[2 + a] != Kernel[a])
                ThrowHelper.Shape("weight", $"weight kernel [{string.Join(", ", weight[2..].ToArray())}] does not match kernel_shape [{string.Join(", ", Kernel)}]; {shapes}.");
            y[2 + a] = OutputSize(a, input[2 + a]);
            if (y[2 + a] < 1) ThrowHelper.Shape("pads", $"ConvTranspose output axis {2 + a} would be {y[2 + a]}; {shapes}.");
        }
        return y;
    }

    public override string ToString() =>
        $"kernel {string.Join("x", Kernel)}, strides {string.Join("x", Strides)}, pads [{string.Join(",", PadsBegin)}|{string.Join(",", PadsEnd)}], dilations {string.Join("x", Dilations)}, output_padding {string.Join("x", OutputPadding)}, groups {Groups}";
}
