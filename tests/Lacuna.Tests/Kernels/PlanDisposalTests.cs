using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels;

/// <summary>
/// Plans that keep their weights in native memory (<see cref="Lacuna.Tensors.NativeArray{T}"/>): they match the reference
/// until disposed, dispose twice harmlessly, and fail with <see cref="ObjectDisposedException"/> afterwards rather than
/// read freed memory.
/// </summary>
public class PlanDisposalTests
{
    private static float[] PrunedWeights(int length, ulong seed, double sparsity = 0.8)
    {
        var w = TestData.Random(length, seed);
        Pruner.Magnitude(w, sparsity);
        return w;
    }

    [Theory]
    [InlineData(37, 70, 17)]      // 16-bit indices, a tail of every tile width
    [InlineData(9, 70_000, 3)]    // K > 65536: 32-bit indices
    public void Spmm_plan_runs_until_disposed(int m, int k, int n)
    {
        var csr = CsrMatrix.FromDense(PrunedWeights(m * k, (ulong)k, 0.95), m, k);
        var bias = TestData.Random(m, 5);
        var x = TestData.Random(k * n, 6);
        var expected = new float[m * n];
        ReferenceSpmm.Compute(csr, x, n, expected, bias, Activation.Relu);
        var plan = SpmmPlan.Create(csr, bias, Activation.Relu);
        var y = TestData.Poisoned(m * n);
        plan.Run(x, n, y, 1);
        KernelAssert.Close(expected, y, k);
        plan.Dispose();
        plan.Dispose();
        Assert.Equal(typeof(SpmmPlan).FullName, Assert.Throws<ObjectDisposedException>(() => plan.Run(x, n, y, 1)).ObjectName);
        Assert.Throws<ObjectDisposedException>(() => plan.Run(x, 1, y, 1)); // the SpMV path too
        Assert.Throws<ObjectDisposedException>(() => plan.Run(x, n, y, 2)); // on the caller's thread, not in a worker
    }

    [Fact]
    public void Spmm_plan_gives_back_the_weights_it_runs()
    {
        var csr = CsrMatrix.FromDense(PrunedWeights(33 * 50, 7), 33, 50);
        using var plan = SpmmPlan.Create(csr);
        var w = plan.Weights;
        Assert.Equal(csr.RowOffsets, w.RowOffsets);
        Assert.Equal(csr.ColumnIndices, w.ColumnIndices);
        Assert.Equal(csr.Values, w.Values);
        Assert.Equal(csr.Nnz, plan.Nnz);
        Assert.Equal(csr.Sparsity, plan.Sparsity);
        // bf16 weights: the values as the plan multiplies them, rounded to bf16 (8 significant bits).
        using var bf16 = SpmmPlan.Create(csr, default, default, SpmmPrecision.BFloat16);
        var wb = bf16.Weights;
        Assert.Equal(csr.ColumnIndices, wb.ColumnIndices);
        for (int i = 0; i < csr.Nnz; i++)
        {
            Assert.Equal(0, BitConverter.SingleToInt32Bits(wb.Values[i]) & 0xFFFF);
            Assert.True(MathF.Abs(wb.Values[i] - csr.Values[i]) <= MathF.Abs(csr.Values[i]) / 128, $"value {i}: {wb.Values[i]} vs {csr.Values[i]}");
        }
    }

    [Fact]
    public void Sparse_conv_plans_that_share_weights_are_freed_together()
    {
        int m = 12, c = 5, h = 9, w = 11;
        var weight = PrunedWeights(m * c * 9, 8);
        var bias = TestData.Random(m, 9);
        var p = Conv2dParams.Square(3, pad: 1);
        var x = TestData.Random(c * h * w, 10);
        var expected = new float[m * h * w];
        ReferenceConv2d.Compute(x, [1, c, h, w], weight, [m, c, 3, 3], bias, expected, p, Activation.Relu);
        var plan = SparseConv2dPlan.Create(weight, [m, c, 3, 3], bias, p, h, w, Activation.Relu);
        var siblings = SparseConvKernels.Supported.Select(plan.WithKernel).ToArray();
        foreach (var s in siblings)
        {
            var y = TestData.Poisoned(m * h * w);
            s.Run(x, y, 1, 1);
            KernelAssert.Close(expected, y, c * 9, s.TileName);
        }
        siblings[^1].Dispose();
        plan.Dispose();
        foreach (var s in siblings)
            Assert.Equal(typeof(SparseConv2dPlan).FullName, Assert.Throws<ObjectDisposedException>(() => s.Run(x, new float[m * h * w], 1, 2)).ObjectName);
    }

    [Theory]
    [InlineData(ConvAlgorithm.Direct, 3, 1)]
    [InlineData(ConvAlgorithm.Im2ColGemm, 3, 1)]
    [InlineData(ConvAlgorithm.Pointwise, 1, 1)]
    [InlineData(ConvAlgorithm.Depthwise, 3, 6)]
    public void Dense_conv_plan_runs_until_disposed(ConvAlgorithm algorithm, int k, int groups)
    {
        int m = 6, c = 6, h = 10, w = 13;
        var weight = TestData.Random(m * (c / groups) * k * k, 11);
        var bias = TestData.Random(m, 12);
        var p = (k == 1 ? Conv2dParams.Square(1) : Conv2dParams.Square(3, pad: 1)) with { Groups = groups };
        var x = TestData.Random(c * h * w, 13);
        var expected = new float[m * h * w];
        ReferenceConv2d.Compute(x, [1, c, h, w], weight, [m, c / groups, k, k], bias, expected, p, Activation.Relu);
        var plan = DenseConv2dPlan.Create(weight, [m, c / groups, k, k], bias, p, h, w, Activation.Relu, algorithm);
        var y = TestData.Poisoned(m * h * w);
        plan.Run(x, y, 1, 1);
        KernelAssert.Close(expected, y, c / groups * k * k, algorithm.ToString());
        plan.Dispose();
        plan.Dispose();
        Assert.Equal(typeof(DenseConv2dPlan).FullName, Assert.Throws<ObjectDisposedException>(() => plan.Run(x, y, 1, 2)).ObjectName);
    }
}
