namespace Lacuna.Onnx;

/// <summary>onnx.TensorProto.DataType. Values outside this list (newer ONNX types) are kept as their number.</summary>
public enum TensorDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>Facts about <see cref="TensorDataType"/> that readers need.</summary>
public static class TensorDataTypes
{
    /// <summary>Bytes per element in raw_data (little-endian), or 0 for STRING and types this reader does not know.</summary>
    public static int ElementSize(TensorDataType t) => t switch
    {
        TensorDataType.Float or TensorDataType.Int32 or TensorDataType.UInt32 => 4,
        TensorDataType.UInt8 or TensorDataType.Int8 or TensorDataType.Bool => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.Float16 or TensorDataType.BFloat16 => 2,
        TensorDataType.Int64 or TensorDataType.UInt64 or TensorDataType.Double or TensorDataType.Complex64 => 8,
        TensorDataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>
    /// Which typed repeated field of TensorProto holds values of <paramref name="t"/> when raw_data is not used,
    /// and how many entries one element takes (2 for complex: real, imaginary). Per onnx.proto's comments.
    /// </summary>
    internal static (TensorStorage Field, int PerElement) TypedStorage(TensorDataType t) => t switch
    {
        TensorDataType.Float => (TensorStorage.FloatData, 1),
        TensorDataType.Complex64 => (TensorStorage.FloatData, 2),
        TensorDataType.Int32 or TensorDataType.Int16 or TensorDataType.Int8 or TensorDataType.UInt16
            or TensorDataType.UInt8 or TensorDataType.Bool or TensorDataType.Float16 or TensorDataType.BFloat16
            => (TensorStorage.Int32Data, 1),
        TensorDataType.String => (TensorStorage.StringData, 1),
        TensorDataType.Int64 => (TensorStorage.Int64Data, 1),
        TensorDataType.Double => (TensorStorage.DoubleData, 1),
        TensorDataType.Complex128 => (TensorStorage.DoubleData, 2),
        TensorDataType.UInt32 or TensorDataType.UInt64 => (TensorStorage.UInt64Data, 1),
        _ => (TensorStorage.None, 0),
    };
}

/// <summary>Where a TensorProto's values are stored.</summary>
public enum TensorStorage
{
    None,
    FloatData,
    Int32Data,
    StringData,
    Int64Data,
    DoubleData,
    UInt64Data,
    RawData,
    External,
}
