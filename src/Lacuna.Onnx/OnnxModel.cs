namespace Lacuna.Onnx;

/// <summary>
/// An ONNX model and the folder its external tensor data is resolved in.
/// <code>
/// var model = OnnxModel.Load("net.onnx");
/// float[] w = model.ReadFloats(model.Graph.FindInitializer("conv1.weight")!);
/// model.Save("copy.onnx");
/// </code>
/// </summary>
public sealed class OnnxModel
{
    public OnnxModel(ModelProto proto, string? baseDirectory = null)
    {
        if (proto is null) ThrowHelper.ArgumentNull(nameof(proto));
        Proto = proto;
        BaseDirectory = baseDirectory;
    }

    public ModelProto Proto { get; }

    /// <summary>The folder external data paths are relative to (the model file's folder), or null for in-memory models.</summary>
    public string? BaseDirectory { get; }

    /// <summary>The main graph; throws when the model has none.</summary>
    public GraphProto Graph => Proto.Graph ?? throw new LacunaFormatException("model", "has no graph (field 7).");

    /// <summary>Reads and parses an .onnx file; external data will be resolved in its folder.</summary>
    public static OnnxModel Load(string path)
    {
        if (path is null) ThrowHelper.ArgumentNull(nameof(path));
        var bytes = OnnxSerializer.ReadWholeFile(path);
        var proto = OnnxSerializer.ParseModel(bytes, $"model '{Path.GetFileName(path)}'");
        return new OnnxModel(proto, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses a serialized model held in memory.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string? baseDirectory = null) =>
        new(OnnxSerializer.ParseModel(bytes), baseDirectory);

    /// <summary>The model's wire bytes.</summary>
    public byte[] ToBytes() => OnnxSerializer.ToBytes(Proto);

    /// <summary>
    /// Writes the model atomically (temporary file, then rename): a failed save leaves any existing file intact.
    /// External data files are not copied; references stay relative to the new folder.
    /// </summary>
    public void Save(string path) => Save(path, wrap: null);

    internal void Save(string path, Func<Stream, Stream>? wrap)
    {
        if (path is null) ThrowHelper.ArgumentNull(nameof(path));
        // Size (and the 2 GiB limit) is checked before the temporary file is created.
        Wire.WireIO.CheckedInt(Proto.CalculateSize());
        AtomicFile.Write(path, s => OnnxSerializer.WriteTo(Proto, s), wrap);
    }

    /// <summary>The tensor's values as float (see <see cref="TensorProtoData.ToFloatArray"/>).</summary>
    public float[] ReadFloats(TensorProto tensor) => tensor.ToFloatArray(BaseDirectory);

    /// <summary>The tensor's values as long (see <see cref="TensorProtoData.ToInt64Array"/>).</summary>
    public long[] ReadInt64s(TensorProto tensor) => tensor.ToInt64Array(BaseDirectory);
}
