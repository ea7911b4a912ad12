namespace Lacuna.Kernels;

public enum ActivationKind
{
    None = 0,
    Relu = 1,
    Clip = 2,
}

/// <summary>
/// The activation a kernel applies in its epilogue, while the output is still in registers.
/// ReLU is Clip(0, +inf) in spirit but kept distinct: it is one max instruction.
/// </summary>
public readonly record struct Activation(ActivationKind Kind, float Min, float Max)
{
    public static Activation None => new(ActivationKind.None, float.NegativeInfinity, float.PositiveInfinity);
    public static Activation Relu => new(ActivationKind.Relu, 0f, float.PositiveInfinity);

    public static Activation Clip(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max) || min > max)
            ThrowHelper.Argument(nameof(min), $"Clip bounds must satisfy min <= max, got min={min}, max={max}.");
        return new(ActivationKind.Clip, min, max);
    }

    /// <summary>Scalar application; the definition every vector epilogue must match.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.Clip => x < Min ? Min : (x > Max ? Max : x),
        _ => x,
    };

    public override string ToString() => Kind switch
    {
        ActivationKind.Clip => $"Clip({Min}, {Max})",
        _ => Kind.ToString(),
    };
}
