namespace Lacuna.Kernels;

/// <summary>
/// Geometry of an N-D convolution (ONNX Conv over S spatial axes): input [N, C, D1..DS], weight [M, C/groups, K1..KS],
/// output [N, M, O1..OS] with Oa = (Da + PadsBegin[a] + PadsEnd[a] − Dilations[a]·(Ka − 1) − 1) / Strides[a] + 1.
/// auto_pad is resolved into the pads before (<see cref="Graph.Ops.OpAttributes.ResolveAutoPad"/>). Shared by the
/// N-D reference and the 3-D kernel; 1-D and 2-D layers use <see cref="Conv2dParams"/>.
/// </summary>
public sealed class ConvNdParams
{
    public ConvNdParams(int[] kernel, int[] strides, int[] padsBegin, int[] padsEnd, int[] dilations, int groups)
    {
        int s = kernel.Length;
        if (s < 1 || strides.Length != s || padsBegin.Length != s || padsEnd.Length != s || dilations.Length != s)
            ThrowHelper.OutOfRange("kernel", s, $"kernel ({s}), strides ({strides.Length}), pads ({padsBegin.Length}+{padsEnd.Length}) and dilations ({dilations.Length}) must all have one value per spatial axis.");
        (Kernel, Strides, PadsBegin, PadsEnd, Dilations, Groups) = (kernel, strides, padsBegin, padsEnd, dilations, groups);
        Validate();
    }

    /// <summary>Unit strides and dilations, no padding, one group: the ONNX defaults for a kernel.</summary>
    public static ConvNdParams Plain(params int[] kernel) =>
        new(kernel, Ones(kernel.Length), new int[kernel.Length], new int[kernel.Length], Ones(kernel.Length), 1);

    public int[] Kernel { get; }
    public int[] Strides { get; }
    public int[] PadsBegin { get; }
    public int[] PadsEnd { get; }
    public int[] Dilations { get; }
    public int Groups { get; }

    /// <summary>Number of spatial axes.</summary>
    public int Spatial => Kernel.Length;

    /// <summary>Kernel taps per input channel (K1·…·KS).</summary>
    public int KernelVolume => Kernel.Aggregate(1, (a, k) => a * k);

    /// <summary>Output extent along spatial axis <paramref name="a"/>; ≤ 0 when the dilated kernel exceeds the padded input.</summary>
    public int OutputSize(int a, int input)
    {
        long span = (long)input + PadsBegin[a] + PadsEnd[a] - (long)Dilations[a] * (Kernel[a] - 1) - 1;
        return span < 0 ? 0 : (int)(span / Strides[a] + 1); // a negative span would truncate towards zero to one output
    }

    /// <summary>
    /// Checks input [N, C, D1..DS] and weight [M, C/groups, K1..KS] against these parameters and returns the output
    /// shape [N, M, O1..OS]; throws naming both shapes when they disagree.
    /// </summary>
    public int[] OutputShape(ReadOnlySpan<int> input, ReadOnlySpan<int> weight)
    {
        string shapes = $"input [{string.Join(", ", input.ToArray())}], weight [{string.Join(", ", weight.ToArray())}]";
        int rank = Spatial + 2;
        if (input.Length != rank || weight.Length != rank)
            ThrowHelper.Shape("input", $"a {Spatial}-D convolution needs rank-{rank} input and weight; got {shapes}.");
        int c = input[1], m = weight[0];
        if (c % Groups != 0 || m % Groups != 0)
            ThrowHelper.Shape("weight", $"Channels ({c} in, {m} out) must be divisible by groups={Groups}; {shapes}.");
        if (weight[1] != c / Groups)
            ThrowHelper.Shape("weight", $"Weight has {weight[1]} input channels per group but input has {c}/{Groups}; {shapes}.");
        var y = new int[rank];
        (y[0], y[1]) = (input[0], m);
        for (int a = 0; a < Spatial; a++)
        {
            if (weight[2 + a] != Kernel[a])
                ThrowHelper.Shape("weight", $"Weight kernel [{string.Join(", ", weight[2..].ToArray())}] does not match kernel_shape [{string.Join(", ", Kernel)}]; {shapes}.");
            y[2 + a] = OutputSize(a, input[2 + a]);
            if (y[2 + a] < 1)
                ThrowHelper.Shape("input", $"Input axis {2 + a} (size {input[2 + a]}) is too small for kernel {Kernel[a]} (dilation {Dilations[a]}, pads {PadsBegin[a]}+{PadsEnd[a]}); {shapes}.");
        }
        return y;
    }

    private void Validate()
    {
        if (Kernel.Any(k => k < 1)) ThrowHelper.OutOfRange("kernel", string.Join("x", Kernel), "Kernel sizes must be at least 1.");
        if (Strides.Any(v => v < 1)) ThrowHelper.OutOfRange("strides", string.Join("x", Strides), "Strides must be at least 1.");
        if (Dilations.Any(v => v < 1)) ThrowHelper.OutOfRange("dilations", string.Join("x", Dilations), "Dilations must be at least 1.");
        if (PadsBegin.Concat(PadsEnd).Any(v => v < 0)) ThrowHelper.OutOfRange("pads", string.Join(",", PadsBegin.Concat(PadsEnd)), "Pads must be non-negative.");
        if (Groups < 1) ThrowHelper.OutOfRange(nameof(Groups), Groups, "Groups must be at least 1.");
    }

    private static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();

    public override string ToString() =>
        $"kernel {string.Join("x", Kernel)}, strides {string.Join("x", Strides)}, pads [{string.Join(",", PadsBegin)}|{string.Join(",", PadsEnd)}], dilations {string.Join("x", Dilations)}, groups {Groups}";
}
