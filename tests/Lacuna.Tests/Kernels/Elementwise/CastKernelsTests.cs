using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Elementwise;

/// <summary>
/// <see cref="CastKernels"/> bit-exact against <see cref="ReferenceCast"/> on every length around the vector widths
/// (4, 8, 16 lanes and the scalar tail), on random values with NaN, ±Inf, ±0, subnormals, the float extremes and values
/// halfway between two narrow ones; outputs NaN-poisoned. The reference is checked on hand-written values.
/// </summary>
public class CastKernelsTests
{
    private static readonly float[] Specials =
    [
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.MaxValue, float.MinValue, float.Epsilon, -1e-40f,
        65504f, 65520f, -70000f, 6e-8f, 1.00390625f /* halfway between bf16 1 and 1.0078125 */, BitConverter.UInt32BitsToSingle(0x7F800001u) /* NaN, payload in the low half */,
    ];

    [Fact]
    public void Matches_the_reference_bit_for_bit()
    {
        foreach (int n in TestData.EdgeSizes(4, 8, 16))
        {
            var x = TestData.Random(n, (ulong)n + 1, -1000f, 1000f);
            for (int i = 0; i < n; i += 3) x[i] = Specials[(i / 3 + n) % Specials.Length];
            foreach (bool bf16 in new[] { true, false })
            {
                var expected = x.Select(v => bf16 ? ReferenceCast.ToBFloat16(v) : ReferenceCast.ToHalf(v)).ToArray();
                var actual = TestData.Poisoned(n);
                if (bf16) CastKernels.ToBFloat16(x, actual);
                else CastKernels.ToHalf(x, actual);
                for (int i = 0; i < n; i++)
                    Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                        $"{(bf16 ? "bf16" : "half")} n={n} [{i}]: {x[i]} -> {actual[i]}, expected {expected[i]}");
            }
        }
    }

    [Fact]
    public void Reference_truncates_to_bfloat16_and_rounds_to_half()
    {
        Assert.Equal(1f, ReferenceCast.ToBFloat16(1.0078124f));          // toward zero, as ONNX's reference does
        Assert.Equal(-1f, ReferenceCast.ToBFloat16(-1.0078124f));
        Assert.Equal(0.478515625f, ReferenceCast.ToBFloat16(0.4794f));   // test_cast_FLOAT_to_BFLOAT16's element 1
        Assert.Equal(float.PositiveInfinity, ReferenceCast.ToBFloat16(float.PositiveInfinity));
        Assert.True(float.IsNaN(ReferenceCast.ToBFloat16(BitConverter.UInt32BitsToSingle(0x7F800001u))));
        Assert.Equal(float.PositiveInfinity, ReferenceCast.ToHalf(65520f));  // past the largest half (65504) by half an ulp
        Assert.Equal(65504f, ReferenceCast.ToHalf(65519f));
        Assert.Equal(1f, ReferenceCast.ToHalf(1.00048828125f));              // a tie, to the even mantissa
    }

    [Fact]
    public void Short_output_is_an_error()
    {
        Assert.Throws<ShapeMismatchException>(() => CastKernels.ToBFloat16(new float[5], new float[4]));
        Assert.Throws<ShapeMismatchException>(() => CastKernels.ToHalf(new float[5], new float[4]));
    }
}
