using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// ONNX Cast to FLOAT16 and BFLOAT16 on float32 tensors: each value narrowed to the type and kept as float32,
/// with the contract of <see cref="Reference.ReferenceCast"/>. bf16 is the top half of the bits (ONNX truncates),
/// 16, 8 or 4 lanes a step by tier; a NaN gets its quiet bit set first, so one whose payload lies only in the low half
/// stays NaN instead of becoming infinity. Half goes through the BCL's vectorized conversions (round to nearest even).
/// </summary>
public static class CastKernels
{
    public static void ToBFloat16(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) ThrowHelper.Shape(nameof(y), $"Cast output has {y.Length} elements; the input has {x.Length}.");
        int n = x.Length, i = 0;
        ref uint xs = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(x));
        ref uint ys = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(y));
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Round(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Round(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4) Round(Vector128.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ys, i) = Round(Unsafe.Add(ref xs, i));
    }

    public static void ToHalf(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) ThrowHelper.Shape(nameof(y), $"Cast output has {y.Length} elements; the input has {x.Length}.");
        Span<Half> buffer = stackalloc Half[256];
        for (int i = 0; i < x.Length; i += buffer.Length)
        {
            int count = Math.Min(buffer.Length, x.Length - i);
            TensorPrimitives.ConvertToHalf(x.Slice(i, count), buffer);
            TensorPrimitives.ConvertToSingle(buffer[..count], y.Slice(i, count));
        }
    }

    private const uint Magnitude = 0x7FFFFFFFu, Infinity = 0x7F800000u, QuietBit = 0x00400000u, High = 0xFFFF0000u;

    private static uint Round(uint bits) => ((bits & Magnitude) > Infinity ? bits | QuietBit : bits) & High;

    private static Vector512<uint> Round(Vector512<uint> bits)
    {
        var nan = Vector512.GreaterThan(bits & Vector512.Create(Magnitude), Vector512.Create(Infinity));
        return (bits | (nan & Vector512.Create(QuietBit))) & Vector512.Create(High);
    }

    private static Vector256<uint> Round(Vector256<uint> bits)
    {
        var nan = Vector256.GreaterThan(bits & Vector256.Create(Magnitude), Vector256.Create(Infinity));
        return (bits | (nan & Vector256.Create(QuietBit))) & Vector256.Create(High);
    }

    private static Vector128<uint> Round(Vector128<uint> bits)
    {
        var nan = Vector128.GreaterThan(bits & Vector128.Create(Magnitude), Vector128.Create(Infinity));
        return (bits | (nan & Vector128.Create(QuietBit))) & Vector128.Create(High);
    }
}
