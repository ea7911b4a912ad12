using System.Globalization;

namespace Lacuna.Onnx.Zoo;

/// <summary>
/// Float initializers of one zoo graph: with values, or, in a shape-only build, an external-data reference into
/// <c>{graph}.shape-only.bin</c>, a file that is never written, each at its own offset, so the model parses and
/// round-trips but reading a weight fails naming that file. Shared by every zoo builder.
/// </summary>
internal sealed class ZooInitializers(string graphName)
{
    private long _offset;

    public TensorProto Floats(string name, long[] dims, float[]? values)
    {
        if (values is not null) return TensorProto.FromFloats(name, dims, values);
        var t = new TensorProto { Name = name, DataType = TensorDataType.Float, DataLocation = TensorDataLocation.External };
        t.Dims.AddRange(dims);
        long length = t.GetElementCount() * sizeof(float);
        t.ExternalData.Add(new StringStringEntryProto("location", graphName + ".shape-only.bin"));
        t.ExternalData.Add(new StringStringEntryProto("offset", _offset.ToString(CultureInfo.InvariantCulture)));
        t.ExternalData.Add(new StringStringEntryProto("length", length.ToString(CultureInfo.InvariantCulture)));
        _offset += length;
        return t;
    }
}
