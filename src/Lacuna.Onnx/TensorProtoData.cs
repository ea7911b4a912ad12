using System.Buffers.Binary;

namespace Lacuna.Onnx;

/// <summary>
/// Reads a <see cref="TensorProto"/>'s values whatever form they are stored in (raw_data little-endian, the typed
/// lists, or an external file), after checking the stored element count against dims. Returned arrays have
/// exactly <see cref="TensorProto.GetElementCount"/> elements, row-major.
/// </summary>
public static class TensorProtoData
{
    /// <summary>
    /// Values as float: FLOAT, FLOAT16, BFLOAT16, DOUBLE (rounded), and integer/BOOL types (converted).
    /// </summary>
    /// <param name="externalDataDirectory">The model's folder; required only for external data.</param>
    public static float[] ToFloatArray(this TensorProto tensor, string? externalDataDirectory = null)
    {
        int count = CheckedCount(tensor);
        var type = tensor.DataType;
        var result = new float[count];
        switch (tensor.Storage)
        {
            case TensorStorage.RawData:
            case TensorStorage.External:
                var raw = RawBytes(tensor, externalDataDirectory, count);
                for (int i = 0; i < count; i++) result[i] = RawToFloat(raw, i, type, tensor);
                break;
            case TensorStorage.FloatData when type == TensorDataType.Float:
                tensor.FloatData.CopyTo(result);
                break;
            case TensorStorage.Int32Data:
                for (int i = 0; i < count; i++) result[i] = Int32ToFloat(tensor.Int32Data[i], type);
                break;
            case TensorStorage.Int64Data:
                for (int i = 0; i < count; i++) result[i] = tensor.Int64Data[i];
                break;
            case TensorStorage.DoubleData when type == TensorDataType.Double:
                for (int i = 0; i < count; i++) result[i] = (float)tensor.DoubleData[i];
                break;
            case TensorStorage.UInt64Data:
                for (int i = 0; i < count; i++) result[i] = tensor.UInt64Data[i];
                break;
            case TensorStorage.None:
                break; // count is 0: CheckedCount verified the stored count
            default:
                throw Unsupported(tensor, "float");
        }
        return result;
    }

    /// <summary>Values as long: INT64, INT32, INT16, INT8, UINT64 (≤ long.MaxValue), UINT32, UINT16, UINT8, BOOL.</summary>
    /// <param name="externalDataDirectory">The model's folder; required only for external data.</param>
    public static long[] ToInt64Array(this TensorProto tensor, string? externalDataDirectory = null)
    {
        int count = CheckedCount(tensor);
        var type = tensor.DataType;
        if (!IsInteger(type)) throw Unsupported(tensor, "long");
        var result = new long[count];
        switch (tensor.Storage)
        {
            case TensorStorage.RawData:
            case TensorStorage.External:
                var raw = RawBytes(tensor, externalDataDirectory, count);
                for (int i = 0; i < count; i++) result[i] = RawToInt64(raw, i, type, tensor);
                break;
            case TensorStorage.Int32Data:
                for (int i = 0; i < count; i++) result[i] = tensor.Int32Data[i];
                break;
            case TensorStorage.Int64Data:
                tensor.Int64Data.CopyTo(result);
                break;
            case TensorStorage.UInt64Data:
                for (int i = 0; i < count; i++) result[i] = UInt64ToInt64(tensor.UInt64Data[i], tensor);
                break;
            case TensorStorage.None:
                break;
            default:
                throw Unsupported(tensor, "long");
        }
        return result;
    }

    /// <summary>
    /// The values as little-endian bytes (raw_data, or the external file's span), length = element count × element size.
    /// </summary>
    public static byte[] ReadRawBytes(this TensorProto tensor, string? externalDataDirectory = null)
    {
        int count = CheckedCount(tensor);
        if (tensor.Storage is not (TensorStorage.RawData or TensorStorage.External))
            throw new LacunaFormatException(Where(tensor), $"values are stored in {tensor.Storage}, not raw bytes.");
        return RawBytes(tensor, externalDataDirectory, count);
    }

    private static int CheckedCount(TensorProto tensor)
    {
        if (tensor is null) ThrowHelper.ArgumentNull(nameof(tensor));
        if (tensor.LayoutError() is string error) throw new LacunaFormatException(Where(tensor), error);
        return (int)tensor.GetElementCount();
    }

    private static byte[] RawBytes(TensorProto tensor, string? directory, int count)
    {
        int size = TensorDataTypes.ElementSize(tensor.DataType);
        if (size == 0) throw Unsupported(tensor, "numbers");
        long expected = (long)count * size;
        if (tensor.Storage == TensorStorage.External)
            return ExternalTensorData.Read(tensor, directory, expected);
        var raw = tensor.RawData!;
        if (raw.Length != expected)
            throw new LacunaFormatException(Where(tensor), $"raw_data has {raw.Length} bytes but {count} {tensor.DataType} elements need {expected}.");
        return raw;
    }

    private static float RawToFloat(byte[] raw, int i, TensorDataType type, TensorProto tensor) => type switch
    {
        TensorDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)),
        TensorDataType.Float16 => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2))),
        TensorDataType.BFloat16 => BFloat16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2))),
        TensorDataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8)),
        _ when IsInteger(type) => RawToInt64(raw, i, type, tensor),
        _ => throw Unsupported(tensor, "float"),
    };

    private static long RawToInt64(byte[] raw, int i, TensorDataType type, TensorProto tensor) => type switch
    {
        TensorDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8)),
        TensorDataType.UInt64 => UInt64ToInt64(BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 8)), tensor),
        TensorDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4)),
        TensorDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4)),
        TensorDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(i * 2)),
        TensorDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2)),
        TensorDataType.Int8 => (sbyte)raw[i],
        TensorDataType.UInt8 => raw[i],
        TensorDataType.Bool => raw[i] != 0 ? 1 : 0,
        _ => throw Unsupported(tensor, "long"),
    };

    /// <summary>int32_data holds FLOAT16/BFLOAT16 as their 16 bits, and small integer types and BOOL as values.</summary>
    private static float Int32ToFloat(int v, TensorDataType type) => type switch
    {
        TensorDataType.Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)v),
        TensorDataType.BFloat16 => BFloat16ToFloat((ushort)v),
        TensorDataType.Bool => v != 0 ? 1f : 0f,
        _ => v,
    };

    /// <summary>bfloat16 is the top 16 bits of a float32.</summary>
    private static float BFloat16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    private static long UInt64ToInt64(ulong v, TensorProto tensor) =>
        v <= long.MaxValue ? (long)v : throw new LacunaFormatException(Where(tensor), $"value {v} does not fit in a long.");

    private static bool IsInteger(TensorDataType t) => t is TensorDataType.Int64 or TensorDataType.Int32
        or TensorDataType.Int16 or TensorDataType.Int8 or TensorDataType.UInt64 or TensorDataType.UInt32
        or TensorDataType.UInt16 or TensorDataType.UInt8 or TensorDataType.Bool;

    private static LacunaFormatException Unsupported(TensorProto tensor, string target) =>
        new(Where(tensor), $"data type {tensor.DataType} stored in {tensor.Storage} cannot be read as {target}.");

    internal static string Where(TensorProto tensor) => $"tensor '{tensor.Name}'";
}
