namespace Lacuna.Graph;

/// <summary>
/// Element types (ONNX's numbers). A graph constant holds float or int64 (shapes, indices; bool constants are int64
/// 0/1). <see cref="Bool"/> only describes graph inputs: at run time int64 and bool values travel as exact floats.
/// </summary>
public enum GraphElementType { Float = 1, Int64 = 7, Bool = 9 }

/// <summary>
/// The ONNX integer type an int64 constant stands for (ONNX's numbers). Values are held widened in
/// <see cref="GraphTensor.Int64s"/>; a constant computed at load is narrowed back with <see cref="IntegerTypes.Wrap"/>
/// (two's complement wrap-around, as NumPy and ONNX Runtime compute narrow integers). UINT64 values above
/// <see cref="long.MaxValue"/> are held as their bit pattern (negative longs).
/// </summary>
public enum IntegerType { UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, Bool = 9, UInt32 = 12, UInt64 = 13 }

/// <summary>Narrowing and naming of <see cref="IntegerType"/>s.</summary>
public static class IntegerTypes
{
    /// <summary>Whether ONNX data type number <paramref name="onnxType"/> is one of the <see cref="IntegerType"/>s.</summary>
    public static bool IsInteger(long onnxType) => onnxType is 2 or 3 or 4 or 5 or 6 or 7 or 9 or 12 or 13;

    /// <summary>v reduced to <paramref name="type"/>'s range modulo 2^bits (Bool: non-zero is 1).</summary>
    public static long Wrap(long v, IntegerType type) => type switch
    {
        IntegerType.UInt8 => (byte)v,
        IntegerType.Int8 => (sbyte)v,
        IntegerType.UInt16 => (ushort)v,
        IntegerType.Int16 => (short)v,
        IntegerType.Int32 => (int)v,
        IntegerType.UInt32 => (uint)v,
        IntegerType.Bool => v != 0 ? 1 : 0,
        _ => v,
    };

    /// <summary>Whether the type is unsigned (compare and divide its 64-bit pattern as ulong).</summary>
    public static bool IsUnsigned(IntegerType type) => type is IntegerType.UInt8 or IntegerType.UInt16 or IntegerType.UInt32 or IntegerType.UInt64 or IntegerType.Bool;
}

/// <summary>
/// A constant tensor in the graph (an initializer or a folded value): row-major, exactly one of
/// <see cref="Floats"/> / <see cref="Int64s"/> set, length = product of <see cref="Dims"/> (1 for a scalar).
/// A large, mostly-zero float constant can be held compactly (<see cref="Compact"/>): then <see cref="Floats"/>
/// builds a new dense array on every call, for the planner to read once and drop.
/// </summary>
public sealed class GraphTensor
{
    private readonly float[]? _floats;
    private readonly CompactFloats? _compact;
    private float[]? _runtimeFloats;

    public GraphTensor(string name, int[] dims, float[] values) : this(name, dims, GraphElementType.Float, values, null) { }
    public GraphTensor(string name, int[] dims, long[] values) : this(name, dims, GraphElementType.Int64, null, values) { }

    /// <summary>An integer constant of ONNX type <paramref name="type"/>, its values widened to long.</summary>
    public GraphTensor(string name, int[] dims, long[] values, IntegerType type) : this(name, dims, GraphElementType.Int64, null, values) => IntegerType = type;

    private GraphTensor(string name, int[] dims, GraphElementType type, float[]? f, long[]? l)
    {
        Name = name;
        Dims = dims;
        ElementType = type;
        _floats = f;
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

    /// <summary>For an int64 constant, the ONNX integer type it stands for (INT64 unless imported or computed narrower).</summary>
    public IntegerType IntegerType { get; } = IntegerType.Int64;
    private GraphTensor(string name, int[] dims, CompactFloats compact)
    {
        Name = name;
        Dims = dims;
        ElementType = GraphElementType.Float;
        _compact = compact;
    }

    /// <summary>The values (a new array each call when the tensor is held compactly).</summary>
    public float[]? Floats => _floats ?? _compact?.ToDense();
    public long[]? Int64s { get; }
    public int Length => _floats?.Length ?? _compact?.Length ?? Int64s!.Length;

    /// <summary>Whether the values are held compactly (<see cref="Compact"/>).</summary>
    public bool IsCompact => _compact is not null;

    /// <summary>
    /// The values for a kernel that reads this constant on every run (a slot of the plan): dense, built once and
    /// kept. Weights that run on packed or sparse kernels are never read this way, so they stay compact.
    /// </summary>
    public float[] RuntimeFloats => _floats ?? (_runtimeFloats ??= _compact?.ToDense() ?? Array.ConvertAll(Int64s!, v => (float)v));

    /// <summary>Below this many elements compacting saves too little to matter.</summary>
    public const int CompactMinLength = 4096;

    /// <summary>
    /// This tensor held as a bit mask of its non-zeros plus their values (1/32 + density of the dense bytes), when it
    /// is float, at least <see cref="CompactMinLength"/> long and at least half zeros; else this tensor. A pruned
    /// model's weights are planned into packed or sparse kernels, which keep their own copies, so the graph's dense
    /// copy would only double the memory (ResNet-50 at 0.9: 102 MB of the 246 MB resident after planning).
    /// </summary>
    public GraphTensor Compact()
    {
        if (_floats is null || _floats.Length < CompactMinLength) return this;
        int zeros = 0;
        foreach (float v in _floats) if (v == 0f && !float.IsNegative(v)) zeros++; // -0 is kept as a value (bit-exact)
        return zeros * 2 < _floats.Length ? this : new GraphTensor(Name, Dims, CompactFloats.From(_floats));
    }

    /// <summary>The values as float (int64 converted).</summary>
    public float[] AsFloats() => Floats ?? Array.ConvertAll(Int64s!, v => (float)v);

    /// <summary>The values as int64 (float truncated).</summary>
    public long[] AsInt64s() => Int64s ?? Array.ConvertAll(Floats!, v => (long)v);

    public GraphTensor Rename(string name) => _compact is not null ? new(name, Dims, _compact)
        : _floats is not null ? new(name, Dims, _floats) : new(name, Dims, Int64s!, IntegerType);

    public override string ToString() => $"{Name}: {(ElementType == GraphElementType.Int64 ? IntegerType.ToString() : ElementType.ToString())}[{string.Join(", ", Dims)}]";
}

/// <summary>A float array as a bit mask of its non-zero elements (+0 is the only zero) and those elements in order.</summary>
internal sealed class CompactFloats
{
    private readonly ulong[] _mask;
    private readonly float[] _values;

    private CompactFloats(int length, ulong[] mask, float[] values) { Length = length; _mask = mask; _values = values; }

    public int Length { get; }

    public static CompactFloats From(ReadOnlySpan<float> dense)
    {
        var mask = new ulong[(dense.Length + 63) / 64];
        var values = new List<float>();
        for (int i = 0; i < dense.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(dense[i]) == 0) continue;
            mask[i >> 6] |= 1UL << (i & 63);
            values.Add(dense[i]);
        }
        return new CompactFloats(dense.Length, mask, values.ToArray());
    }

    public float[] ToDense()
    {
        var dense = new float[Length];
        int k = 0;
        for (int w = 0; w < _mask.Length; w++)
            for (ulong bits = _mask[w]; bits != 0; bits &= bits - 1)
                dense[(w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits)] = _values[k++];
        return dense;
    }
}
