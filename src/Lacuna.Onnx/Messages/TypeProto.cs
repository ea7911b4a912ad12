using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>
/// onnx.TypeProto: tensor_type = 1, denotation = 6. Sequence, map, optional and sparse-tensor types
/// (fields 4, 5, 9, 8) are not modelled; they stay in <see cref="OnnxMessage.UnknownFields"/>.
/// </summary>
public sealed class TypeProto : OnnxMessage
{
    /// <summary>The tensor type, or null when this value is not a dense tensor.</summary>
    public TensorTypeProto? TensorType { get; set; }
    public string Denotation { get; set; } = "";

    internal static TypeProto Read(WireReader r, TypeProto? mergeInto = null)
    {
        var m = mergeInto ?? new TypeProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.TensorType = TensorTypeProto.Read(r.ReadMessage("tensor_type", "tensor_type"), m.TensorType); break;
                case 6: m.Denotation = r.ReadString("denotation"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeMessage(1, TensorType) + SizeString(6, Denotation) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteMessage(o, 1, TensorType);
        WriteString(o, 6, Denotation);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(TypeProto? other) =>
        other is not null && Same(TensorType, other.TensorType, (a, b) => a.ContentEquals(b))
        && Denotation == other.Denotation && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => TensorType?.ToString() ?? "(non-tensor type)";
}

/// <summary>onnx.TypeProto.Tensor: elem_type = 1 (a <see cref="TensorDataType"/>), shape = 2 (null: rank unknown).</summary>
public sealed class TensorTypeProto : OnnxMessage
{
    public TensorDataType ElemType { get; set; }

    /// <summary>Null means the rank is unknown; an empty shape is a scalar.</summary>
    public TensorShapeProto? Shape { get; set; }

    internal static TensorTypeProto Read(WireReader r, TensorTypeProto? mergeInto = null)
    {
        var m = mergeInto ?? new TensorTypeProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.ElemType = (TensorDataType)r.ReadInt32("elem_type"); break;
                case 2:
                    // Merge, as protobuf does when an embedded message field appears twice.
                    m.Shape = TensorShapeProto.Read(r.ReadMessage("shape", "shape"), m.Shape);
                    break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeInt64(1, (int)ElemType) + SizeMessage(2, Shape) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteInt64(o, 1, (int)ElemType);
        WriteMessage(o, 2, Shape);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(TensorTypeProto? other) =>
        other is not null && ElemType == other.ElemType && Same(Shape, other.Shape, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{ElemType}{Shape?.ToString() ?? "[?]"}";
}
