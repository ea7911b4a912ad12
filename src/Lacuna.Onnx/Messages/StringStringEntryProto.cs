using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>onnx.StringStringEntryProto: key = 1, value = 2 (metadata_props, external_data).</summary>
public sealed class StringStringEntryProto : OnnxMessage
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";

    public StringStringEntryProto() { }

    public StringStringEntryProto(string key, string value) { Key = key; Value = value; }

    internal override string? DisplayName => Key;

    internal static StringStringEntryProto Read(WireReader r)
    {
        var m = new StringStringEntryProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: m.Key = r.ReadString("key"); break;
                case 2: m.Value = r.ReadString("value"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        return m;
    }

    internal override long CalculateSize() =>
        SizeString(1, Key) + SizeString(2, Value) + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteString(o, 1, Key);
        WriteString(o, 2, Value);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(StringStringEntryProto? other) =>
        other is not null && Key == other.Key && Value == other.Value && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{Key}={Value}";
}
