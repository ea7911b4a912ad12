using Google.Protobuf;

namespace Lacuna.Onnx;

/// <summary>
/// Fields a message does not model (newer ONNX fields, sparse tensors, training info, functions…), kept as
/// their exact wire bytes (tag included) in the order read, and written back verbatim after the known fields.
/// So read → write → read preserves them, and a writer never drops what a newer producer put there.
/// </summary>
public sealed class UnknownFieldList
{
    private readonly List<byte[]> _fields = [];

    public int Count => _fields.Count;

    /// <summary>The raw bytes of field <paramref name="index"/>: tag, then payload as on the wire.</summary>
    public ReadOnlySpan<byte> this[int index] => _fields[index];

    public void Clear() => _fields.Clear();

    internal void Add(byte[] rawField) => _fields.Add(rawField);

    internal long CalculateSize()
    {
        long size = 0;
        foreach (var f in _fields) size += f.Length;
        return size;
    }

    internal void WriteTo(CodedOutputStream output)
    {
        // A raw field is already tag + payload, so it goes out as raw bytes; WriteRawTag writes bytes verbatim.
        foreach (var f in _fields)
            foreach (byte b in f) output.WriteRawTag(b);
    }

    public bool ContentEquals(UnknownFieldList other)
    {
        if (_fields.Count != other._fields.Count) return false;
        for (int i = 0; i < _fields.Count; i++)
            if (!_fields[i].AsSpan().SequenceEqual(other._fields[i])) return false;
        return true;
    }
}
