using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>onnx.ValueInfoProto: name = 1, type = 2, doc_string = 3 (graph inputs, outputs, value_info).</summary>
public sealed class ValueInfoProto : OnnxMessage
{
    public string Name { get; set; } = "";
    public TypeProto? Type { get; set; }
    public string DocString { get; set; } = "";

    internal override string? DisplayName => Name;

    /// <summary>A dense tensor value: each dim a number (≥ 0) or a symbol such as "N".</summary>
    public static ValueInfoProto Tensor(string name, TensorDataType elemType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dims.Add(d switch
            {
                string p => TensorShapeDimension.Of(p),
                int v => TensorShapeDimension.Of(v),
                long v => TensorShapeDimension.Of(v),
                _ => throw new ArgumentException($"dimension {d} is neither a number nor a symbol.", nameof(dims)),
            });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = elemType, Shape = shape } } };
    }

    internal static ValueInfoProto Read(WireReader r)
    {
        var m = new ValueInfoProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Name = r.ReadString("name"); break;
                case 2: m.Type = TypeProto.Read(r.ReadMessage("type", "type"), m.Type); break;
                case 3: m.DocString = r.ReadString("doc_string"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeString(1, Name) + SizeMessage(2, Type) + SizeString(3, DocString) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteString(o, 1, Name);
        WriteMessage(o, 2, Type);
        WriteString(o, 3, DocString);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(ValueInfoProto? other) =>
        other is not null && Name == other.Name && Same(Type, other.Type, (a, b) => a.ContentEquals(b))
        && DocString == other.DocString && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{Name}: {Type}";
}
