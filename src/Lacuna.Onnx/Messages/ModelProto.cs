using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>
/// onnx.ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, domain = 4, model_version = 5,
/// doc_string = 6, graph = 7, opset_import = 8, metadata_props = 14. (training_info = 20 and functions = 25
/// stay in <see cref="OnnxMessage.UnknownFields"/>.)
/// </summary>
public sealed class ModelProto : OnnxMessage
{
    public long IrVersion { get; set; }
    public List<OperatorSetIdProto> OpsetImport { get; } = [];
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    public GraphProto? Graph { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    internal override string? DisplayName => null;

    internal static ModelProto Read(WireReader r)
    {
        var m = new ModelProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.IrVersion = r.ReadInt64("ir_version"); break;
                case 2: m.ProducerName = r.ReadString("producer_name"); break;
                case 3: m.ProducerVersion = r.ReadString("producer_version"); break;
                case 4: m.Domain = r.ReadString("domain"); break;
                case 5: m.ModelVersion = r.ReadInt64("model_version"); break;
                case 6: m.DocString = r.ReadString("doc_string"); break;
                case 7: m.Graph = GraphProto.Read(r.ReadMessage("graph", "graph"), m.Graph); break;
                case 8: m.OpsetImport.Add(OperatorSetIdProto.Read(r.ReadMessage("opset_import", $"opset_import[{m.OpsetImport.Count}]"))); break;
                case 14: m.MetadataProps.Add(StringStringEntryProto.Read(r.ReadMessage("metadata_props", $"metadata_props[{m.MetadataProps.Count}]"))); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeInt64(1, IrVersion) + SizeString(2, ProducerName) + SizeString(3, ProducerVersion) + SizeString(4, Domain)
        + SizeInt64(5, ModelVersion) + SizeString(6, DocString) + SizeMessage(7, Graph) + SizeMessages(8, OpsetImport)
        + SizeMessages(14, MetadataProps) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteInt64(o, 1, IrVersion);
        WriteString(o, 2, ProducerName);
        WriteString(o, 3, ProducerVersion);
        WriteString(o, 4, Domain);
        WriteInt64(o, 5, ModelVersion);
        WriteString(o, 6, DocString);
        WriteMessage(o, 7, Graph);
        WriteMessages(o, 8, OpsetImport);
        WriteMessages(o, 14, MetadataProps);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(ModelProto? other) =>
        other is not null && IrVersion == other.IrVersion && ProducerName == other.ProducerName
        && ProducerVersion == other.ProducerVersion && Domain == other.Domain && ModelVersion == other.ModelVersion
        && DocString == other.DocString && Same(Graph, other.Graph, (a, b) => a.ContentEquals(b))
        && SameMessages(OpsetImport, other.OpsetImport, (a, b) => a.ContentEquals(b))
        && SameMessages(MetadataProps, other.MetadataProps, (a, b) => a.ContentEquals(b))
        && UnknownFields.ContentEquals(other.UnknownFields);
}
