using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Layout;

public class PadTests
{
    public static TheoryData<int[], int[]> Cases()
    {
        var data = new TheoryData<int[], int[]>();
        foreach (int w in LayerCases.VectorEdges)
        {
            data.Add(new[] { 1, 3, 5, w }, new[] { 0, 0, 1, 1, 0, 0, 1, 1 });     // the conv "same" pad
            data.Add(new[] { 2, 3, 4, w }, new[] { 0, 0, 2, 0, 0, 0, 1, 3 });     // asymmetric
            data.Add(new[] { 1, 2, 3, w }, new[] { 0, 1, 0, -1, 0, 0, 2, 2 });    // crop on the left of W, pad C
        }
        data.Add(new[] { 9 }, new[] { 3, 12 });                                   // pads beyond the size: reflect wraps
        data.Add(new[] { 1 }, new[] { 2, 2 });
        data.Add(new[] { 3, 4 }, new[] { -1, 2, 1, -2 });
        data.Add(new[] { 2, 3, 4 }, new[] { 1, 0, 2, 1, 2, 0 });
        data.Add(new[] { 1, 3, 2, 2, 3 }, new[] { 0, 1, 1, 0, 2, 0, 0, 1, 2, 1 });
        data.Add(new[] { 1, 16, 112, 112 }, new[] { 0, 0, 3, 3, 0, 0, 3, 3 });   // large: 2 threads
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference_in_every_mode(int[] shape, int[] pads)
    {
        var x = TestData.Random(LayerCases.Count(shape), 91);
        int[] os = ReferenceShapeOps.PadShape(shape, pads);
        foreach (var mode in new[] { PadMode.Constant, PadMode.Reflect, PadMode.Edge })
        {
            var expected = TestData.Poisoned(LayerCases.Count(os));
            ReferenceShapeOps.Pad(x, shape, pads, expected, mode, 0.25f);
            foreach (int threads in LayerCases.Threads)
            {
                var actual = TestData.Poisoned(expected.Length);
                Pad.Compute(x, shape, pads, actual, mode, 0.25f, threads);
                KernelAssert.Exact(expected, actual, $"[{string.Join(",", shape)}] pads [{string.Join(",", pads)}] {mode} threads {threads}");
            }
        }
    }

    [Theory]
    [InlineData(3f)]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    public void Constant_mode_fills_empty_axes_with_any_value(float value)
    {
        // Input [2, 0] padded to [4, 3]: every output element is the fill value.
        int[] pads = { 1, 1, 1, 2 };
        var expected = TestData.Poisoned(12);
        ReferenceShapeOps.Pad([], [2, 0], pads, expected, PadMode.Constant, value);
        var actual = new float[12];
        Array.Fill(actual, 12345f);
        Pad.Compute([], [2, 0], pads, actual, PadMode.Constant, value);
        KernelAssert.Exact(expected, actual, $"fill {value}");
        Assert.All(actual, v => Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(v)));
    }

    [Fact]
    public void Rejects_bad_input()
    {
        Assert.Throws<ArgumentException>(() => Pad.Compute(new float[6], [2, 3], [1, 1], new float[20]));
        Assert.Throws<ArgumentException>(() => Pad.Compute(new float[6], [2, 3], [0, -4, 0, 0], new float[20]));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Pad.Compute(new float[6], [2, 3], [0, 1, 0, 1], new float[9])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Pad.Compute([], [2, 0], [0, 1, 0, 1], new float[4], PadMode.Reflect)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pad.Compute(new float[6], [2, 3], [0, 0, 0, 0], new float[6], (PadMode)7));
    }
}
