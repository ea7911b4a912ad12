using System.Runtime.InteropServices;
using Google.Protobuf;
using static Google.Protobuf.WireFormat;

namespace Lacuna.Onnx.Wire;

/// <summary>
/// Size and write helpers for one field each, on <see cref="CodedOutputStream"/>. Repeated fields follow the
/// declaration in onnx.proto exactly as protoc's C++ writer does: packed where onnx.proto says [packed = true]
/// (tensor data), one tag per element elsewhere (dims, attribute ints/floats), so every ONNX reader accepts them.
/// </summary>
internal static class WireIO
{
    public static int Tag(int field) => CodedOutputStream.ComputeTagSize(field);

    public static long SizeLengthDelimited(int field, long payload) =>
        Tag(field) + CodedOutputStream.ComputeLengthSize(CheckedInt(payload)) + payload;

    public static long SizeString(int field, string value) =>
        value.Length == 0 ? 0 : Tag(field) + CodedOutputStream.ComputeStringSize(value);

    public static long SizeInt64(int field, long value) =>
        value == 0 ? 0 : Tag(field) + CodedOutputStream.ComputeInt64Size(value);

    public static long SizeMessage(int field, OnnxMessage? m) =>
        m is null ? 0 : SizeLengthDelimited(field, m.CalculateSize());

    public static long SizeMessages<T>(int field, List<T> items) where T : OnnxMessage
    {
        long size = 0;
        foreach (var m in items) size += SizeLengthDelimited(field, m.CalculateSize());
        return size;
    }

    public static long SizeStrings(int field, List<string> items)
    {
        long size = 0;
        foreach (var s in items) size += Tag(field) + CodedOutputStream.ComputeStringSize(s);
        return size;
    }

    public static long SizeBytesList(int field, List<byte[]> items)
    {
        long size = 0;
        foreach (var b in items) size += SizeLengthDelimited(field, b.Length);
        return size;
    }

    public static long SizeUnpackedInt64(int field, List<long> items)
    {
        long size = (long)Tag(field) * items.Count;
        foreach (long v in items) size += CodedOutputStream.ComputeInt64Size(v);
        return size;
    }

    public static long SizeUnpackedFloat(int field, List<float> items) => (long)(Tag(field) + 4) * items.Count;

    public static long PackedPayloadInt64(List<long> items)
    {
        long size = 0;
        foreach (long v in items) size += CodedOutputStream.ComputeInt64Size(v);
        return size;
    }

    public static long PackedPayloadInt32(List<int> items)
    {
        long size = 0;
        foreach (int v in items) size += CodedOutputStream.ComputeInt32Size(v);
        return size;
    }

    public static long PackedPayloadUInt64(List<ulong> items)
    {
        long size = 0;
        foreach (ulong v in items) size += CodedOutputStream.ComputeUInt64Size(v);
        return size;
    }

    public static long SizePacked(int field, long payload) => payload == 0 ? 0 : SizeLengthDelimited(field, payload);

    // ---- writes ----------------------------------------------------------------------------------------------

    public static void WriteString(CodedOutputStream o, int field, string value)
    {
        if (value.Length == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteString(value);
    }

    public static void WriteInt64(CodedOutputStream o, int field, long value)
    {
        if (value == 0) return;
        o.WriteTag(field, WireType.Varint);
        o.WriteInt64(value);
    }

    public static void WriteBytes(CodedOutputStream o, int field, byte[] value)
    {
        o.WriteTag(field, WireType.LengthDelimited);
        // UnsafeWrap: no copy of (possibly large) tensor bytes; the stream only reads them.
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
    }

    public static void WriteMessage(CodedOutputStream o, int field, OnnxMessage? m)
    {
        if (m is null) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(m.CalculateSize()));
        m.WriteTo(o);
    }

    public static void WriteMessages<T>(CodedOutputStream o, int field, List<T> items) where T : OnnxMessage
    {
        foreach (var m in items) WriteMessage(o, field, m);
    }

    public static void WriteStrings(CodedOutputStream o, int field, List<string> items)
    {
        foreach (var s in items)
        {
            o.WriteTag(field, WireType.LengthDelimited);
            o.WriteString(s);
        }
    }

    public static void WriteBytesList(CodedOutputStream o, int field, List<byte[]> items)
    {
        foreach (var b in items) WriteBytes(o, field, b);
    }

    public static void WriteUnpackedInt64(CodedOutputStream o, int field, List<long> items)
    {
        foreach (long v in items)
        {
            o.WriteTag(field, WireType.Varint);
            o.WriteInt64(v);
        }
    }

    public static void WriteUnpackedFloat(CodedOutputStream o, int field, List<float> items)
    {
        foreach (float v in items)
        {
            o.WriteTag(field, WireType.Fixed32);
            o.WriteFloat(v);
        }
    }

    public static void WritePackedInt64(CodedOutputStream o, int field, List<long> items)
    {
        if (items.Count == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(PackedPayloadInt64(items)));
        foreach (long v in items) o.WriteInt64(v);
    }

    public static void WritePackedInt32(CodedOutputStream o, int field, List<int> items)
    {
        if (items.Count == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(PackedPayloadInt32(items)));
        foreach (int v in items) o.WriteInt32(v);
    }

    public static void WritePackedUInt64(CodedOutputStream o, int field, List<ulong> items)
    {
        if (items.Count == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(PackedPayloadUInt64(items)));
        foreach (ulong v in items) o.WriteUInt64(v);
    }

    public static void WritePackedFloat(CodedOutputStream o, int field, List<float> items)
    {
        if (items.Count == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(4L * items.Count));
        foreach (float v in items) o.WriteFloat(v);
    }

    public static void WritePackedDouble(CodedOutputStream o, int field, List<double> items)
    {
        if (items.Count == 0) return;
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteLength(CheckedInt(8L * items.Count));
        foreach (double v in items) o.WriteDouble(v);
    }

    // ---- content comparison (bitwise for floating point, so NaN payloads and -0 round-trip visibly) --------------

    public static bool SameBits(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    public static bool SameBits(List<float> a, List<float> b) =>
        MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(a)).SequenceEqual(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(b)));

    public static bool SameBits(List<double> a, List<double> b) =>
        MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(a)).SequenceEqual(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(b)));

    public static bool Same<T>(List<T> a, List<T> b) where T : IEquatable<T> =>
        CollectionsMarshal.AsSpan(a).SequenceEqual(CollectionsMarshal.AsSpan(b));

    public static bool Same(List<byte[]> a, List<byte[]> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!a[i].AsSpan().SequenceEqual(b[i])) return false;
        return true;
    }

    public static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    public static bool Same<T>(T? a, T? b, Func<T, T, bool> eq) where T : class =>
        a is null ? b is null : b is not null && eq(a, b);

    public static bool SameMessages<T>(List<T> a, List<T> b, Func<T, T, bool> eq)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!eq(a[i], b[i])) return false;
        return true;
    }

    /// <summary>Protobuf lengths are 32-bit: a message over 2 GiB cannot be written (use external data).</summary>
    public static int CheckedInt(long size)
    {
        if (size > int.MaxValue)
            ThrowHelper.Format("ONNX writer", $"a message of {size} bytes exceeds the 2 GiB protobuf limit; store large tensors as external data.");
        return (int)size;
    }
}
