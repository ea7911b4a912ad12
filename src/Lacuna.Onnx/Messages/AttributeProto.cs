using System.Text;
using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>
/// onnx.AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8, strings = 9,
/// tensors = 10, graphs = 11, doc_string = 13, type = 20, ref_attr_name = 21. Sparse tensors and type protos
/// (fields 14, 15, 22, 23) stay in <see cref="OnnxMessage.UnknownFields"/>. Subgraphs (If/Loop/Scan bodies)
/// are read as <see cref="GraphProto"/>, under the reader's nesting limit.
/// </summary>
public sealed class AttributeProto : OnnxMessage
{
    public string Name { get; set; } = "";
    public string RefAttrName { get; set; } = "";
    public string DocString { get; set; } = "";
    public AttributeType Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }

    /// <summary>Bytes (UTF-8 text by convention, but not required to be), or null when absent.</summary>
    public byte[]? S { get; set; }
    public TensorProto? T { get; set; }
    public GraphProto? G { get; set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<byte[]> Strings { get; } = [];
    public List<TensorProto> Tensors { get; } = [];
    public List<GraphProto> Graphs { get; } = [];

    internal override string? DisplayName => Name;

    /// <summary><see cref="S"/> decoded as UTF-8 (invalid bytes replaced).</summary>
    public string StringValue => S is null ? "" : Encoding.UTF8.GetString(S);

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeType.String, S = Encoding.UTF8.GetBytes(value) };
    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeType.Tensor, T = value };

    public static AttributeProto StringList(string name, params string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Strings };
        foreach (var v in values) a.Strings.Add(Encoding.UTF8.GetBytes(v));
        return a;
    }

    public static AttributeProto IntList(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto FloatList(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    internal static AttributeProto Read(WireReader r)
    {
        var m = new AttributeProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Name = r.ReadString("name"); break;
                case 2: m.F = r.ReadFloat("f"); break;
                case 3: m.I = r.ReadInt64("i"); break;
                case 4: m.S = r.ReadBytes("s"); break;
                case 5: m.T = TensorProto.Read(r.ReadMessage("t", "tensor"), m.T); break;
                case 6: m.G = GraphProto.Read(r.ReadMessage("g", "graph"), m.G); break;
                case 7: r.ReadRepeatedFloat("floats", m.Floats); break;
                case 8: r.ReadRepeatedInt64("ints", m.Ints); break;
                case 9: m.Strings.Add(r.ReadBytes("strings")); break;
                case 10: m.Tensors.Add(TensorProto.Read(r.ReadMessage("tensors", $"tensors[{m.Tensors.Count}]"))); break;
                case 11: m.Graphs.Add(GraphProto.Read(r.ReadMessage("graphs", $"graphs[{m.Graphs.Count}]"))); break;
                case 13: m.DocString = r.ReadString("doc_string"); break;
                case 20: m.Type = (AttributeType)r.ReadInt32("type"); break;
                case 21: m.RefAttrName = r.ReadString("ref_attr_name"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeString(1, Name) + (BitConverter.SingleToInt32Bits(F) == 0 ? 0 : Tag(2) + 4) + SizeInt64(3, I)
        + (S is null ? 0 : SizeLengthDelimited(4, S.Length)) + SizeMessage(5, T) + SizeMessage(6, G)
        + SizeUnpackedFloat(7, Floats) + SizeUnpackedInt64(8, Ints) + SizeBytesList(9, Strings)
        + SizeMessages(10, Tensors) + SizeMessages(11, Graphs) + SizeString(13, DocString)
        + SizeInt64(20, (int)Type) + SizeString(21, RefAttrName) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteString(o, 1, Name);
        if (BitConverter.SingleToInt32Bits(F) != 0) { o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(F); }
        WriteInt64(o, 3, I);
        if (S is not null) WriteBytes(o, 4, S);
        WriteMessage(o, 5, T);
        WriteMessage(o, 6, G);
        WriteUnpackedFloat(o, 7, Floats);
        WriteUnpackedInt64(o, 8, Ints);
        WriteBytesList(o, 9, Strings);
        WriteMessages(o, 10, Tensors);
        WriteMessages(o, 11, Graphs);
        WriteString(o, 13, DocString);
        WriteInt64(o, 20, (int)Type);
        WriteString(o, 21, RefAttrName);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(AttributeProto? other) =>
        other is not null && Name == other.Name && RefAttrName == other.RefAttrName && DocString == other.DocString
        && Type == other.Type && SameBits(F, other.F) && I == other.I && Same(S, other.S)
        && Same(T, other.T, (a, b) => a.ContentEquals(b)) && Same(G, other.G, (a, b) => a.ContentEquals(b))
        && SameBits(Floats, other.Floats) && Same(Ints, other.Ints) && Same(Strings, other.Strings)
        && SameMessages(Tensors, other.Tensors, (a, b) => a.ContentEquals(b))
        && SameMessages(Graphs, other.Graphs, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{Name}: {Type}";
}

/// <summary>onnx.AttributeProto.AttributeType.</summary>
public enum AttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}
