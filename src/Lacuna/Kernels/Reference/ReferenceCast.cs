namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX Cast to the narrow float types, kept as float32 values (the engine's one float type).
/// BFLOAT16: the float32 value truncated to its top 16 bits (rounded toward zero), as the ONNX reference evaluator
/// (op_cast: float32_to_bfloat16 with truncate=True) and the backend node tests define it; NaN stays NaN.
/// FLOAT16: rounded to the nearest half-precision value, ties to even, overflow to ±infinity (IEEE 754).
/// </summary>
public static class ReferenceCast
{
    public static float ToBFloat16(float x) =>
        float.IsNaN(x) ? float.NaN : BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFF0000u);

    /// <summary>x rounded to IEEE half precision (11 significant bits, subnormals below 2^-14), by the BCL's correctly rounded conversion.</summary>
    public static float ToHalf(float x) => (float)(Half)x;
}
