using Google.Protobuf;
using Lacuna.Onnx.Wire;
using static Lacuna.Onnx.Wire.WireIO;

namespace Lacuna.Onnx;

/// <summary>
/// onnx.TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, string_data = 6, int64_data = 7,
/// name = 8, raw_data = 9, double_data = 10, uint64_data = 11, doc_string = 12, external_data = 13,
/// data_location = 14. (segment = 3 and newer fields stay in <see cref="OnnxMessage.UnknownFields"/>.)
/// Values live in exactly one place: raw_data (little-endian, element size per type), the typed list that
/// onnx.proto assigns to the data type, or an external file (see <see cref="TensorProtoData"/>).
/// </summary>
public sealed class TensorProto : OnnxMessage
{
    /// <summary>The most elements a tensor may have: Lacuna addresses tensors with int.</summary>
    public const long MaxElements = int.MaxValue;

    public List<long> Dims { get; } = [];
    public TensorDataType DataType { get; set; }
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    public List<float> FloatData { get; } = [];
    public List<int> Int32Data { get; } = [];
    public List<byte[]> StringData { get; } = [];
    public List<long> Int64Data { get; } = [];
    public List<double> DoubleData { get; } = [];
    public List<ulong> UInt64Data { get; } = [];

    /// <summary>Values as little-endian bytes, or null when absent (an empty array is present-but-empty).</summary>
    public byte[]? RawData { get; set; }

    /// <summary>For <see cref="TensorDataLocation.External"/>: keys "location", "offset", "length", "checksum".</summary>
    public List<StringStringEntryProto> ExternalData { get; } = [];
    public TensorDataLocation DataLocation { get; set; }

    internal override string? DisplayName => Name;

    /// <summary>A FLOAT tensor with its values in raw_data (the form every ONNX engine reads fastest).</summary>
    public static TensorProto FromFloats(string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> values)
    {
        var t = new TensorProto { Name = name, DataType = TensorDataType.Float };
        t.Dims.AddRange(dims);
        long count = t.GetElementCount();
        if (count != values.Length)
            ThrowHelper.Shape(nameof(values), $"tensor '{name}': dims [{string.Join(", ", t.Dims)}] need {count} values but {values.Length} were given.");
        var raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
        t.RawData = raw;
        return t;
    }

    /// <summary>An INT64 tensor (shapes, axes) with its values in raw_data.</summary>
    public static TensorProto FromInt64s(string name, ReadOnlySpan<long> dims, ReadOnlySpan<long> values)
    {
        var t = new TensorProto { Name = name, DataType = TensorDataType.Int64 };
        t.Dims.AddRange(dims);
        long count = t.GetElementCount();
        if (count != values.Length)
            ThrowHelper.Shape(nameof(values), $"tensor '{name}': dims [{string.Join(", ", t.Dims)}] need {count} values but {values.Length} were given.");
        var raw = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
        t.RawData = raw;
        return t;
    }

    /// <summary>Product of <see cref="Dims"/>; throws <see cref="LacunaFormatException"/> when a dim is negative or the product exceeds <see cref="MaxElements"/>.</summary>
    public long GetElementCount()
    {
        if (DimsError(out long count) is string error) ThrowHelper.Format($"tensor '{Name}'", error);
        return count;
    }

    /// <summary>Where the values are stored (raw_data wins over typed lists, as in ONNX Runtime).</summary>
    public TensorStorage Storage =>
        DataLocation == TensorDataLocation.External ? TensorStorage.External
        : RawData is not null ? TensorStorage.RawData
        : FloatData.Count > 0 ? TensorStorage.FloatData
        : Int32Data.Count > 0 ? TensorStorage.Int32Data
        : StringData.Count > 0 ? TensorStorage.StringData
        : Int64Data.Count > 0 ? TensorStorage.Int64Data
        : DoubleData.Count > 0 ? TensorStorage.DoubleData
        : UInt64Data.Count > 0 ? TensorStorage.UInt64Data
        : TensorStorage.None;

    private string? DimsError(out long count)
    {
        count = 1;
        bool hasZero = false;
        for (int i = 0; i < Dims.Count; i++)
        {
            long d = Dims[i];
            if (d < 0) return $"dims[{i}] = {d} is negative (dims [{string.Join(", ", Dims)}]).";
            if (d > MaxElements) return $"dims[{i}] = {d} exceeds {MaxElements} elements.";
            if (d == 0) hasZero = true;
        }
        if (hasZero) { count = 0; return null; }
        foreach (long d in Dims)
        {
            count *= d; // both factors <= 2^31-1, so no overflow before the check
            if (count > MaxElements) return $"dims [{string.Join(", ", Dims)}] describe more than {MaxElements} elements.";
        }
        return null;
    }

    /// <summary>
    /// Checks dims and that the stored element count matches them; null when consistent. External data is
    /// checked when it is read. Data types this reader does not know are only checked for their dims.
    /// </summary>
    internal string? LayoutError()
    {
        if (DimsError(out long count) is string dimsError) return dimsError;
        var storage = Storage;
        if (storage == TensorStorage.External) return null;
        string shape = $"dims [{string.Join(", ", Dims)}] of {DataType}";
        if (storage == TensorStorage.RawData)
        {
            if (DataType == TensorDataType.String) return "a STRING tensor cannot use raw_data.";
            int size = TensorDataTypes.ElementSize(DataType);
            if (size > 0 && RawData!.Length != count * size)
                return $"raw_data has {RawData.Length} bytes but {shape} need {count * size}.";
            return null;
        }
        var (field, perElement) = TensorDataTypes.TypedStorage(DataType);
        if (field == TensorStorage.None) return null;
        if (storage != TensorStorage.None && storage != field)
            return $"values are stored in {storage} but {DataType} belongs in {field}.";
        long stored = field switch
        {
            TensorStorage.FloatData => FloatData.Count,
            TensorStorage.Int32Data => Int32Data.Count,
            TensorStorage.StringData => StringData.Count,
            TensorStorage.Int64Data => Int64Data.Count,
            TensorStorage.DoubleData => DoubleData.Count,
            _ => UInt64Data.Count,
        };
        if (stored != count * perElement)
            return $"{field} has {stored} entries but {shape} need {count * perElement}.";
        return null;
    }

    internal static TensorProto Read(WireReader r, TensorProto? mergeInto = null)
    {
        var m = mergeInto ?? new TensorProto();
        r.Message = m;
        while (r.NextField())
        {
            switch (r.FieldNumber)
            {
                case 1: r.ReadRepeatedInt64("dims", m.Dims); break;
                case 2: m.DataType = (TensorDataType)r.ReadInt32("data_type"); break;
                case 4: r.ReadRepeatedFloat("float_data", m.FloatData); break;
                case 5: r.ReadRepeatedInt32("int32_data", m.Int32Data); break;
                case 6: m.StringData.Add(r.ReadBytes("string_data")); break;
                case 7: r.ReadRepeatedInt64("int64_data", m.Int64Data); break;
                case 8: m.Name = r.ReadString("name"); break;
                case 9: m.RawData = r.ReadBytes("raw_data"); break;
                case 10: r.ReadRepeatedDouble("double_data", m.DoubleData); break;
                case 11: r.ReadRepeatedUInt64("uint64_data", m.UInt64Data); break;
                case 12: m.DocString = r.ReadString("doc_string"); break;
                case 13: m.ExternalData.Add(StringStringEntryProto.Read(r.ReadMessage("external_data", $"external_data[{m.ExternalData.Count}]"))); break;
                case 14: m.DataLocation = (TensorDataLocation)r.ReadInt32("data_location"); break;
                default: r.SkipUnknown(m.UnknownFields); break;
            }
        }
        if (m.LayoutError() is string error) throw r.Fail(error);
        return m;
    }

    internal override long CalculateSize() =>
        SizeUnpackedInt64(1, Dims) + SizeInt64(2, (int)DataType)
        + SizePacked(4, 4L * FloatData.Count) + SizePacked(5, PackedPayloadInt32(Int32Data))
        + SizeBytesList(6, StringData) + SizePacked(7, PackedPayloadInt64(Int64Data))
        + SizeString(8, Name) + (RawData is null ? 0 : SizeLengthDelimited(9, RawData.Length))
        + SizePacked(10, 8L * DoubleData.Count) + SizePacked(11, PackedPayloadUInt64(UInt64Data))
        + SizeString(12, DocString) + SizeMessages(13, ExternalData) + SizeInt64(14, (int)DataLocation)
        + UnknownFields.CalculateSize();

    internal override void WriteTo(CodedOutputStream o)
    {
        WriteUnpackedInt64(o, 1, Dims);
        WriteInt64(o, 2, (int)DataType);
        WritePackedFloat(o, 4, FloatData);
        WritePackedInt32(o, 5, Int32Data);
        WriteBytesList(o, 6, StringData);
        WritePackedInt64(o, 7, Int64Data);
        WriteString(o, 8, Name);
        if (RawData is not null) WriteBytes(o, 9, RawData);
        WritePackedDouble(o, 10, DoubleData);
        WritePackedUInt64(o, 11, UInt64Data);
        WriteString(o, 12, DocString);
        WriteMessages(o, 13, ExternalData);
        WriteInt64(o, 14, (int)DataLocation);
        UnknownFields.WriteTo(o);
    }

    public bool ContentEquals(TensorProto? other) =>
        other is not null && Same(Dims, other.Dims) && DataType == other.DataType && Name == other.Name
        && DocString == other.DocString && SameBits(FloatData, other.FloatData) && Same(Int32Data, other.Int32Data)
        && Same(StringData, other.StringData) && Same(Int64Data, other.Int64Data)
        && SameBits(DoubleData, other.DoubleData) && Same(UInt64Data, other.UInt64Data)
        && Same(RawData, other.RawData) && SameMessages(ExternalData, other.ExternalData, (a, b) => a.ContentEquals(b))
        && DataLocation == other.DataLocation && UnknownFields.ContentEquals(other.UnknownFields);

    public override string ToString() => $"{Name}: {DataType}[{string.Join(", ", Dims)}] ({Storage})";
}

/// <summary>onnx.TensorProto.DataLocation.</summary>
public enum TensorDataLocation
{
    Default = 0,
    External = 1,
}
