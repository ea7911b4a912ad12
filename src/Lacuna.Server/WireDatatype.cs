using System.Buffers.Binary;
using System.Text.Json;

namespace Lacuna.Server;

/// <summary>
/// The protocol's tensor datatypes this server takes and how each becomes the float the engine's inputs hold today:
/// FP32 as is; FP16 and BF16 widened exactly; INT64, INT32 and BOOL converted, refusing (400) an integer that float
/// cannot hold exactly. FP16 and BF16 travel as binary only (JSON has no half-precision numbers).
/// </summary>
public static class WireDatatype
{
    public static readonly string[] Supported = ["FP32", "FP16", "BF16", "INT64", "INT32", "BOOL"];

    /// <summary>Bytes per element in the binary-tensor extension; 0 for a datatype this server does not take.</summary>
    public static int ElementBytes(string datatype) => datatype switch
    {
        "FP32" or "INT32" => 4,
        "FP16" or "BF16" => 2,
        "INT64" => 8,
        "BOOL" => 1,
        _ => 0,
    };

    /// <summary>Converts little-endian binary elements into <paramref name="dst"/>; <paramref name="input"/> names errors.</summary>
    public static void FromBinary(string input, string datatype, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (datatype)
        {
            case "FP32":
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case "FP16":
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case "BF16":
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
            case "INT64":
                for (int i = 0; i < dst.Length; i++) dst[i] = Exact(input, i, BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]));
                break;
            case "INT32":
                for (int i = 0; i < dst.Length; i++) dst[i] = Exact(input, i, BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]));
                break;
            case "BOOL":
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = src[i] switch
                    {
                        0 => 0f,
                        1 => 1f,
                        _ => throw ProtocolException.BadRequest($"input '{input}': BOOL element {i} is byte {src[i]}; expected 0 or 1."),
                    };
                break;
            default:
                throw new InvalidOperationException($"datatype {datatype} was not checked.");
        }
    }

    /// <summary>Reads one JSON element of <paramref name="datatype"/> (checked by the caller to be JSON-capable).</summary>
    public static float FromJson(string input, string datatype, int index, JsonElement e)
    {
        switch (datatype)
        {
            case "FP32":
                if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d)) return (float)d;
                break;
            case "INT64":
            case "INT32":
                if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long l))
                {
                    if (datatype == "INT32" && l != (int)l)
                        throw ProtocolException.BadRequest($"input '{input}': element {index} ({l}) is out of the INT32 range.");
                    return Exact(input, index, l);
                }
                break;
            case "BOOL":
                if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) return e.ValueKind == JsonValueKind.True ? 1f : 0f;
                break;
        }
        string what = datatype switch { "FP32" => "a number", "BOOL" => "true or false", _ => "an integer" };
        throw ProtocolException.BadRequest($"input '{input}': element {index} is {Describe(e)}; {datatype} data needs {what}.");
    }

    private static float Exact(string input, int index, long value)
    {
        float f = value;
        if ((long)f != value || f is >= 9.223372E+18f)
            throw ProtocolException.BadRequest($"input '{input}': element {index} ({value}) is not exactly representable as FP32, which the model's input holds (integers up to 2^24 always are).");
        return f;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(e.GetString() ?? "")}\"",
        JsonValueKind.Number => $"the number {Truncate(e.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private static string Truncate(string s) => s.Length <= 32 ? s : s[..32] + "...";
}
