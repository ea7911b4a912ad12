namespace Lacuna.Kernels;

// TEMPORARY: a correct, slow body so other families can build against Gemm.Compute while the
// packed/register-blocked kernels are written. Replaced by the GEMM kernel work.
public static partial class Gemm
{
    private static string DescribeCore() => "naive reference loops (temporary)";

    private static void ComputeCore(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, float alpha, float beta,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads)
    {
        _ = threads;
        Reference.ReferenceGemm.Compute(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasAxis, activation);
    }
}
