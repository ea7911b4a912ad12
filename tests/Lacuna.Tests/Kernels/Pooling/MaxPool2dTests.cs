using Lacuna.Kernels;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Pooling;

public class MaxPool2dTests
{
    public static TheoryData<Pool2dParams, int, int> Cases() => new()
    {
        { Pool2dParams.Square(3, 2, 1), 112, 112 },                 // ResNet stem
        { Pool2dParams.Square(2, 2), 9, 8 },                        // VGG, odd height
        { Pool2dParams.Square(3, 1, 1), 7, 5 },
        { new Pool2dParams(3, 2, 2, 1, 1, 0, 2, 1, 2, 1), 11, 9 },  // asymmetric pads, dilation 2 on H
        { Pool2dParams.Square(3, 2, 1, ceilMode: true), 8, 10 },
        { Pool2dParams.Square(1, 1), 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference_and_propagates_nan(Pool2dParams p, int h, int w)
    {
        int[] shape = { 2, 3, h, w };
        var x = TestData.Random(2 * 3 * h * w, 5);
        x[7 % x.Length] = float.NaN;
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w);
        var expected = new float[2 * 3 * oh * ow];
        ReferencePool.MaxPool(x, shape, expected, p);
        foreach (int threads in new[] { 1, 2 })
        {
            // NaN is a legitimate output here, so the output is poisoned with a sentinel instead.
            var actual = new float[expected.Length];
            Array.Fill(actual, 12345f);
            MaxPool2d.Compute(x, shape, actual, p, threads);
            KernelAssert.Exact(expected, actual, $"{p} {h}x{w} threads {threads}");
        }
        Assert.Throws<ShapeMismatchException>(() => MaxPool2d.Compute(x, new[] { 3, h, w }, new float[expected.Length], p));
    }
}
