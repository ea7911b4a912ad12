using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// The bf16 panel of X that the bf16-activation tiles read (<see cref="SpmmPrecision.BFloat16Activations"/>). A tile
/// of V vectors of L lanes covers V·L columns; the panel stores them as pairs of vectors: pair k (vectors 2k and
/// 2k+1, columns [2kL, 2kL + 2L)) is L 32-bit lanes at ushort offset 2kL of the row, lane j holding column 2kL + j
/// in its low half and column 2kL + L + j in its high half. One load of a pair then widens to fp32 with one shift
/// (low halves, vector 2k) and one AND (high halves, vector 2k+1): a single ALU op per vector, where widening a
/// plain bf16 row takes a zero-extending shuffle and a shift. Rows are <see cref="Stride"/> ushorts apart, a whole
/// number of pairs, so every pair load is aligned (an odd V leaves the last pair's high halves zero); columns past
/// the valid ones are zero.
/// <para>Converting while packing costs one pass over the window's X per K block; every X row is then read by all
/// the non-zeros of its column of W. AVX512_BF16 (vcvtne2ps2bf16, vdpbf16ps) is not used: .NET 10 exposes no
/// intrinsics for it on this CPU (only through AVX10, which Zen 4 lacks), and vdpbf16ps's pairwise dot product
/// would need a second, zero weight in each pair (a broadcast weight multiplies one X column, not two), so it
/// would save only the widening op while rounding the weights to bf16 and flushing denormals.</para>
/// </summary>
internal static unsafe class SpmmBf16Panel
{
    /// <summary>Ushorts per panel row for a tile of <paramref name="width"/> columns in vectors of <paramref name="lanes"/>.</summary>
    public static int Stride(int width, int lanes) => (width + 2 * lanes - 1) / (2 * lanes) * (2 * lanes);

    /// <summary>Packs X[k0..k1, g..g+valid) into panel rows of <see cref="Stride"/> ushorts, rounding to bf16.</summary>
    public static void Pack(float* x, int n, int g, int valid, int width, int lanes, ushort* panel, int k0, int k1)
    {
        int stride = Stride(width, lanes), pair = 2 * lanes;
        for (int r = k0; r < k1; r++)
        {
            float* src = x + (long)r * n + g;
            uint* dst = (uint*)(panel + (long)(r - k0) * stride);
            int c = 0;
            // Whole pairs inside the valid columns, vectorized over the lanes.
            for (; c + pair <= valid; c += pair, dst += lanes)
            {
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; j + 16 <= lanes; j += 16)
                        Vector512.Store(Pair(Vector512.Load(src + c + j), Vector512.Load(src + c + lanes + j)), dst + j);
                if (Vector256.IsHardwareAccelerated)
                    for (; j + 8 <= lanes; j += 8)
                        Vector256.Store(Pair(Vector256.Load(src + c + j), Vector256.Load(src + c + lanes + j)), dst + j);
                if (Vector128.IsHardwareAccelerated)
                    for (; j + 4 <= lanes; j += 4)
                        Vector128.Store(Pair(Vector128.Load(src + c + j), Vector128.Load(src + c + lanes + j)), dst + j);
                for (; j < lanes; j++)
                    dst[j] = BFloat16.FromSingle(src[c + j]) | (uint)BFloat16.FromSingle(src[c + lanes + j]) << 16;
            }
            // The pair holding the last valid column (if any), and zero pairs up to the stride.
            for (; c < stride; c += pair, dst += lanes)
                for (int j = 0; j < lanes; j++)
                {
                    int lo = c + j, hi = c + lanes + j;
                    uint a = lo < valid ? BFloat16.FromSingle(src[lo]) : 0u, b = hi < valid ? BFloat16.FromSingle(src[hi]) : 0u;
                    dst[j] = a | b << 16;
                }
        }
    }

    // Magnitudes (fp32 bits without the sign) from which rounding needs more than adding the bias: those that round
    // past the largest bf16, infinities and NaNs. Below it, nearest-even is a shift, an AND and two adds per lane;
    // the full rule (BFloat16.RoundHigh) runs only for a pair that holds one, which activations practically never do.
    private const uint SpecialFrom = 0x7F7F8000u;

    /// <summary>Lanes of <paramref name="even"/> and <paramref name="odd"/> rounded to bf16 into the low and high halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Pair(Vector512<float> even, Vector512<float> odd)
    {
        var a = even.AsUInt32();
        var b = odd.AsUInt32();
        var magnitude = Vector512.Create(0x7FFFFFFFu);
        if (Vector512.GreaterThanOrEqualAny(Vector512.Max(a & magnitude, b & magnitude), Vector512.Create(SpecialFrom)))
            return BFloat16.RoundHigh(even) >> 16 | (BFloat16.RoundHigh(odd) & Vector512.Create(0xFFFF0000u));
        var bias = Vector512.Create(0x7FFFu);
        var ra = a + bias + ((a >> 16) & Vector512<uint>.One);
        var rb = b + bias + ((b >> 16) & Vector512<uint>.One);
        return ra >> 16 | (rb & Vector512.Create(0xFFFF0000u));
    }

    /// <summary>As <see cref="Pair(Vector512{float}, Vector512{float})"/>, 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Pair(Vector256<float> even, Vector256<float> odd)
    {
        var a = even.AsUInt32();
        var b = odd.AsUInt32();
        var magnitude = Vector256.Create(0x7FFFFFFFu);
        if (Vector256.GreaterThanOrEqualAny(Vector256.Max(a & magnitude, b & magnitude), Vector256.Create(SpecialFrom)))
            return BFloat16.RoundHigh(even) >> 16 | (BFloat16.RoundHigh(odd) & Vector256.Create(0xFFFF0000u));
        var bias = Vector256.Create(0x7FFFu);
        var ra = a + bias + ((a >> 16) & Vector256<uint>.One);
        var rb = b + bias + ((b >> 16) & Vector256<uint>.One);
        return ra >> 16 | (rb & Vector256.Create(0xFFFF0000u));
    }

    /// <summary>As <see cref="Pair(Vector512{float}, Vector512{float})"/>, 4 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Pair(Vector128<float> even, Vector128<float> odd)
    {
        var a = even.AsUInt32();
        var b = odd.AsUInt32();
        var magnitude = Vector128.Create(0x7FFFFFFFu);
        if (Vector128.GreaterThanOrEqualAny(Vector128.Max(a & magnitude, b & magnitude), Vector128.Create(SpecialFrom)))
            return BFloat16.RoundHigh(even) >> 16 | (BFloat16.RoundHigh(odd) & Vector128.Create(0xFFFF0000u));
        var bias = Vector128.Create(0x7FFFu);
        var ra = a + bias + ((a >> 16) & Vector128<uint>.One);
        var rb = b + bias + ((b >> 16) & Vector128<uint>.One);
        return ra >> 16 | (rb & Vector128.Create(0xFFFF0000u));
    }
}
