using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// Dense single-precision GEMM, the engine's dense path and the baseline sparse kernels must beat.
/// C[M×N] = act(alpha · op(A) · op(B) + beta · C + bias), row-major with leading dimensions;
/// op(A) is A[M×K] (lda ≥ K) or, with <c>transA</c>, A stored [K×M] (lda ≥ M); likewise B
/// ([K×N], ldb ≥ N, or stored [N×K], ldb ≥ K). When beta is 0, C is write-only.
/// Bias is [M] for <see cref="BiasAxis.Row"/> or [N] for <see cref="BiasAxis.Column"/>.
/// The specification is <see cref="Reference.ReferenceGemm"/>.
/// </summary>
public static partial class Gemm
{
    public static void Compute(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc,
        float alpha = 1f, float beta = 0f,
        ReadOnlySpan<float> bias = default, BiasAxis biasAxis = BiasAxis.None,
        Activation activation = default,
        int threads = 0)
    {
        Validate(m, n, k, a.Length, lda, transA, b.Length, ldb, transB, c.Length, ldc, bias.Length, biasAxis);
        int t = WorkerPool.Resolve(threads);
        if (m == 0 || n == 0) return;
        ComputeCore(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasAxis, activation, t);
    }

    /// <summary>The microkernel and tier the dispatcher picked, e.g. for benchmark headers.</summary>
    public static string Describe() => DescribeCore();

    /// <summary>Convenience: C[M×N] = A[M×K] · B[K×N], contiguous, no transposes.</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int threads = 0) =>
        Compute(m, n, k, a, k, false, b, n, false, c, n, threads: threads);

    internal static void Validate(
        int m, int n, int k,
        int aLength, int lda, bool transA,
        int bLength, int ldb, bool transB,
        int cLength, int ldc,
        int biasLength, BiasAxis biasAxis)
    {
        ThrowHelper.IfNegative(m, nameof(m));
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfNegative(k, nameof(k));
        string dims = $"m={m}, n={n}, k={k}";
        CheckOperand("a", transA ? k : m, transA ? m : k, lda, transA, aLength, dims);
        CheckOperand("b", transB ? n : k, transB ? k : n, ldb, transB, bLength, dims);
        if (ldc < Math.Max(1, n)) ThrowHelper.OutOfRange(nameof(ldc), ldc, $"ldc must be at least {Math.Max(1, n)} with {dims}.");
        if (m > 0 && n > 0) ThrowHelper.IfTooShort(cLength, (long)(m - 1) * ldc + n, "c", $"C [{m}×{n}] with ldc={ldc} ({dims})");
        if (biasAxis == BiasAxis.Row && biasLength != m)
            ThrowHelper.Shape("bias", $"Row bias must have m={m} elements but has {biasLength} ({dims}).");
        if (biasAxis == BiasAxis.Column && biasLength != n)
            ThrowHelper.Shape("bias", $"Column bias must have n={n} elements but has {biasLength} ({dims}).");
    }

    /// <summary>
    /// Operand <paramref name="name"/> ("a" or "b") stored [rows × cols] row-major with leading dimension ld (the stored
    /// shape, so already transposed when <paramref name="trans"/>): ld covers a row and the storage holds every row.
    /// </summary>
    internal static void CheckOperand(string name, int rows, int cols, int ld, bool trans, int length, string dims)
    {
        string ldName = "ld" + name, upper = name.ToUpperInvariant();
        if (ld < Math.Max(1, cols)) ThrowHelper.OutOfRange(ldName, ld, $"{ldName} must be at least {Math.Max(1, cols)} for {upper}{(trans ? "ᵀ" : "")} with {dims}.");
        if (rows > 0 && cols > 0) ThrowHelper.IfTooShort(length, (long)(rows - 1) * ld + cols, name, $"{upper} [{rows}×{cols}] with {ldName}={ld} ({dims})");
    }
}
