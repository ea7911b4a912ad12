namespace Lacuna.Kernels.Elementwise;

public enum PostActivationKind
{
    None = 0,
    Sigmoid = 1,
    HardSigmoid = 2,
    HardSwish = 3,
}

/// <summary>
/// An activation a conv applies to each finished block of its output (<see cref="OutputEpilogue"/>), after its own
/// min/max <see cref="Activation"/>: the ones a register tile cannot do in one instruction (MobileNetV3's HardSwish,
/// squeeze-excitation gates' Sigmoid and HardSigmoid), with the element-wise kernels' exact results, bit for bit, since
/// the same <see cref="UnaryKernels"/> compute them on the block.
/// </summary>
public readonly record struct PostActivation(PostActivationKind Kind, float Alpha = 0f, float Beta = 0f)
{
    public static PostActivation None => default;
    public static PostActivation Sigmoid => new(PostActivationKind.Sigmoid);
    public static PostActivation HardSwish => new(PostActivationKind.HardSwish);
    public static PostActivation HardSigmoid(float alpha, float beta) => new(PostActivationKind.HardSigmoid, alpha, beta);

    /// <summary>The ONNX operator it stands for.</summary>
    public string OpType => Kind.ToString();

    /// <summary>y = f(y) in place.</summary>
    public void Apply(Span<float> y)
    {
        switch (Kind)
        {
            case PostActivationKind.Sigmoid: UnaryKernels.Sigmoid(y, y); break;
            case PostActivationKind.HardSigmoid: UnaryKernels.HardSigmoid(y, y, Alpha, Beta); break;
            case PostActivationKind.HardSwish: UnaryKernels.HardSwish(y, y); break;
        }
    }

    public override string ToString() => Kind == PostActivationKind.HardSigmoid ? $"HardSigmoid({Alpha}, {Beta})" : Kind.ToString();
}
