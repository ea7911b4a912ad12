using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>onnx.OperatorSetIdProto: domain = 1 ("" is the default ai.onnx domain), version = 2.</summary>
public sealed class OperatorSetIdProto : OnnxMessage
{
    public string Domain { get; set; } = "";
    public long Version { get; set; }

    public OperatorSetIdProto() { }

    public OperatorSetIdProto(string domain, long version) { Domain = domain; Version = version; }

    internal override string? DisplayName => Domain.Length == 0 ? "ai.onnx" : Domain;

    internal static OperatorSetIdProto Read(WireReader r)
    {
        var m = new OperatorSetIdProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Domain = r.ReadString("domain"); break;
                case 2: m.Version = r.ReadInt64("version"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeString(1, Domain) + SizeInt64(2, Version) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteString(o, 1, Domain);
        WriteInt64(o, 2, Version);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(OperatorSetIdProto? other) =>
        other is not null && Domain == other.Domain && Version == other.Version && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{DisplayName} v{Version}";
}
