using System.Collections.Immutable;

namespace Lacuna.Tensors;

/// <summary>
/// An immutable list of non-negative dimensions, outermost first (NCHW for images).
/// Element counts are checked against <see cref="int.MaxValue"/> so a tensor is always addressable by int.
/// </summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        if (dims is null) ThrowHelper.ArgumentNull(nameof(dims));
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
                ThrowHelper.OutOfRange(nameof(dims), dims[i], $"Dimension {i} of shape [{string.Join(", ", dims)}] is negative.");
            count *= dims[i];
            if (count > int.MaxValue)
                ThrowHelper.OutOfRange(nameof(dims), count, $"Shape [{string.Join(", ", dims)}] has more than int.MaxValue elements.");
        }
        _dims = (int[])dims.Clone();
        ElementCount = (int)count;
    }

    public int Rank => _dims.Length;
    public int ElementCount { get; }
    public int this[int axis] => _dims[axis < 0 ? axis + _dims.Length : axis];
    public ImmutableArray<int> Dims => ImmutableArray.Create(_dims);
    public ReadOnlySpan<int> AsSpan() => _dims;

    /// <summary>Row-major strides in elements.</summary>
    public int[] Strides()
    {
        var s = new int[_dims.Length];
        int acc = 1;
        for (int i = _dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= _dims[i]; }
        return s;
    }

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }
    public override string ToString() => $"[{string.Join(", ", _dims)}]";
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);
}
