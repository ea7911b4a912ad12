namespace Lacuna.Graph;

/// <summary>The element types a graph constant can hold: activations are float; shapes and indices are int64.</summary>
public enum GraphElementType { Float = 1, Int64 = 7 }

/// <summary>
/// A constant tensor in the graph (an initializer or a folded value): row-major, exactly one of
/// <see cref="Floats"/> / <see cref="Int64s"/> set, length = product of <see cref="Dims"/> (1 for a scalar).
/// </summary>
public sealed class GraphTensor
{
    public GraphTensor(string name, int[] dims, float[] values) : this(name, dims, GraphElementType.Float, values, null) { }
    public GraphTensor(string name, int[] dims, long[] values) : this(name, dims, GraphElementType.Int64, null, values) { }

    private GraphTensor(string name, int[] dims, GraphElementType type, float[]? f, long[]? l)
    {
        Name = name;
        Dims = dims;
        ElementType = type;
        Floats = f;
        Int64s = l;
        long count = 1;
        foreach (int d in dims) count *= d;
        int length = f?.Length ?? l!.Length;
        if (count != length)
            throw new LacunaFormatException($"tensor '{name}'", $"has {length} values but dims [{string.Join(", ", dims)}] need {count}.");
    }

    public string Name { get; }
    public int[] Dims { get; }
    public GraphElementType ElementType { get; }
    public float[]? Floats { get; }
    public long[]? Int64s { get; }
    public int Length => Floats?.Length ?? Int64s!.Length;

    /// <summary>The values as float (int64 converted).</summary>
    public float[] AsFloats() => Floats ?? Array.ConvertAll(Int64s!, v => (float)v);

    /// <summary>The values as int64 (float truncated).</summary>
    public long[] AsInt64s() => Int64s ?? Array.ConvertAll(Floats!, v => (long)v);

    public GraphTensor Rename(string name) => Floats is not null ? new(name, Dims, Floats) : new(name, Dims, Int64s!);

    public override string ToString() => $"{Name}: {ElementType}[{string.Join(", ", Dims)}]";
}
