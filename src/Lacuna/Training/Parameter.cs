namespace Lacuna.Training;

/// <summary>What a parameter is, for optimizers (weight decay applies to <see cref="Weight"/> only).</summary>
public enum ParameterKind { Weight, Bias, Scale }

/// <summary>
/// A trainable tensor, its gradient (overwritten by each backward pass) and an optional fixed pruning mask.
/// With a mask, masked-out entries are zero after <see cref="ApplyMask"/> and their gradients are zeroed before
/// the optimizer sees them, so pruned weights stay pruned through fine-tuning.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape, ParameterKind kind)
    {
        Name = name;
        Shape = shape;
        Kind = kind;
        int n = 1;
        foreach (int d in shape) n *= d;
        Value = new float[n];
        Grad = new float[n];
    }

    public string Name { get; }
    public int[] Shape { get; }
    public ParameterKind Kind { get; }
    public float[] Value { get; }
    public float[] Grad { get; }
    public int Length => Value.Length;

    /// <summary>1 keeps a weight, 0 prunes it; null means dense.</summary>
    public bool[]? Mask { get; private set; }

    /// <summary>Fixes the mask to the current non-zero pattern of <see cref="Value"/> (after pruning).</summary>
    public void FreezeSparsityPattern()
    {
        var mask = new bool[Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = Value[i] != 0f;
        Mask = mask;
    }

    public void SetMask(bool[]? mask)
    {
        if (mask is not null && mask.Length != Length)
            ThrowHelper.Shape(nameof(mask), $"Mask of {mask.Length} entries for parameter '{Name}' of {Length}.");
        Mask = mask;
        ApplyMask();
    }

    /// <summary>Zeroes the pruned entries of the value and of the gradient.</summary>
    public void ApplyMask()
    {
        if (Mask is null) return;
        for (int i = 0; i < Mask.Length; i++)
            if (!Mask[i]) { Value[i] = 0f; Grad[i] = 0f; }
    }

    /// <summary>Fraction of entries that are exactly zero.</summary>
    public double Sparsity()
    {
        int zeros = 0;
        foreach (float v in Value) if (v == 0f) zeros++;
        return Length == 0 ? 0 : (double)zeros / Length;
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
