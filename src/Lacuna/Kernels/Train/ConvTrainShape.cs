namespace Lacuna.Kernels.Train;

/// <summary>
/// A training convolution the SparseTrain kernels handle: stride 1, "same" zero padding (Kernel-1)/2, groups 1,
/// square Kernel of 1 or 3. x [N, C, H, W] → y [N, K, H, W], weight [K, C, Kernel, Kernel].
/// Channel counts need not be multiples of 8: the blocked layouts round them up to whole blocks of 8 and
/// the padding lanes hold zeros (<see cref="ConvTrainLayout.ToBlocked"/> writes them).
/// </summary>
public sealed record ConvTrainShape(int Batch, int InChannels, int OutChannels, int Height, int Width, int Kernel)
{
    /// <summary>Channels per block: one Vector256 of float.</summary>
    public const int Block = 8;

    public int Pad => (Kernel - 1) / 2;
    public int Taps => Kernel * Kernel;
    /// <summary>ceil(C / 8): blocks of the input x and of dx.</summary>
    public int InBlocks => (InChannels + Block - 1) / Block;
    /// <summary>ceil(K / 8): blocks of the output y and of dy.</summary>
    public int OutBlocks => (OutChannels + Block - 1) / Block;
    /// <summary>Floats of blocked x or dx: N · ceil(C/8) · H · W · 8.</summary>
    public long InputLength => (long)Batch * InBlocks * Height * Width * Block;
    /// <summary>Floats of blocked y or dy: N · ceil(K/8) · H · W · 8.</summary>
    public long OutputLength => (long)Batch * OutBlocks * Height * Width * Block;
    /// <summary>Floats of the weight or its gradient, [K, C, Kernel, Kernel].</summary>
    public long WeightLength => (long)OutChannels * InChannels * Taps;
    /// <summary>Multiply-adds of one pass (FWD, BWI and BWW each do this many when dense).</summary>
    public double MultiplyAdds => (double)Batch * OutChannels * InChannels * Taps * Height * Width;

    /// <summary>Throws naming the offending dimension.</summary>
    public void Validate()
    {
        if (Batch < 1) ThrowHelper.OutOfRange(nameof(Batch), Batch, "Batch must be at least 1.");
        if (InChannels < 1) ThrowHelper.OutOfRange(nameof(InChannels), InChannels, "Input channels must be at least 1.");
        if (OutChannels < 1) ThrowHelper.OutOfRange(nameof(OutChannels), OutChannels, "Output channels must be at least 1.");
        if (Height < 1 || Width < 1) ThrowHelper.OutOfRange(nameof(Height), $"{Height}x{Width}", "Spatial size must be at least 1x1.");
        if (Kernel != 1 && Kernel != 3)
            ThrowHelper.NotSupported($"SparseTrain kernels support 1x1 and 3x3 stride-1 'same' convolutions; got a {Kernel}x{Kernel} kernel.");
        if (InputLength > Array.MaxLength || OutputLength > Array.MaxLength)
            ThrowHelper.NotSupported($"Tensors of {Math.Max(InputLength, OutputLength)} floats exceed the largest array.");
    }

    /// <summary>The same layer as ONNX Conv parameters, for the reference.</summary>
    public Conv2dParams Params => Conv2dParams.Square(Kernel, 1, Pad);

    public override string ToString() => $"N{Batch} {InChannels}->{OutChannels} {Height}x{Width} k{Kernel}";
}
