using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Gemm;

/// <summary>Gemv (fully connected layers at batch 1) against the reference GEMM with M = 1, both weight layouts.</summary>
public class GemvTests
{
    public static TheoryData<int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int n in new[] { 1, 15, 16, 17, 63, 64, 65, 129, 1000 })
            foreach (int k in new[] { 1, 7, 16, 33, 257 })
                foreach (int threads in new[] { 1, 2 })
                    data.Add(n, k, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Both_layouts_match_the_reference_with_bias_and_relu(int n, int k, int threads)
    {
        float[] x = TestData.Random(k, 1), bias = TestData.Random(n, 2);
        foreach (bool rows in new[] { true, false })
        {
            float[] w = TestData.Random(n * k, (ulong)(n * 31 + k));
            foreach (var (act, b) in new[] { (Activation.None, Array.Empty<float>()), (Activation.Relu, bias) })
            {
                float[] expected = TestData.Poisoned(n), y = TestData.Poisoned(n);
                ReferenceGemm.Compute(1, n, k, x, k, false, w, rows ? k : n, rows, expected, n, 1f, 0f,
                    b, b.Length == 0 ? BiasAxis.None : BiasAxis.Column, act);
                if (rows) Gemv.WeightRows(w, n, k, x, y, b, act, threads);
                else Gemv.WeightCols(w, n, k, x, y, b, act, threads);
                KernelAssert.Close(expected, y, k, $"{(rows ? "rows" : "cols")} n={n} k={k} t={threads} {act}");
            }
        }
    }

    [Fact]
    public void Short_buffers_are_refused_by_name()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Gemv.WeightRows(new float[10], 4, 3, new float[3], new float[4], default, Activation.None));
        Assert.Contains("w", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Gemv.WeightCols(new float[12], 4, 3, new float[2], new float[4], default, Activation.None));
        Assert.ThrowsAny<ArgumentException>(() => Gemv.WeightCols(new float[12], 4, 3, new float[3], new float[4], new float[3], Activation.None));
    }
}
