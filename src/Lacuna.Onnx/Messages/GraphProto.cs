using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>
/// onnx.GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12,
/// value_info = 13. (quantization_annotation = 14 and sparse_initializer = 15 stay in
/// <see cref="OnnxMessage.UnknownFields"/>.)
/// </summary>
public sealed class GraphProto : OnnxMessage
{
    public List<NodeProto> Node { get; } = [];
    public string Name { get; set; } = "";
    public List<TensorProto> Initializer { get; } = [];
    public string DocString { get; set; } = "";
    public List<ValueInfoProto> Input { get; } = [];
    public List<ValueInfoProto> Output { get; } = [];
    public List<ValueInfoProto> ValueInfo { get; } = [];

    internal override string? DisplayName => Name;

    /// <summary>The initializer called <paramref name="name"/>, or null.</summary>
    public TensorProto? FindInitializer(string name) => Initializer.Find(t => t.Name == name);

    internal static GraphProto Read(WireReader r, GraphProto? mergeInto = null)
    {
        var m = mergeInto ?? new GraphProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Node.Add(NodeProto.Read(r.ReadMessage("node", $"node[{m.Node.Count}]"))); break;
                case 2: m.Name = r.ReadString("name"); break;
                case 5: m.Initializer.Add(TensorProto.Read(r.ReadMessage("initializer", $"initializer[{m.Initializer.Count}]"))); break;
                case 10: m.DocString = r.ReadString("doc_string"); break;
                case 11: m.Input.Add(ValueInfoProto.Read(r.ReadMessage("input", $"input[{m.Input.Count}]"))); break;
                case 12: m.Output.Add(ValueInfoProto.Read(r.ReadMessage("output", $"output[{m.Output.Count}]"))); break;
                case 13: m.ValueInfo.Add(ValueInfoProto.Read(r.ReadMessage("value_info", $"value_info[{m.ValueInfo.Count}]"))); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeMessages(1, Node) + SizeString(2, Name) + SizeMessages(5, Initializer) + SizeString(10, DocString)
        + SizeMessages(11, Input) + SizeMessages(12, Output) + SizeMessages(13, ValueInfo) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteMessages(o, 1, Node);
        WriteString(o, 2, Name);
        WriteMessages(o, 5, Initializer);
        WriteString(o, 10, DocString);
        WriteMessages(o, 11, Input);
        WriteMessages(o, 12, Output);
        WriteMessages(o, 13, ValueInfo);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(GraphProto? other) =>
        other is not null && Name == other.Name && DocString == other.DocString
        && SameMessages(Node, other.Node, (a, b) => a.ContentEquals(b))
        && SameMessages(Initializer, other.Initializer, (a, b) => a.ContentEquals(b))
        && SameMessages(Input, other.Input, (a, b) => a.ContentEquals(b))
        && SameMessages(Output, other.Output, (a, b) => a.ContentEquals(b))
        && SameMessages(ValueInfo, other.ValueInfo, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"graph '{Name}': {Node.Count} nodes, {Initializer.Count} initializers";
}
