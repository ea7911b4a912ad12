using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

public class SoftmaxTests
{
    public static TheoryData<int[], int> Cases()
    {
        var data = new TheoryData<int[], int>();
        foreach (int l in LayerCases.VectorEdges)
        {
            data.Add(new[] { 3, l }, -1);         // contiguous rows
            data.Add(new[] { 2, l, 3 }, 1);       // strided: the axis in the middle
            data.Add(new[] { l, 5 }, 0);          // strided: the first axis
        }
        data.Add(new[] { 2, 3, 5, 7 }, 0);
        data.Add(new[] { 2, 3, 5, 7 }, 1);
        data.Add(new[] { 2, 3, 5, 7 }, -2);
        data.Add(new[] { 2, 3, 5, 7 }, 3);
        data.Add(new[] { 1000 }, 0);
        data.Add(new[] { 2, 5, 1030 }, 1);        // inner wider than one chunk (1024)
        data.Add(new[] { 70, 1000 }, 1);          // large contiguous: 2 threads
        data.Add(new[] { 2, 100, 400 }, 1);       // large strided: 2 threads
        data.Add(new[] { 3, 0, 2 }, 1);           // empty axis
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference(int[] shape, int axis)
    {
        int count = LayerCases.Count(shape);
        var x = TestData.Random(count, 31, -20f, 20f);
        foreach (bool log in new[] { false, true })
        {
            var expected = TestData.Poisoned(count);
            if (log) ReferenceNormalization.LogSoftmax(x, shape, expected, axis);
            else ReferenceNormalization.Softmax(x, shape, expected, axis);
            foreach (int threads in LayerCases.Threads)
            {
                var actual = TestData.Poisoned(count);
                if (log) Softmax.ComputeLog(x, shape, actual, axis, threads);
                else Softmax.Compute(x, shape, actual, axis, threads);
                KernelAssert.Close(expected, actual, 4, $"[{string.Join(",", shape)}] axis {axis} log {log} threads {threads}", rtol: 2e-5f);
                // In place: the output buffer is the input.
                var inPlace = (float[])x.Clone();
                if (log) Softmax.ComputeLog(inPlace, shape, inPlace, axis, threads);
                else Softmax.Compute(inPlace, shape, inPlace, axis, threads);
                KernelAssert.Close(expected, inPlace, 4, $"in place [{string.Join(",", shape)}] axis {axis} log {log} threads {threads}", rtol: 2e-5f);
            }
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public void Nan_and_infinity_follow_the_reference(int axis)
    {
        // [6, 6]: row/column 0 holds a NaN, 1 a +Inf, 2 a -Inf, 3 two +Inf, 4 all -Inf, 5 plain.
        int[] shape = { 6, 6 };
        var x = TestData.Random(36, 41);
        int At(int slice, int j) => axis == -1 ? slice * 6 + j : j * 6 + slice;
        x[At(0, 2)] = float.NaN;
        x[At(1, 3)] = float.PositiveInfinity;
        x[At(2, 4)] = float.NegativeInfinity;
        x[At(3, 0)] = float.PositiveInfinity; x[At(3, 5)] = float.PositiveInfinity;
        for (int j = 0; j < 6; j++) x[At(4, j)] = float.NegativeInfinity;
        foreach (bool log in new[] { false, true })
        {
            var expected = TestData.Poisoned(36);
            var actual = TestData.Poisoned(36);
            if (log) { ReferenceNormalization.LogSoftmax(x, shape, expected, axis); Softmax.ComputeLog(x, shape, actual, axis); }
            else { ReferenceNormalization.Softmax(x, shape, expected, axis); Softmax.Compute(x, shape, actual, axis); }
            KernelAssert.Close(expected, actual, 4, $"axis {axis} log {log}");
            Assert.True(float.IsNaN(actual[At(0, 0)]));
        }
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Softmax.Compute(new float[5], [2, 3], new float[6])).ParamName);
        Assert.Equal("axis", Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.Compute(new float[6], [2, 3], new float[6], 2)).ParamName);
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Softmax.ComputeLog(new float[6], [2, 3], new float[5])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Softmax.Compute(new float[1], [], new float[1])).ParamName);
    }
}
