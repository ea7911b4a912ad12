using System.Numerics.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// Matrix-vector products for fully connected layers at small batch: one input row x [K] against a constant weight W.
/// <code>
/// WeightRows (W stored [N × K], ONNX Gemm transB=1):  y[j] = act(Σ_k W[j,k]·x[k] + bias[j])   — one dot per output
/// WeightCols (W stored [K × N], MatMul / transB=0):   y[j] = act(Σ_k x[k]·W[k,j] + bias[j])   — one axpy per input
/// </code>
/// Buffers: w holds N·K floats, x K, y N, bias N or empty. At batch 1 the GEMM's 16-wide register tile wastes 15 of
/// 16 lanes on the single row and the product is bound by reading W once (ResNet-50's 2048→1000 layer: 8 MB), so a
/// streaming dot or axpy per row of W, vectorized by <see cref="TensorPrimitives"/> on every tier and split over
/// threads by output rows or columns, is the fast form. Not for large M: there the GEMM reuses each W load M times.
/// </summary>
public static unsafe class Gemv
{
    /// <summary>Below this many output elements per thread, a second thread costs more than it saves.</summary>
    private const int MinOutputsPerThread = 64;

    public static void WeightRows(ReadOnlySpan<float> w, int n, int k, ReadOnlySpan<float> x, Span<float> y,
        ReadOnlySpan<float> bias, Activation act, int threads = 0)
    {
        Check(w, n, k, x, y, bias);
        int parts = Parts(n, threads);
        fixed (float* pw = w, px = x, py = y, pb = bias)
        {
            nint aw = (nint)pw, ax = (nint)px, ay = (nint)py, ab = (nint)pb;
            bool hasBias = !bias.IsEmpty;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (j0, j1) = WorkerPool.Range(n, parts, part);
                var xs = new ReadOnlySpan<float>((float*)ax, k);
                for (int j = j0; j < j1; j++)
                {
                    float v = TensorPrimitives.Dot(new ReadOnlySpan<float>((float*)aw + (long)j * k, k), xs);
                    ((float*)ay)[j] = act.Apply(hasBias ? v + ((float*)ab)[j] : v);
                }
            });
        }
    }

    public static void WeightCols(ReadOnlySpan<float> w, int n, int k, ReadOnlySpan<float> x, Span<float> y,
        ReadOnlySpan<float> bias, Activation act, int threads = 0)
    {
        Check(w, n, k, x, y, bias);
        int parts = Parts(n, threads);
        fixed (float* pw = w, px = x, py = y, pb = bias)
        {
            nint aw = (nint)pw, ax = (nint)px, ay = (nint)py, ab = (nint)pb;
            bool hasBias = !bias.IsEmpty;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (j0, j1) = WorkerPool.Range(n, parts, part, grain: 16);
                int len = j1 - j0;
                if (len <= 0) return;
                var ys = new Span<float>((float*)ay + j0, len);
                if (hasBias) new ReadOnlySpan<float>((float*)ab + j0, len).CopyTo(ys);
                else ys.Clear();
                for (int p = 0; p < k; p++)
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)aw + (long)p * n + j0, len), ((float*)ax)[p], ys, ys);
                if (act.Kind != ActivationKind.None)
                    for (int j = 0; j < len; j++) ys[j] = act.Apply(ys[j]);
            });
        }
    }

    private static int Parts(int n, int threads) => Math.Clamp(n / MinOutputsPerThread, 1, WorkerPool.Resolve(threads));

    private static void Check(ReadOnlySpan<float> w, int n, int k, ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> bias)
    {
        if (n < 0 || k < 0) ThrowHelper.Argument(nameof(n), $"Gemv: N and K must be non-negative (got {n}, {k}).");
        ThrowHelper.IfTooShort(w.Length, (long)n * k, nameof(w), "N·K");
        ThrowHelper.IfTooShort(x.Length, k, nameof(x), "K");
        ThrowHelper.IfTooShort(y.Length, n, nameof(y), "N");
        if (!bias.IsEmpty) ThrowHelper.IfTooShort(bias.Length, n, nameof(bias), "N");
    }
}
