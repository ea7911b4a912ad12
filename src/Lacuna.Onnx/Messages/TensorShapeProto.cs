using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>onnx.TensorShapeProto: dim = 1 (repeated).</summary>
public sealed class TensorShapeProto : OnnxMessage
{
    public List<TensorShapeDimension> Dims { get; } = [];

    internal static TensorShapeProto Read(WireReader r, TensorShapeProto? mergeInto = null)
    {
        var m = mergeInto ?? new TensorShapeProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Dims.Add(TensorShapeDimension.Read(r.ReadMessage("dim", $"dim[{m.Dims.Count}]"))); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() => SizeMessages(1, Dims) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteMessages(o, 1, Dims);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(TensorShapeProto? other) =>
        other is not null && SameMessages(Dims, other.Dims, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"[{string.Join(", ", Dims)}]";
}

/// <summary>
/// onnx.TensorShapeProto.Dimension: oneof { dim_value = 1, dim_param = 2 }, denotation = 3.
/// Neither set means an unknown dimension. Values are kept as written (some exporters write -1 for unknown).
/// </summary>
public sealed class TensorShapeDimension : OnnxMessage
{
    private long? _value;
    private string? _param;

    /// <summary>A fixed size, or null. Setting it clears <see cref="Param"/> (oneof).</summary>
    public long? Value { get => _value; set { _value = value; if (value is not null) _param = null; } }

    /// <summary>A symbolic size such as "N", or null. Setting it clears <see cref="Value"/> (oneof).</summary>
    public string? Param { get => _param; set { _param = value; if (value is not null) _value = null; } }

    public string Denotation { get; set; } = "";

    public static TensorShapeDimension Of(long value) => new() { Value = value };
    public static TensorShapeDimension Of(string param) => new() { Param = param };

    internal static TensorShapeDimension Read(WireReader r)
    {
        var m = new TensorShapeDimension();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Value = r.ReadInt64("dim_value"); break;
                case 2: m.Param = r.ReadString("dim_param"); break;
                case 3: m.Denotation = r.ReadString("denotation"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    // A set oneof member is written even when it is 0 or "": presence is the information.
    internal override long CalculateSize()
    {
        long size = SizeString(3, Denotation) + UnknownFields.CalculateSize();
        if (_value is long v) size += Tag(1) + CodedOutputStream.ComputeInt64Size(v);
        if (_param is string p) size += Tag(2) + CodedOutputStream.ComputeStringSize(p);
        return size;
    }

    internal override void WriteTo(CodedOutputStream o)
    {
        if (_value is long v) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(v); }
        if (_param is string p) { o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(p); }
        WriteString(o, 3, Denotation);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(TensorShapeDimension? other) =>
        other is not null && _value == other._value && _param == other._param && Denotation == other.Denotation
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => _value?.ToString() ?? _param ?? "?";
}
