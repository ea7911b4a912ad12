using Google.Protobuf;
using Lacuna.Onnx.Wire;

namespace Lacuna.Onnx;

/// <summary>
/// Entry points from bytes to messages and back. Parsing never trusts the input: every failure is a
/// <see cref="LacunaFormatException"/> naming where (message path, field, byte offset).
/// </summary>
public static class OnnxSerializer
{
    /// <summary>Parses a serialized onnx.ModelProto.</summary>
    public static ModelProto ParseModel(ReadOnlySpan<byte> bytes) => ParseModel(bytes.ToArray(), "model");

    /// <summary>Parses a serialized onnx.TensorProto (the .pb files of ONNX test data sets).</summary>
    public static TensorProto ParseTensor(ReadOnlySpan<byte> bytes) => ParseTensor(bytes.ToArray(), "tensor");

    /// <summary>Reads a TensorProto file.</summary>
    public static TensorProto LoadTensor(string path) =>
        ParseTensor(ReadWholeFile(path), $"tensor file '{Path.GetFileName(path)}'");

    internal static ModelProto ParseModel(byte[] buffer, string label) => Parse(buffer, label, r => ModelProto.Read(r));

    internal static TensorProto ParseTensor(byte[] buffer, string label) => Parse(buffer, label, r => TensorProto.Read(r));

    private static T Parse<T>(byte[] buffer, string label, Func<WireReader, T> read)
    {
        try
        {
            return read(WireReader.ForRoot(buffer, label));
        }
        catch (InvalidProtocolBufferException e)
        {
            // WireReader wraps each primitive with its location; this is the backstop for anything it missed.
            throw new LacunaFormatException(label, "malformed protobuf: " + e.Message);
        }
    }

    /// <summary>The exact wire bytes of <paramref name="message"/>.</summary>
    public static byte[] ToBytes(OnnxMessage message)
    {
        int size = WireIO.CheckedInt(message.CalculateSize());
        var bytes = new byte[size];
        var output = new CodedOutputStream(bytes);
        message.WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    /// <summary>Writes the wire bytes of <paramref name="message"/> to <paramref name="stream"/> (left open).</summary>
    public static void WriteTo(OnnxMessage message, Stream stream)
    {
        WireIO.CheckedInt(message.CalculateSize());
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        message.WriteTo(output);
        output.Flush();
    }

    /// <summary>Reads a file that must fit in one protobuf message (at most 2 GiB).</summary>
    internal static byte[] ReadWholeFile(string path)
    {
        if (Directory.Exists(path))
            throw new IOException($"'{path}' is a directory; give the .onnx (or .pb) file inside it.");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (fs.Length > int.MaxValue)
            ThrowHelper.Format($"'{path}'", $"is {fs.Length} bytes; a protobuf message cannot exceed 2 GiB (large weights belong in external data).");
        var bytes = new byte[fs.Length];
        fs.ReadExactly(bytes);
        return bytes;
    }
}
