using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using static Google.Protobuf.WireFormat;

namespace Lacuna.Onnx.Wire;

/// <summary>
/// Reads one protobuf message occupying bytes [<see cref="Start"/>, end) of a shared buffer.
/// Google.Protobuf's <see cref="CodedInputStream"/> decodes tags, varints and fixed-width values; this class adds
/// what hostile input needs and the public stream API lacks (it has no public PushLimit): every length prefix is
/// checked against the bytes left in the enclosing message BEFORE anything is allocated, known fields must carry
/// their declared wire type, strings must be valid UTF-8, nesting is bounded, and every failure is a
/// <see cref="LacunaFormatException"/> naming the path (graph › node › attribute), the field and the byte offset.
/// A length-delimited field is consumed by re-seating the stream after its payload, so nested messages are
/// read in place without copying.
/// </summary>
internal sealed class WireReader
{
    /// <summary>Most nested messages accepted (model › graph › node › attribute › graph … is 3 per subgraph level).</summary>
    public const int MaxDepth = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer;
    private readonly int _end;
    private readonly WireReader? _parent;
    private readonly string _label;
    private CodedInputStream _input;
    private int _tagOffset;
    private uint _tag;

    private WireReader(byte[] buffer, int start, int end, int depth, WireReader? parent, string label)
    {
        _buffer = buffer;
        Start = start;
        _end = end;
        Depth = depth;
        _parent = parent;
        _label = label;
        _input = new CodedInputStream(buffer, start, end - start);
    }

    /// <summary>A reader for a top-level message spanning the whole buffer.</summary>
    public static WireReader ForRoot(byte[] buffer, string label) => new(buffer, 0, buffer.Length, 0, null, label);

    /// <summary>Absolute offset of this message's first byte.</summary>
    public int Start { get; }

    public int Depth { get; }

    /// <summary>The message being filled; its display name (if any was read yet) goes into error paths.</summary>
    public OnnxMessage? Message { get; set; }

    public int FieldNumber => GetTagFieldNumber(_tag);

    private int Position => (int)_input.Position;

    /// <summary>Advances to the next field; false at the end of this message.</summary>
    public bool NextField()
    {
        _tagOffset = Position;
        try { _tag = _input.ReadTag(); }
        catch (InvalidProtocolBufferException e) { throw Fail("tag", _tagOffset, e.Message); }
        if (_tag == 0) return false;
        var wt = GetTagWireType(_tag);
        if ((int)wt > 5) throw Fail("tag", _tagOffset, $"invalid wire type {(int)wt} for field #{FieldNumber}.");
        if (wt == WireType.EndGroup) throw Fail("tag", _tagOffset, $"end-group tag for field #{FieldNumber} without a start-group.");
        return true;
    }

    // ---- scalars -------------------------------------------------------------------------------------------

    public long ReadInt64(string field)
    {
        Expect(field, WireType.Varint);
        try { return _input.ReadInt64(); }
        catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
    }

    public int ReadInt32(string field)
    {
        Expect(field, WireType.Varint);
        try { return _input.ReadInt32(); }
        catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
    }

    public float ReadFloat(string field)
    {
        Expect(field, WireType.Fixed32);
        try { return _input.ReadFloat(); }
        catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
    }

    public string ReadString(string field)
    {
        var (offset, length) = ReadPayload(field);
        try { return StrictUtf8.GetString(_buffer, offset, length); }
        catch (DecoderFallbackException) { throw Fail(field, _tagOffset, "is not valid UTF-8."); }
    }

    public byte[] ReadBytes(string field)
    {
        var (offset, length) = ReadPayload(field);
        return _buffer.AsSpan(offset, length).ToArray();
    }

    /// <summary>A reader for the embedded message in the current field, one level deeper.</summary>
    public WireReader ReadMessage(string field, string label)
    {
        int tagOffset = _tagOffset;
        var (offset, length) = ReadPayload(field);
        if (Depth + 1 > MaxDepth)
            throw Fail(field, tagOffset, $"messages nest deeper than {MaxDepth} levels.");
        return new WireReader(_buffer, offset, offset + length, Depth + 1, this, label);
    }

    // ---- repeated scalars: packed (one length-delimited run) or one element per tag --------------------------

    public void ReadRepeatedInt64(string field, List<long> dst)
    {
        if (WireTypeOf != WireType.LengthDelimited) { dst.Add(ReadInt64(field)); return; }
        ReadPackedVarints(field, s => dst.Add(s.ReadInt64()));
    }

    public void ReadRepeatedInt32(string field, List<int> dst)
    {
        if (WireTypeOf != WireType.LengthDelimited) { dst.Add(ReadInt32(field)); return; }
        ReadPackedVarints(field, s => dst.Add(s.ReadInt32()));
    }

    public void ReadRepeatedUInt64(string field, List<ulong> dst)
    {
        if (WireTypeOf != WireType.LengthDelimited)
        {
            Expect(field, WireType.Varint);
            try { dst.Add(_input.ReadUInt64()); }
            catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
            return;
        }
        ReadPackedVarints(field, s => dst.Add(s.ReadUInt64()));
    }

    public void ReadRepeatedFloat(string field, List<float> dst)
    {
        if (WireTypeOf != WireType.LengthDelimited) { dst.Add(ReadFloat(field)); return; }
        var (offset, length) = ReadPayload(field);
        if (length % 4 != 0) throw Fail(field, _tagOffset, $"packed length {length} is not a multiple of 4.");
        dst.EnsureCapacity(dst.Count + length / 4);
        for (int p = offset; p < offset + length; p += 4)
            dst.Add(BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(p, 4)));
    }

    public void ReadRepeatedDouble(string field, List<double> dst)
    {
        if (WireTypeOf != WireType.LengthDelimited)
        {
            Expect(field, WireType.Fixed64);
            try { dst.Add(_input.ReadDouble()); }
            catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
            return;
        }
        var (offset, length) = ReadPayload(field);
        if (length % 8 != 0) throw Fail(field, _tagOffset, $"packed length {length} is not a multiple of 8.");
        dst.EnsureCapacity(dst.Count + length / 8);
        for (int p = offset; p < offset + length; p += 8)
            dst.Add(BinaryPrimitives.ReadDoubleLittleEndian(_buffer.AsSpan(p, 8)));
    }

    // ---- unknown fields --------------------------------------------------------------------------------------

    /// <summary>Skips the current field (any wire type, groups included) and keeps its exact bytes, tag included.</summary>
    public void SkipUnknown(UnknownFieldList set)
    {
        try { _input.SkipLastField(); }
        catch (InvalidProtocolBufferException e) { throw Fail($"unknown field #{FieldNumber}", _tagOffset, e.Message); }
        set.Add(_buffer.AsSpan(_tagOffset, Position - _tagOffset).ToArray());
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    /// <summary>An error about this message as a whole (e.g. a tensor whose dims disagree with its data).</summary>
    public LacunaFormatException Fail(string message) => new(Where(null, Start), message);

    public LacunaFormatException Fail(string field, int offset, string message) => new(Where(field, offset), message);

    /// <summary>Path from the root, e.g. <c>model › graph 'g' › node[3] 'conv1' › field 'input' at byte 120</c>.</summary>
    private string Where(string? field, int offset)
    {
        var parts = new List<string>();
        for (var r = this; r is not null; r = r._parent)
        {
            string? name = r.Message?.DisplayName;
            parts.Add(string.IsNullOrEmpty(name) ? r._label : $"{r._label} '{Truncate(name)}'");
        }
        parts.Reverse();
        var sb = new StringBuilder(string.Join(" › ", parts));
        if (field is not null) sb.Append($" › field '{field}'");
        sb.Append($" at byte {offset}");
        return sb.ToString();
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    // ---- internals -------------------------------------------------------------------------------------------

    private WireType WireTypeOf => GetTagWireType(_tag);

    private void Expect(string field, WireType expected)
    {
        if (WireTypeOf != expected)
            throw Fail(field, _tagOffset, $"field #{FieldNumber} has wire type {WireTypeOf}, expected {expected}.");
    }

    /// <summary>
    /// Reads a length prefix, checks the payload lies inside this message, and moves past it.
    /// Returns the payload's absolute offset and length; nothing is allocated before the check.
    /// </summary>
    private (int Offset, int Length) ReadPayload(string field)
    {
        Expect(field, WireType.LengthDelimited);
        int length;
        try { length = _input.ReadLength(); }
        catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, e.Message); }
        int offset = Position;
        int left = _end - offset;
        if (length < 0 || length > left)
            throw Fail(field, _tagOffset, $"claims {(uint)length} bytes but only {left} remain in the enclosing message.");
        _input = new CodedInputStream(_buffer, offset + length, left - length);
        return (offset, length);
    }

    private void ReadPackedVarints(string field, Action<CodedInputStream> readOne)
    {
        var (offset, length) = ReadPayload(field);
        var run = new CodedInputStream(_buffer, offset, length);
        try
        {
            while (!run.IsAtEnd) readOne(run);
        }
        catch (InvalidProtocolBufferException e) { throw Fail(field, _tagOffset, "packed run: " + e.Message); }
    }
}
