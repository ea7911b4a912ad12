using Lacuna.Kernels;
using Lacuna.Kernels.Train;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Train;

/// <summary>Dense and sparse FWD, BWI and BWW of every supported tier vs the double-accumulating reference.</summary>
public class ConvTrainKernelTests
{
    private static void AssertNoNaN(float[] blocked, string context)
    {
        int i = Array.FindIndex(blocked, float.IsNaN);
        Assert.True(i < 0, $"{context}: blocked element {i} was not written");
    }

    [Fact]
    public void Forward_MatchesReference_EveryKernel()
    {
        foreach (var tc in TrainCase.All())
        {
            var s = tc.Shape;
            var (x, _, w) = tc.Data();
            var expected = tc.ExpectedY(x, w);
            var xb = tc.Blocked(x, s.InChannels);
            foreach (var k in ConvTrainRegistry.Supported)
            {
                var y = TestData.Poisoned((int)s.OutputLength);
                ConvTrainKernels.Forward(k, xb, w, y, s, 1);
                AssertNoNaN(y, $"FWD {k} {tc}");
                KernelAssert.Close(expected, tc.Nchw(y, s.OutChannels), s.InChannels * s.Taps, $"FWD {k} {tc}");
            }
        }
    }

    [Fact]
    public void BackwardInput_MatchesReference_EveryKernel()
    {
        foreach (var tc in TrainCase.All())
        {
            var s = tc.Shape;
            var (_, dy, w) = tc.Data();
            var expected = tc.ExpectedDx(dy, w);
            var dyb = tc.Blocked(dy, s.OutChannels);
            foreach (var k in ConvTrainRegistry.Supported)
            {
                var dx = TestData.Poisoned((int)s.InputLength);
                ConvTrainKernels.BackwardInput(k, dyb, w, dx, s, 1);
                AssertNoNaN(dx, $"BWI {k} {tc}");
                KernelAssert.Close(expected, tc.Nchw(dx, s.InChannels), s.OutChannels * s.Taps, $"BWI {k} {tc}");
            }
        }
    }

    [Fact]
    public void BackwardWeights_MatchesReference_EveryKernel()
    {
        foreach (var tc in TrainCase.All())
        {
            var s = tc.Shape;
            var (x, dy, _) = tc.Data();
            var expected = tc.ExpectedDw(x, dy);
            var xb = tc.Blocked(x, s.InChannels);
            var dyb = tc.Blocked(dy, s.OutChannels);
            foreach (var k in ConvTrainRegistry.Supported)
            {
                var dw = TestData.Poisoned((int)s.WeightLength);
                ConvTrainKernels.BackwardWeights(k, xb, dyb, dw, s, 1);
                KernelAssert.Close(expected, dw, s.Batch * s.Height * s.Width, $"BWW {k} {tc}");
            }
        }
    }

    [Fact]
    public void EveryTierHasDenseAndSparse_AndBestTierIsPresent()
    {
        var supported = ConvTrainRegistry.Supported.ToArray();
        Assert.Contains(supported, k => k.Tier == ConvTrainRegistry.BestTier && k.Sparse);
        Assert.Contains(supported, k => k.Tier == ConvTrainRegistry.BestTier && !k.Sparse);
        Assert.Equal(ConvTrainRegistry.BestTier, ConvTrainRegistry.Best(sparse: true).Tier);
    }

    [Fact]
    public void OneAndTwoThreads_GiveIdenticalResults()
    {
        var tc = new TrainCase(new ConvTrainShape(3, 24, 80, 9, 14, 3), 0.5, 0.5);
        var s = tc.Shape;
        var (x, dy, w) = tc.Data();
        var xb = tc.Blocked(x, s.InChannels);
        var dyb = tc.Blocked(dy, s.OutChannels);
        foreach (var k in ConvTrainRegistry.Supported.Where(k => k.Tier == ConvTrainRegistry.BestTier))
        {
            float[] Y(int t) { var y = TestData.Poisoned((int)s.OutputLength); ConvTrainKernels.Forward(k, xb, w, y, s, t); return y; }
            float[] Dx(int t) { var d = TestData.Poisoned((int)s.InputLength); ConvTrainKernels.BackwardInput(k, dyb, w, d, s, t); return d; }
            float[] Dw(int t) { var d = TestData.Poisoned((int)s.WeightLength); ConvTrainKernels.BackwardWeights(k, xb, dyb, d, s, t); return d; }
            KernelAssert.Exact(Y(1), Y(2), $"FWD {k}");
            KernelAssert.Exact(Dx(1), Dx(2), $"BWI {k}");
            KernelAssert.Exact(Dw(1), Dw(2), $"BWW {k}");
        }
    }

    [Fact]
    public void Auto_PicksSparseForZeros_DenseForNoZeros_AndMatches()
    {
        foreach (var (zeros, want) in new[] { (0.0, ConvTrainMode.Dense), (1.0, ConvTrainMode.Sparse), (0.8, ConvTrainMode.Sparse) })
        {
            var tc = new TrainCase(new ConvTrainShape(1, 16, 16, 8, 8, 3), zeros, zeros);
            var s = tc.Shape;
            var (x, dy, w) = tc.Data();
            var xb = tc.Blocked(x, s.InChannels);
            var dyb = tc.Blocked(dy, s.OutChannels);
            var y = TestData.Poisoned((int)s.OutputLength);
            var dx = TestData.Poisoned((int)s.InputLength);
            var dw = TestData.Poisoned((int)s.WeightLength);
            Assert.Equal(want, ConvTrainKernels.Forward(xb, w, y, s));
            Assert.Equal(want, ConvTrainKernels.BackwardInput(dyb, w, dx, s));
            Assert.Equal(want, ConvTrainKernels.BackwardWeights(xb, dyb, dw, s));
            KernelAssert.Close(tc.ExpectedY(x, w), tc.Nchw(y, s.OutChannels), s.InChannels * 9, $"auto FWD {zeros}");
            KernelAssert.Close(tc.ExpectedDx(dy, w), tc.Nchw(dx, s.InChannels), s.OutChannels * 9, $"auto BWI {zeros}");
            KernelAssert.Close(tc.ExpectedDw(x, dy), dw, 64, $"auto BWW {zeros}");
        }
    }
}
