using Lacuna.Threading;

using Lacuna.Kernels.Elementwise;

namespace Lacuna.Kernels;

// The dispatcher: maps the row-major BLAS-style call onto the registry's pick and the blocked driver.
public static unsafe partial class Gemm
{
    private static string DescribeCore()
    {
        var others = GemmKernels.Candidates.Where(k => !ReferenceEquals(k, GemmKernels.Best)).Select(k => $"{k.Tier} {k.MR}x{k.NR}").ToArray();
        return GemmDriver.Describe(GemmKernels.Best) + (others.Length == 0 ? "" : $"; by shape also {string.Join(", ", others)}");
    }

    private static void ComputeCore(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, float alpha, float beta,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads) =>
        ComputeWith(GemmKernels.For(m, n), m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasAxis, activation, threads);

    /// <summary>Unvalidated core with an explicit registry entry, for tests and benchmarks; arguments already validated.</summary>
    internal static void ComputeWith(
        GemmKernel kernel,
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, float alpha, float beta,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads)
    {
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            // Lines of A are rows of op(A): op(A)(i, p) = a[i·lda + p], or a[p·lda + i] when transposed.
            // Lines of B are columns of op(B): op(B)(p, j) = b[p·ldb + j], or b[j·ldb + p] when transposed.
            var p = new GemmProblem
            {
                M = m, N = n, K = k,
                A = new GemmOperand { Src = pa, LineStride = transA ? 1 : lda, KStride = transA ? lda : 1 },
                B = new GemmOperand { Src = pb, LineStride = transB ? ldb : 1, KStride = transB ? 1 : ldb },
                C = pc, RowStride = ldc, Alpha = alpha, Beta = beta,
                Bias = biasAxis == BiasAxis.None ? null : pbias, BiasAxis = biasAxis, Activation = activation,
            };
            GemmDriver.Run(kernel, p, threads);
        }
    }

    /// <summary>
    /// Packs a constant A (e.g. layer weights) once for repeated <see cref="Compute(GemmPackedA, int, ReadOnlySpan{float}, int, Span{float}, int, ReadOnlySpan{float}, BiasAxis, Activation, int)"/> calls.
    /// op(A) is [M×K]: A stored [M×K] with lda ≥ K, or with <paramref name="transA"/> stored [K×M] with lda ≥ M.
    /// <paramref name="n"/>: the columns of B the packed A will mostly be multiplied with (0: not known); the
    /// register tile, and so the packing, is picked for it, and every later call runs that tile.
    /// </summary>
    public static GemmPackedA PackA(int m, int k, ReadOnlySpan<float> a, int lda, bool transA, int n = 0) =>
        PackAWith(GemmKernels.For(m, n), m, k, a, lda, transA);

    /// <summary><see cref="PackA"/> for an explicit registry entry (tests).</summary>
    internal static GemmPackedA PackAWith(GemmKernel kernel, int m, int k, ReadOnlySpan<float> a, int lda, bool transA)
    {
        ThrowHelper.IfNegative(m, nameof(m));
        ThrowHelper.IfNegative(k, nameof(k));
        CheckOperand("a", transA ? k : m, transA ? m : k, lda, transA, a.Length, $"m={m}, k={k}");
        return new GemmPackedA(kernel, m, k, a, lda, transA);
    }

    /// <summary>
    /// Packs a constant op(B) [K×N] once, for the tile the dispatcher picks for <paramref name="n"/> columns (rows
    /// not known yet): B stored [K×N] with ldb ≥ N, or with <paramref name="transB"/> stored [N×K] with ldb ≥ K
    /// (a token-linear layer's weights W [out × in], op(B) = Wᵀ).
    /// </summary>
    internal static GemmPackedB PackB(int n, int k, ReadOnlySpan<float> b, int ldb, bool transB) =>
        PackBWith(GemmKernels.For(0, n), n, k, b, ldb, transB);

    /// <summary><see cref="PackB"/> for an explicit registry entry (tests).</summary>
    internal static GemmPackedB PackBWith(GemmKernel kernel, int n, int k, ReadOnlySpan<float> b, int ldb, bool transB)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfNegative(k, nameof(k));
        CheckOperand("b", transB ? n : k, transB ? k : n, ldb, transB, b.Length, $"n={n}, k={k}");
        return new GemmPackedB(kernel, n, k, b, ldb, transB);
    }

    /// <summary>
    /// C[M×N] = act(A·B + bias) with A [M×K] (lda ≥ K) and a pre-packed B, C [M×N] (ldc ≥ N) row-major, C write-only.
    /// The tile is picked for M among those that read B's packing (same NR and edge width), so 14-, 12- and
    /// 16-row tiles share one packed B where their widths agree.
    /// </summary>
    internal static void Compute(int m, ReadOnlySpan<float> a, int lda, GemmPackedB b, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.N, k = b.K;
        Validate(m, n, k, a.Length, lda, false, int.MaxValue, Math.Max(1, n), false, c.Length, ldc, bias.Length, biasAxis);
        int t = WorkerPool.Resolve(threads);
        if (m == 0 || n == 0) return;
        var kernel = GemmKernels.For(m, n, b.Kernel, b.Fits);
        fixed (float* pa = a, pc = c, pbias = bias)
        {
            var p = new GemmProblem
            {
                M = m, N = n, K = k,
                A = new GemmOperand { Src = pa, LineStride = lda, KStride = 1 },
                B = new GemmOperand { Packed = b.ColumnPanels, PanelStride = b.PanelStride },
                C = pc, RowStride = ldc, Alpha = 1f, Beta = 0f,
                Bias = biasAxis == BiasAxis.None ? null : pbias, BiasAxis = biasAxis, Activation = activation,
            };
            GemmDriver.Run(kernel, p, t);
        }
        GC.KeepAlive(b);
    }

    /// <summary>
    /// C[M×N] = act(A·B + bias) with a pre-packed A [M×K] and B [K×N] (ldb ≥ N), C [M×N] (ldc ≥ N) row-major.
    /// Bias is [M] for <see cref="BiasAxis.Row"/> or [N] for <see cref="BiasAxis.Column"/>. C is write-only.
    /// </summary>
    public static void Compute(GemmPackedA a, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, int threads = 0) =>
        Compute(a, n, b, ldb, c, ldc, bias, biasAxis, activation, default, threads);

    /// <summary>
    /// As the public overload, with an epilogue on each finished panel of C (<see cref="GemmProblem.Epilogue"/>): a residual
    /// [M × ldc] laid out as C and its activation, C = act'(A·B + bias + R), with <paramref name="activation"/> None; then
    /// its post-activation.
    /// </summary>
    internal static void Compute(GemmPackedA a, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, BiasAxis biasAxis, Activation activation, OutputEpilogue epilogue, int threads)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (epilogue.R != null && activation.Kind != ActivationKind.None)
            ThrowHelper.Argument(nameof(activation), $"a residual needs a GEMM without its own activation (this one applies {activation}), which would come before the sum.");
        Validate(a.M, n, a.K, int.MaxValue, Math.Max(1, a.K), false, b.Length, ldb, false, c.Length, ldc, bias.Length, biasAxis);
        int t = WorkerPool.Resolve(threads);
        int m = a.M, k = a.K;
        if (m == 0 || n == 0) return;
        var kernel = a.Kernel;
        fixed (float* pb = b, pc = c, pbias = bias)
        {
            var p = new GemmProblem
            {
                M = m, N = n, K = k,
                A = new GemmOperand { Packed = a.RowPanels, PanelStride = (nint)kernel.MR * k },
                B = new GemmOperand { Src = pb, LineStride = 1, KStride = ldb },
                C = pc, RowStride = ldc, Alpha = 1f, Beta = 0f,
                Bias = biasAxis == BiasAxis.None ? null : pbias, BiasAxis = biasAxis, Activation = activation,
                Epilogue = epilogue,
            };
            GemmDriver.Run(kernel, p, t);
        }
        GC.KeepAlive(a);
    }
}
