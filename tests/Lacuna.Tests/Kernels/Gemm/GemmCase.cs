using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Gemm;

/// <summary>
/// One GEMM test problem: shapes, transposes, padded leading dimensions, alpha/beta, bias and activation,
/// with random inputs and its reference result. C starts NaN-poisoned when beta is 0 (C must not be read)
/// and random otherwise; either way the padding between rows of C is NaN and must stay untouched.
/// </summary>
public sealed record GemmCase(
    int M, int N, int K, bool TransA = false, bool TransB = false, int PadA = 0, int PadB = 0, int PadC = 0,
    float Alpha = 1f, float Beta = 0f, BiasAxis BiasAxis = BiasAxis.None, Activation Activation = default)
{
    public int Lda => (TransA ? M : K) + PadA;
    public int Ldb => (TransB ? K : N) + PadB;
    public int Ldc => N + PadC;
    private int ARows => TransA ? K : M;
    private int BRows => TransB ? N : K;

    public (float[] A, float[] B, float[] C, float[] Bias) Data(ulong seed = 1)
    {
        var a = TestData.Random(Math.Max(0, ARows * Lda), seed);
        var b = TestData.Random(Math.Max(0, BRows * Ldb), seed + 1);
        var c = TestData.Poisoned(M * Ldc);
        if (Beta != 0f)
        {
            var init = TestData.Random(M * Ldc, seed + 2);
            for (int i = 0; i < M; i++) init.AsSpan(i * Ldc, N).CopyTo(c.AsSpan(i * Ldc));
        }
        var bias = BiasAxis switch
        {
            BiasAxis.Row => TestData.Random(M, seed + 3),
            BiasAxis.Column => TestData.Random(N, seed + 3),
            _ => Array.Empty<float>(),
        };
        return (a, b, c, bias);
    }

    public float[] Expected(float[] a, float[] b, float[] c, float[] bias)
    {
        var y = (float[])c.Clone();
        ReferenceGemm.Compute(M, N, K, a, Lda, TransA, b, Ldb, TransB, y, Ldc, Alpha, Beta, bias, BiasAxis, Activation);
        return y;
    }

    /// <summary>Runs <paramref name="run"/>(a, b, c, bias) on fresh data and compares all of C (padding included) with the reference.</summary>
    public void Check(Action<float[], float[], float[], float[]> run, string context)
    {
        var (a, b, c, bias) = Data();
        var expected = Expected(a, b, c, bias);
        run(a, b, c, bias);
        KernelAssert.Close(expected, c, K, $"{context} {this}");
    }

    /// <summary>
    /// Sizes around a tile (0, 1, MR-1, MR, MR+1, NR/2, NR/2+1, NR-1, NR, NR+1, 37, 97: NR/2 is the width of the
    /// wide tiles' edge tile) and K around a KC block, with the
    /// transposes, leading-dimension padding, alpha/beta, bias and activation cycling through their values.
    /// </summary>
    public static IEnumerable<GemmCase> EdgeCases(int mr, int nr)
    {
        int[] ms = { 1, mr - 1, mr, mr + 1, 2 * mr + 1, 37 };
        int[] ns = { 1, nr / 2, nr / 2 + 1, nr - 1, nr, nr + 1, 97 };
        int[] ks = { 0, 1, 8, 17, GemmDriver.KcMax + 1 };
        var acts = new[] { Activation.None, Activation.Relu, Activation.Clip(-0.5f, 0.75f) };
        int i = 0;
        foreach (int m in ms.Where(v => v >= 1).Distinct())
            foreach (int n in ns.Where(v => v >= 1).Distinct())
                foreach (int k in ks)
                {
                    i++;
                    yield return new GemmCase(m, n, k,
                        TransA: (i & 1) != 0, TransB: (i & 2) != 0,
                        PadA: i % 3, PadB: (i / 3) % 2 * 5, PadC: i % 4,
                        Alpha: i % 5 == 0 ? 1f : 0.75f, Beta: (i % 3) switch { 0 => 0f, 1 => 1f, _ => -0.5f },
                        BiasAxis: (BiasAxis)(i % 3), Activation: acts[(i / 2) % 3]);
                }
    }
}
