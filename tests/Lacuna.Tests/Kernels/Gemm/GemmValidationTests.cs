using Lacuna.Kernels;
using G = Lacuna.Kernels.Gemm;

namespace Lacuna.Tests.Kernels.Gemm;

/// <summary>Bad shapes, strides and lengths throw, naming the argument.</summary>
public class GemmValidationTests
{
    private static string? Param(Action call) => Assert.ThrowsAny<ArgumentException>(call).ParamName;

    // A valid 4×5×3 problem: A [4×3], B [3×5], C [4×5].
    private static void Call(int m = 4, int n = 5, int k = 3, int aLen = 12, int lda = 3, bool ta = false, int bLen = 15, int ldb = 5, bool tb = false,
        int cLen = 20, int ldc = 5, int biasLen = 0, BiasAxis axis = BiasAxis.None, int threads = 1) =>
        G.Compute(m, n, k, new float[aLen], lda, ta, new float[bLen], ldb, tb, new float[cLen], ldc, 1f, 0f, new float[biasLen], axis, default, threads);

    [Fact]
    public void Compute_RejectsBadArguments_NamingThem()
    {
        Call(); // the baseline is valid
        Assert.Equal("m", Param(() => Call(m: -1)));
        Assert.Equal("n", Param(() => Call(n: -1)));
        Assert.Equal("k", Param(() => Call(k: -1)));
        Assert.Equal("lda", Param(() => Call(lda: 2)));
        Assert.Equal("lda", Param(() => Call(ta: true, lda: 3)));
        Assert.Equal("ldb", Param(() => Call(ldb: 4)));
        Assert.Equal("ldb", Param(() => Call(tb: true, ldb: 2)));
        Assert.Equal("ldc", Param(() => Call(ldc: 4)));
        Assert.Equal("a", Param(() => Call(aLen: 11)));
        Assert.Equal("b", Param(() => Call(bLen: 14)));
        Assert.Equal("c", Param(() => Call(cLen: 19)));
        Assert.Equal("bias", Param(() => Call(axis: BiasAxis.Row, biasLen: 5)));
        Assert.Equal("bias", Param(() => Call(axis: BiasAxis.Column, biasLen: 4)));
        Assert.Equal("threads", Param(() => Call(threads: -1)));
    }

    [Fact]
    public void PackedA_RejectsBadArguments_NamingThem()
    {
        Assert.Equal("m", Param(() => G.PackA(-1, 3, new float[12], 3, false)));
        Assert.Equal("k", Param(() => G.PackA(4, -1, new float[12], 3, false)));
        Assert.Equal("lda", Param(() => G.PackA(4, 3, new float[12], 2, false)));
        Assert.Equal("lda", Param(() => G.PackA(4, 3, new float[12], 3, true)));
        Assert.Equal("a", Param(() => G.PackA(4, 3, new float[11], 3, false)));
        using var packed = G.PackA(4, 3, new float[12], 3, false);
        Assert.Equal(4, packed.M);
        Assert.Equal(3, packed.K);
        Assert.Throws<ArgumentNullException>(() => G.Compute(null!, 5, new float[15], 5, new float[20], 5, default, BiasAxis.None, default));
        Assert.Equal("n", Param(() => G.Compute(packed, -1, new float[15], 5, new float[20], 5, default, BiasAxis.None, default)));
        Assert.Equal("ldb", Param(() => G.Compute(packed, 5, new float[15], 4, new float[20], 5, default, BiasAxis.None, default)));
        Assert.Equal("b", Param(() => G.Compute(packed, 5, new float[14], 5, new float[20], 5, default, BiasAxis.None, default)));
        Assert.Equal("c", Param(() => G.Compute(packed, 5, new float[15], 5, new float[19], 5, default, BiasAxis.None, default)));
        Assert.Equal("ldc", Param(() => G.Compute(packed, 5, new float[15], 5, new float[20], 4, default, BiasAxis.None, default)));
        Assert.Equal("bias", Param(() => G.Compute(packed, 5, new float[15], 5, new float[20], 5, new float[3], BiasAxis.Row, default)));
        Assert.Equal("threads", Param(() => G.Compute(packed, 5, new float[15], 5, new float[20], 5, default, BiasAxis.None, default, -1)));
    }
}
