using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Normalization;

/// <summary>
/// <see cref="BatchNormTraining"/> against <see cref="ReferenceBatchNormTraining"/>: ranks 2-5, plane sizes around the
/// vector widths, an empty spatial axis, 1 and 2 threads, the fused ReLU, with and without the running-statistics
/// outputs; outputs NaN-poisoned. The reference itself is checked on a hand-computed case (population variance).
/// </summary>
public class BatchNormTrainingTests
{
    public static TheoryData<int[]> Shapes()
    {
        var data = new TheoryData<int[]>();
        foreach (int s in LayerCases.VectorEdges) data.Add(new[] { 2, 3, s });
        foreach (int w in new[] { 1, 7, 8, 9, 16, 17 }) data.Add(new[] { 3, 5, 3, w });
        data.Add(new[] { 5, 7 });                 // rank 2: statistics over the batch only
        data.Add(new[] { 2, 3, 2, 3, 5 });        // rank 5
        data.Add(new[] { 1, 13, 97, 61 });        // large enough for 2 threads
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_reference(int[] shape)
    {
        int c = shape[1], count = LayerCases.Count(shape);
        var x = TestData.Random(count, 21, -3, 5); // a non-zero mean, so the two-pass variance matters
        float[] scale = TestData.Random(c, 22), bias = TestData.Random(c, 23), mean = TestData.Random(c, 24), variance = TestData.Random(c, 25, 0.1f, 2f);
        foreach (float momentum in new[] { 0.9f, 0.25f })
        {
            var expected = TestData.Poisoned(count);
            float[] expectedMean = TestData.Poisoned(c), expectedVar = TestData.Poisoned(c);
            ReferenceBatchNormTraining.Compute(x, shape, scale, bias, mean, variance, expected, expectedMean, expectedVar, 1e-5f, momentum);
            var expectedRelu = expected.Select(v => MathF.Max(v, 0f)).ToArray();
            foreach (bool relu in new[] { false, true })
                foreach (int threads in LayerCases.Threads)
                    foreach (bool statistics in new[] { true, false })
                    {
                        var actual = TestData.Poisoned(count);
                        float[] runningMean = TestData.Poisoned(c), runningVar = TestData.Poisoned(c);
                        BatchNormTraining.Compute(x, shape, scale, bias, mean, variance, actual,
                            statistics ? runningMean : default, statistics ? runningVar : default, 1e-5f, momentum, relu, threads);
                        string context = $"[{string.Join(",", shape)}] momentum {momentum} relu {relu} threads {threads}";
                        KernelAssert.Close(relu ? expectedRelu : expected, actual, 64, context, rtol: 1e-4f);
                        if (!statistics) continue;
                        KernelAssert.Close(expectedMean, runningMean, 64, context + " running mean", rtol: 1e-4f);
                        KernelAssert.Close(expectedVar, runningVar, 64, context + " running var", rtol: 1e-4f);
                    }
        }
    }

    [Fact]
    public void Reference_UsesThePopulationVarianceOfTheBatch()
    {
        // One channel, values 1, 2, 3, 6 over N = 2 and 2 pixels: mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5.
        float[] x = [1, 2, 3, 6], y = new float[4], runningMean = new float[1], runningVar = new float[1];
        ReferenceBatchNormTraining.Compute(x, [2, 1, 2], [2f], [1f], [1f], [0.5f], y, runningMean, runningVar, 0f, 0.75f);
        double inv = 1 / Math.Sqrt(3.5);
        Assert.Equal(new[] { (float)(2 * -2 * inv + 1), (float)(2 * -1 * inv + 1), 1f, (float)(2 * 3 * inv + 1) }, y);
        Assert.Equal(0.75f * 1f + 0.25f * 3f, runningMean[0], 6);
        Assert.Equal(0.75f * 0.5f + 0.25f * 3.5f, runningVar[0], 6);
    }

    [Fact]
    public void Rejects_statistics_outputs_of_the_wrong_length()
    {
        float[] c2 = [1, 1];
        var e = Assert.Throws<ShapeMismatchException>(() => BatchNormTraining.Compute(new float[4], [1, 2, 2], c2, c2, c2, c2, new float[4], new float[3], default));
        Assert.Contains("running_mean has 3 elements", e.Message);
    }
}
