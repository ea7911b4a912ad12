using Lacuna.Threading;

namespace Lacuna.Kernels;

// The dispatcher: maps the row-major BLAS-style call onto the tile orientation (C or Cᵀ) and the registry's pick.
public static unsafe partial class Gemm
{
    private static string DescribeCore() => GemmDriver.Describe(GemmKernels.Best);

    private static void ComputeCore(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, float alpha, float beta,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads) =>
        ComputeWith(GemmKernels.Best, null, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasAxis, activation, threads);

    /// <summary>
    /// Unvalidated core with an explicit registry entry and orientation (null: the dispatcher's choice), for
    /// tests and benchmarks. Arguments as <see cref="Compute(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, float, float, ReadOnlySpan{float}, BiasAxis, Activation, int)"/>, already validated.
    /// </summary>
    internal static void ComputeWith(
        GemmKernel kernel, bool? transposed,
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, float alpha, float beta,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads)
    {
        if (m == 0 || n == 0) return;
        bool t = transposed ?? GemmDriver.PreferTransposed(kernel, m, n);
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            // op(A)(i, p) = a[i·lda + p], or a[p·lda + i] when transposed; op(B)(p, j) = b[p·ldb + j], or b[j·ldb + p].
            var opA = new GemmOperand { Src = pa, LineStride = transA ? 1 : lda, KStride = transA ? lda : 1 };
            var opB = new GemmOperand { Src = pb, LineStride = transB ? ldb : 1, KStride = transB ? 1 : ldb };
            var p = Problem(t, m, n, k, opA, opB, pc, ldc, alpha, beta, pbias, biasAxis, activation);
            GemmDriver.Run(kernel, p, threads);
        }
    }

    /// <summary>
    /// The tile-oriented problem: C = op(A)·op(B) directly, or (transposed) Cᵀ = op(B)ᵀ·op(A)ᵀ, whose tile rows
    /// are C's columns — operands, strides and bias axis swap.
    /// </summary>
    private static GemmProblem Problem(bool transposed, int m, int n, int k, GemmOperand opA, GemmOperand opB,
        float* c, int ldc, float alpha, float beta, float* bias, BiasAxis biasAxis, Activation activation) => transposed
        ? new GemmProblem
        {
            M = n, N = m, K = k, A = opB, B = opA, C = c, RowStride = 1, ColStride = ldc,
            Alpha = alpha, Beta = beta, Bias = bias, Activation = activation,
            BiasAxis = biasAxis switch { BiasAxis.Row => BiasAxis.Column, BiasAxis.Column => BiasAxis.Row, _ => BiasAxis.None },
        }
        : new GemmProblem
        {
            M = m, N = n, K = k, A = opA, B = opB, C = c, RowStride = ldc, ColStride = 1,
            Alpha = alpha, Beta = beta, Bias = bias, BiasAxis = biasAxis, Activation = activation,
        };

    /// <summary>
    /// Packs a constant A (e.g. layer weights) once for repeated <see cref="Compute(GemmPackedA, int, ReadOnlySpan{float}, int, Span{float}, int, ReadOnlySpan{float}, BiasAxis, Activation, int)"/> calls.
    /// op(A) is [M×K]: A stored [M×K] with lda ≥ K, or with <paramref name="transA"/> stored [K×M] with lda ≥ M.
    /// </summary>
    public static GemmPackedA PackA(int m, int k, ReadOnlySpan<float> a, int lda, bool transA)
    {
        ThrowHelper.IfNegative(m, nameof(m));
        ThrowHelper.IfNegative(k, nameof(k));
        int aCols = transA ? m : k, aRows = transA ? k : m;
        if (lda < Math.Max(1, aCols)) ThrowHelper.OutOfRange(nameof(lda), lda, $"lda must be at least {Math.Max(1, aCols)} for A{(transA ? "ᵀ" : "")} with m={m}, k={k}.");
        if (aRows > 0 && aCols > 0) ThrowHelper.IfTooShort(a.Length, (long)(aRows - 1) * lda + aCols, "a", $"A [{aRows}×{aCols}] with lda={lda} (m={m}, k={k})");
        return new GemmPackedA(GemmKernels.Best, m, k, a, lda, transA);
    }

    /// <summary>
    /// C[M×N] = act(A·B + bias) with a pre-packed A [M×K] and B [K×N] (ldb ≥ N), C [M×N] (ldc ≥ N) row-major.
    /// Bias is [M] for <see cref="BiasAxis.Row"/> or [N] for <see cref="BiasAxis.Column"/>. C is write-only.
    /// </summary>
    public static void Compute(GemmPackedA a, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(a);
        Validate(a.M, n, a.K, int.MaxValue, Math.Max(1, a.K), false, b.Length, ldb, false, c.Length, ldc, bias.Length, biasAxis);
        int t = WorkerPool.Resolve(threads);
        ComputePackedWith(a, null, n, b, ldb, c, ldc, bias, biasAxis, activation, t);
    }

    /// <summary>Unvalidated core of the pre-packed form with an explicit orientation (null: the dispatcher's choice).</summary>
    internal static void ComputePackedWith(GemmPackedA a, bool? transposed, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads)
    {
        int m = a.M, k = a.K;
        if (m == 0 || n == 0) return;
        var kernel = a.Kernel;
        bool t = transposed ?? GemmDriver.PreferTransposed(kernel, m, n);
        fixed (float* pb = b, pc = c, pbias = bias)
        {
            var opA = t
                ? new GemmOperand { Packed = a.ColumnPanels(), PanelStride = (nint)kernel.NR * k }
                : new GemmOperand { Packed = a.RowPanels, PanelStride = (nint)kernel.MR * k };
            var opB = new GemmOperand { Src = pb, LineStride = 1, KStride = ldb };
            var p = Problem(t, m, n, k, opA, opB, pc, ldc, 1f, 0f, pbias, biasAxis, activation);
            GemmDriver.Run(kernel, p, threads);
        }
        GC.KeepAlive(a);
    }
}
