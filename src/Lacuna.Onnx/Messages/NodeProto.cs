using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>onnx.NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, doc_string = 6, domain = 7.</summary>
public sealed class NodeProto : OnnxMessage
{
    /// <summary>Input value names; "" marks an omitted optional input.</summary>
    public List<string> Input { get; } = [];
    public List<string> Output { get; } = [];
    public string Name { get; set; } = "";
    public string OpType { get; set; } = "";
    public string Domain { get; set; } = "";
    public List<AttributeProto> Attribute { get; } = [];
    public string DocString { get; set; } = "";

    internal override string? DisplayName => Name.Length > 0 ? Name : OpType;

    public NodeProto() { }

    public NodeProto(string opType, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        OpType = opType;
        Name = name;
        Input.AddRange(inputs);
        Output.AddRange(outputs);
        Attribute.AddRange(attributes);
    }

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public AttributeProto? FindAttribute(string name) => Attribute.Find(a => a.Name == name);

    internal static NodeProto Read(WireReader r)
    {
        var m = new NodeProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Input.Add(r.ReadString("input")); break;
                case 2: m.Output.Add(r.ReadString("output")); break;
                case 3: m.Name = r.ReadString("name"); break;
                case 4: m.OpType = r.ReadString("op_type"); break;
                case 5: m.Attribute.Add(AttributeProto.Read(r.ReadMessage("attribute", $"attribute[{m.Attribute.Count}]"))); break;
                case 6: m.DocString = r.ReadString("doc_string"); break;
                case 7: m.Domain = r.ReadString("domain"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeStrings(1, Input) + SizeStrings(2, Output) + SizeString(3, Name) + SizeString(4, OpType)
        + SizeMessages(5, Attribute) + SizeString(6, DocString) + SizeString(7, Domain) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteStrings(o, 1, Input);
        WriteStrings(o, 2, Output);
        WriteString(o, 3, Name);
        WriteString(o, 4, OpType);
        WriteMessages(o, 5, Attribute);
        WriteString(o, 6, DocString);
        WriteString(o, 7, Domain);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(NodeProto? other) =>
        other is not null && Same(Input, other.Input) && Same(Output, other.Output) && Name == other.Name
        && OpType == other.OpType && Domain == other.Domain && DocString == other.DocString
        && SameMessages(Attribute, other.Attribute, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Input)}) -> ({string.Join(", ", Output)})";
}
