using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// A register tile of the SpMM microkernels: how many vectors (of the tier's width) of consecutive X columns one
/// pass over a sparse row accumulates. Kernels are generic over the tile, so the JIT compiles one specialized body
/// per tile with the unused accumulators removed; the registry (<see cref="SpmmKernels"/>) lists the instances.
/// </summary>
internal interface ISpmmTile
{
    static abstract int Vectors { get; }
}

internal struct Tile1 : ISpmmTile { public static int Vectors => 1; }
internal struct Tile2 : ISpmmTile { public static int Vectors => 2; }
internal struct Tile3 : ISpmmTile { public static int Vectors => 3; }
internal struct Tile4 : ISpmmTile { public static int Vectors => 4; }
internal struct Tile5 : ISpmmTile { public static int Vectors => 5; }
internal struct Tile6 : ISpmmTile { public static int Vectors => 6; }
internal struct Tile7 : ISpmmTile { public static int Vectors => 7; }
internal struct Tile8 : ISpmmTile { public static int Vectors => 8; }
internal struct Tile10 : ISpmmTile { public static int Vectors => 10; }
internal struct Tile12 : ISpmmTile { public static int Vectors => 12; }
/// <summary>Sparse conv only (SpMM stops at 12): 16 accumulators, half the 32 AVX-512 registers.</summary>
internal struct Tile16 : ISpmmTile { public static int Vectors => 16; }

/// <summary>How a kernel reads one column index: 16-bit where K ≤ 65536 (half the index stream), else 32-bit.</summary>
internal unsafe interface ISpmmIndex
{
    static abstract nint Get(void* cols, int i);

    /// <summary>Eight indices from i as int32 lanes (AVX2 only; for gathers).</summary>
    static abstract Vector256<int> Get8(void* cols, int i);
}

internal unsafe struct Index16 : ISpmmIndex
{
    public static nint Get(void* cols, int i) => ((ushort*)cols)[i];
    public static Vector256<int> Get8(void* cols, int i) => Avx2.ConvertToVector256Int32((ushort*)cols + i);
}

internal unsafe struct Index32 : ISpmmIndex
{
    public static nint Get(void* cols, int i) => ((int*)cols)[i];
    public static Vector256<int> Get8(void* cols, int i) => Avx.LoadVector256((int*)cols + i);
}

/// <summary>How a kernel reads one weight: fp32, or bf16 (the high half of the fp32 bits) widened on load.</summary>
internal unsafe interface ISpmmWeight
{
    static abstract float Get(void* values, int i);

    /// <summary>Eight weights from i widened to fp32 (AVX2 only).</summary>
    static abstract Vector256<float> Get8(void* values, int i);

    /// <summary>Weight i in every lane (AVX2 only).</summary>
    static abstract Vector256<float> Broadcast(void* values, int i);

    /// <summary>Weight i in all 16 lanes (AVX-512 only).</summary>
    static abstract Vector512<float> Broadcast16(void* values, int i);
}

internal unsafe struct WeightF32 : ISpmmWeight
{
    public static float Get(void* values, int i) => ((float*)values)[i];
    public static Vector256<float> Get8(void* values, int i) => Avx.LoadVector256((float*)values + i);
    public static Vector256<float> Broadcast(void* values, int i) => Avx.BroadcastScalarToVector256((float*)values + i);
    public static Vector512<float> Broadcast16(void* values, int i) => Vector512.Create(((float*)values)[i]);
}

internal unsafe struct WeightBf16 : ISpmmWeight
{
    public static float Get(void* values, int i) => BitConverter.Int32BitsToSingle(((ushort*)values)[i] << 16);
    public static Vector256<float> Get8(void* values, int i) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)values + i), 16).AsSingle();

    /// <summary>
    /// Broadcasts the 32 bits ending with weight i (weights i−1 and i; the array has one pad element before the first
    /// weight) and clears the low half: one load and one logic op, where widening in a general register and
    /// broadcasting from there measured 0.88x the speed of fp32 weights (DLMC rn50 0.9, 1 thread).
    /// </summary>
    public static Vector256<float> Broadcast(void* values, int i) =>
        Avx.And(Avx.BroadcastScalarToVector256((float*)((ushort*)values + i - 1)), Vector256.Create(0xFFFF0000u).AsSingle());

    /// <summary>As <see cref="Broadcast"/>, 16 lanes wide.</summary>
    public static Vector512<float> Broadcast16(void* values, int i) =>
        Vector512.BitwiseAnd(Vector512.Create(*(float*)((ushort*)values + i - 1)), Vector512.Create(0xFFFF0000u).AsSingle());
}

/// <summary>
/// Storage of the non-zero weights and of the activations X in a plan. Accumulation is always fp32. Bit 0: bf16
/// weights; bit 1: bf16 activations.
/// </summary>
public enum SpmmPrecision
{
    Float32 = 0,
    /// <summary>bfloat16 weights (8-bit exponent, 7-bit mantissa, rounded to nearest even): half the weight bytes, ~3 significant digits.</summary>
    BFloat16 = 1,
    /// <summary>
    /// fp32 weights, X rounded to bf16 (nearest even) as each block of it is packed into a per-thread panel: half the
    /// bytes of X per FMA, which bound an unstructured SpMM (<see cref="SpmmBf16Panel"/>). Products of a bf16 X are
    /// exact in fp32 only with bf16 weights; here each product is rounded once, sums are fp32. bf16 is allowed, not
    /// imposed: the plan's tuning keeps fp32 X for an N where that measured faster, and SpMV (one column) reads X in
    /// fp32 (nothing there is reused, so nothing would repay the conversion).
    /// </summary>
    BFloat16Activations = 2,
    /// <summary>Both: bf16 weights and bf16 activations (every product exact in fp32, sums fp32).</summary>
    BFloat16WeightsAndActivations = 3,
}

internal static class SpmmPrecisions
{
    public static bool HasBf16Weights(this SpmmPrecision p) => ((int)p & 1) != 0;

    public static bool HasBf16Activations(this SpmmPrecision p) => ((int)p & 2) != 0;

    /// <summary>The same weights with fp32 activations.</summary>
    public static SpmmPrecision WithFp32Activations(this SpmmPrecision p) => (SpmmPrecision)((int)p & 1);
}

internal static class BFloat16
{
    private const uint ExponentMask = 0x7F800000u, QuietBit = 0x00400000u;

    /// <summary>
    /// Rounds to the nearest bf16 (ties to even); finite inputs that would round past the largest bf16 are truncated
    /// instead; NaN stays a (quiet) NaN, where adding the rounding bias could carry it into infinity or zero.
    /// </summary>
    public static ushort FromSingle(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        uint rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
        if ((bits & 0x7FFFFFFFu) > ExponentMask) rounded = bits | QuietBit;
        else if ((rounded & ExponentMask) == ExponentMask) rounded = bits;
        return (ushort)(rounded >> 16);
    }

    public static float ToSingle(ushort b) => BitConverter.Int32BitsToSingle(b << 16);

    /// <summary>
    /// <see cref="FromSingle"/> of 16 lanes, the result in the high half of each lane (low half garbage): branch-free
    /// and bit-identical, so a panel holds exactly the values the tests round X to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> RoundHigh(Vector512<float> f)
    {
        var bits = f.AsUInt32();
        var exponent = Vector512.Create(ExponentMask);
        var rounded = bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One);
        var nan = Vector512.GreaterThan(bits & Vector512.Create(0x7FFFFFFFu), exponent);
        var keep = nan | Vector512.Equals(rounded & exponent, exponent);
        return Vector512.ConditionalSelect(keep, bits | (nan & Vector512.Create(QuietBit)), rounded);
    }

    /// <summary>As <see cref="RoundHigh(Vector512{float})"/>, 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> RoundHigh(Vector256<float> f)
    {
        var bits = f.AsUInt32();
        var exponent = Vector256.Create(ExponentMask);
        var rounded = bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One);
        var nan = Vector256.GreaterThan(bits & Vector256.Create(0x7FFFFFFFu), exponent);
        var keep = nan | Vector256.Equals(rounded & exponent, exponent);
        return Vector256.ConditionalSelect(keep, bits | (nan & Vector256.Create(QuietBit)), rounded);
    }

    /// <summary>As <see cref="RoundHigh(Vector512{float})"/>, 4 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> RoundHigh(Vector128<float> f)
    {
        var bits = f.AsUInt32();
        var exponent = Vector128.Create(ExponentMask);
        var rounded = bits + Vector128.Create(0x7FFFu) + ((bits >> 16) & Vector128<uint>.One);
        var nan = Vector128.GreaterThan(bits & Vector128.Create(0x7FFFFFFFu), exponent);
        var keep = nan | Vector128.Equals(rounded & exponent, exponent);
        return Vector128.ConditionalSelect(keep, bits | (nan & Vector128.Create(QuietBit)), rounded);
    }
}
