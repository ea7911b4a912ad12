using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Resize;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Resize;

/// <summary>
/// <see cref="Lacuna.Kernels.Resize.Resize"/> (separable passes) against <see cref="ReferenceResize"/> (direct n-D sums)
/// on random data: every mode × coordinate transform, up- and downsampling, rank 3 and 4, resized inner and outer axes,
/// odd sizes around vector widths; outputs NaN-poisoned. The ONNX node tests (test_resize_*, test_upsample_*) run in
/// ConformanceTests.
/// </summary>
public class ResizeTests
{
    public static TheoryData<ResizeMode, CoordinateTransform> Modes()
    {
        var d = new TheoryData<ResizeMode, CoordinateTransform>();
        foreach (var m in Enum.GetValues<ResizeMode>())
            foreach (var t in Enum.GetValues<CoordinateTransform>()) d.Add(m, t);
        return d;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void MatchesTheReference(ResizeMode mode, CoordinateTransform transform)
    {
        foreach (var (input, scales) in new (int[], float[])[]
        {
            ([2, 3, 7, 9], [1f, 1f, 2f, 2f]),
            ([1, 2, 17, 33], [1f, 1f, 0.5f, 0.75f]),
            ([3, 5, 16], [1f, 2f, 1.5f]),
            ([1, 1, 4, 4], [1f, 1f, 0.6f, 3f]),
        })
        {
            int[] output = input.Select((d, i) => (int)Math.Floor(d * scales[i] * (transform == CoordinateTransform.TfCropAndResize ? 0.8 : 1.0))).ToArray();
            float[]? roi = transform == CoordinateTransform.TfCropAndResize
                ? [.. input.Select(_ => 0.1f), .. input.Select(_ => 0.9f)] : null;
            foreach (var rounding in mode == ResizeMode.Nearest ? Enum.GetValues<NearestRounding>() : [NearestRounding.RoundPreferFloor])
            {
                var spec = new ResizeSpec(input, output, scales, mode, transform, rounding, CubicA: -0.5f, ExcludeOutside: mode == ResizeMode.Cubic && input.Length == 3,
                    Roi: roi, Extrapolation: 7f);
                float[] x = TestData.Random(input.Aggregate(1, (a, v) => a * v), (ulong)(input.Sum() + (int)mode));
                var expected = new float[output.Aggregate(1, (a, v) => a * v)];
                var actual = new float[expected.Length];
                ReferenceResize.Compute(spec, x, expected);
                Array.Fill(actual, float.NaN);
                Lacuna.Kernels.Resize.Resize.Compute(spec, x, actual);
                ElementwiseCheck.Close(expected, actual, $"{mode} {transform} {rounding} [{string.Join(",", input)}] -> [{string.Join(",", output)}]", rtol: 1e-5f, atol: 1e-5f);
            }
        }
    }

    [Fact]
    public void NearestRoundingFollowsTheSpecification()
    {
        // asymmetric, scale 2: output 1 maps to source 0.5, output 3 to 1.5.
        int Source(NearestRounding r, int o) => new ResizeSpec([4], [8], [2f], ResizeMode.Nearest, CoordinateTransform.Asymmetric, r).Taps(0, o).Index[0];
        Assert.Equal(new[] { 0, 1 }, new[] { Source(NearestRounding.RoundPreferFloor, 1), Source(NearestRounding.RoundPreferFloor, 3) });
        Assert.Equal(new[] { 1, 2 }, new[] { Source(NearestRounding.RoundPreferCeil, 1), Source(NearestRounding.RoundPreferCeil, 3) });
        Assert.Equal(new[] { 0, 1 }, new[] { Source(NearestRounding.Floor, 1), Source(NearestRounding.Floor, 3) });
        Assert.Equal(new[] { 1, 2 }, new[] { Source(NearestRounding.Ceil, 1), Source(NearestRounding.Ceil, 3) });
        Assert.Equal(3, Source(NearestRounding.Ceil, 7)); // clamped to the last input
    }
}
