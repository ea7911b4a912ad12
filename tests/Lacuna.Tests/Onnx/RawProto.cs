using Google.Protobuf;
using static Google.Protobuf.WireFormat;

namespace Lacuna.Tests.Onnx;

/// <summary>Builds arbitrary (also malformed) protobuf bytes field by field, for hostile-input tests.</summary>
internal sealed class RawProto
{
    private readonly MemoryStream _ms = new();
    private readonly CodedOutputStream _o;

    public RawProto() => _o = new CodedOutputStream(_ms);

    public RawProto Varint(int field, long v) { _o.WriteTag(field, WireType.Varint); _o.WriteInt64(v); return this; }
    public RawProto Fixed32(int field, uint v) { _o.WriteTag(field, WireType.Fixed32); _o.WriteFixed32(v); return this; }
    public RawProto Fixed64(int field, ulong v) { _o.WriteTag(field, WireType.Fixed64); _o.WriteFixed64(v); return this; }
    public RawProto Bytes(int field, byte[] v) { _o.WriteTag(field, WireType.LengthDelimited); _o.WriteBytes(ByteString.CopyFrom(v)); return this; }
    public RawProto String(int field, string v) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(v));
    public RawProto Message(int field, RawProto m) => Bytes(field, m.ToArray());

    /// <summary>A length prefix that claims <paramref name="claimed"/> bytes, followed by whatever comes next.</summary>
    public RawProto LengthOnly(int field, int claimed) { _o.WriteTag(field, WireType.LengthDelimited); _o.WriteLength(claimed); return this; }

    public RawProto Tag(int field, WireType type) { _o.WriteTag(field, type); return this; }
    public RawProto Raw(params byte[] bytes) { foreach (byte b in bytes) _o.WriteRawTag(b); return this; }

    public byte[] ToArray()
    {
        _o.Flush();
        return _ms.ToArray();
    }
}
