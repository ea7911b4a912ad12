namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of GEMM: plain loops, double accumulation.
/// C[M×N] = act(alpha · op(A) · op(B) + beta · C + bias), row-major with leading dimensions;
/// op(A) is A[M×K] (lda ≥ K) or, transposed, A stored [K×M] (lda ≥ M); likewise B.
/// When beta is 0, C is not read (so NaN in C does not propagate), as in BLAS.
/// </summary>
public static class ReferenceGemm
{
    public static void Compute(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc,
        float alpha = 1f, float beta = 0f,
        ReadOnlySpan<float> bias = default, BiasAxis biasAxis = BiasAxis.None,
        Activation activation = default)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA ? a[p * lda + i] : a[i * lda + p];
                    double bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    acc += av * bv;
                }
                acc *= alpha;
                if (beta != 0f) acc += (double)beta * c[i * ldc + j];
                if (biasAxis == BiasAxis.Row) acc += bias[i];
                else if (biasAxis == BiasAxis.Column) acc += bias[j];
                c[i * ldc + j] = activation.Apply((float)acc);
            }
        }
    }
}
