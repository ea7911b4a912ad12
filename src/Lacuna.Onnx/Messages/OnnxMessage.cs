using Google.Protobuf;


namespace Lacuna.Onnx;

/// <summary>
/// Base of the hand-written ONNX message types: each knows its wire size, how to write itself, and how to compare
/// by content. Unknown fields read from a file are kept in <see cref="UnknownFields"/> and written back.
/// </summary>
public abstract class OnnxMessage
{
    /// <summary>Fields this type does not model, kept verbatim.</summary>
    public UnknownFieldList UnknownFields { get; } = new();

    /// <summary>The name to show in error paths (node name, tensor name…), or null.</summary>
    internal virtual string? DisplayName => null;

    /// <summary>Exact serialized size in bytes (long, so callers can reject messages over the 2 GiB protobuf limit).</summary>
    internal abstract long CalculateSize();

    internal abstract void WriteTo(CodedOutputStream output);
}
