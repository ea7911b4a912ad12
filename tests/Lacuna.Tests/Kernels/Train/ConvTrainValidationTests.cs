using Lacuna.Kernels.Train;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Train;

/// <summary>Bad shapes, lengths and modes throw, naming the argument; the layout round-trips.</summary>
public class ConvTrainValidationTests
{
    private static readonly ConvTrainShape S = new(2, 12, 16, 5, 6, 3);

    private static string? Name(Action a) => Assert.ThrowsAny<ArgumentException>(a).ParamName;

    [Fact]
    public void EntryPoints_RejectShortBuffers_NamingThem()
    {
        int x = (int)S.InputLength, y = (int)S.OutputLength, w = (int)S.WeightLength;
        Assert.Equal("x", Name(() => ConvTrainKernels.Forward(new float[x - 1], new float[w], new float[y], S)));
        Assert.Equal("weight", Name(() => ConvTrainKernels.Forward(new float[x], new float[w - 1], new float[y], S)));
        Assert.Equal("y", Name(() => ConvTrainKernels.Forward(new float[x], new float[w], new float[y - 1], S)));
        Assert.Equal("dy", Name(() => ConvTrainKernels.BackwardInput(new float[y - 1], new float[w], new float[x], S)));
        Assert.Equal("dx", Name(() => ConvTrainKernels.BackwardInput(new float[y], new float[w], new float[x - 1], S)));
        Assert.Equal("dWeight", Name(() => ConvTrainKernels.BackwardWeights(new float[x], new float[y], new float[w - 1], S)));
        Assert.Equal("x", Name(() => ConvTrainKernels.BackwardWeights(new float[x - 1], new float[y], new float[w], S)));
        Assert.Equal("dy", Name(() => ConvTrainKernels.BackwardWeights(new float[x], new float[y - 1], new float[w], S)));
        Assert.Equal("mode", Name(() => ConvTrainKernels.Forward(new float[x], new float[w], new float[y], S, (ConvTrainMode)7)));
        Assert.Equal("shape", Name(() => ConvTrainKernels.Forward(new float[x], new float[w], new float[y], null!)));
        Assert.Equal("threads", Name(() => ConvTrainKernels.Forward(new float[x], new float[w], new float[y], S, threads: -1)));
    }

    [Fact]
    public void Shapes_RejectBadDimensions_NamingThem()
    {
        Assert.Equal("Batch", Name(() => (S with { Batch = 0 }).Validate()));
        Assert.Equal("InChannels", Name(() => (S with { InChannels = 0 }).Validate()));
        Assert.Equal("OutChannels", Name(() => (S with { OutChannels = -1 }).Validate()));
        Assert.Equal("Height", Name(() => (S with { Width = 0 }).Validate()));
        var e = Assert.Throws<NotSupportedException>(() => (S with { Kernel = 5 }).Validate());
        Assert.Contains("5x5", e.Message);
    }

    [Fact]
    public void Layout_RoundTrips_AndZeroesPaddingLanes()
    {
        int n = 2, c = 11, h = 3, w = 5;
        var nchw = TestData.Random(n * c * h * w, 7);
        var blocked = TestData.Poisoned((int)ConvTrainLayout.BlockedLength(n, c, h, w));
        ConvTrainLayout.ToBlocked(nchw, blocked, n, c, h, w);
        Assert.Equal(nchw[(1 * c + 9) * h * w + 2 * w + 4], blocked[((1 * 2 + 1) * h * w + 2 * w + 4) * 8 + 1]);
        Assert.Equal(0f, blocked[((1 * 2 + 1) * h * w + 2 * w + 4) * 8 + 3]);
        var back = TestData.Poisoned(nchw.Length);
        ConvTrainLayout.ToNchw(blocked, back, n, c, h, w);
        KernelAssert.Exact(nchw, back, "round trip");
        Assert.Equal("blocked", Name(() => ConvTrainLayout.ToBlocked(nchw, new float[blocked.Length - 1], n, c, h, w)));
        Assert.Equal("nchw", Name(() => ConvTrainLayout.ToNchw(blocked, new float[nchw.Length - 1], n, c, h, w)));
        Assert.Equal(0.25, ConvTrainLayout.ZeroFraction(new float[] { 0, 1, 2, 3, 4, 5, 6, 0 }), 12);
        Assert.Equal(0.2, ConvTrainLayout.ZeroFraction(new float[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 0 }), 12);
    }
}
