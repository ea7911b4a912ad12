using Lacuna.Threading;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// Splits large element-wise work across the shared pool in 32 KB-aligned chunks (like <c>AddActivation</c>): the ops
/// are bandwidth-bound, and below 64 K elements a second thread costs more than it brings.
/// </summary>
public static class ElementwiseParallel
{
    public const int Chunk = 8192;
    public const int ParallelFrom = 1 << 16;

    /// <summary>y = op(x), in chunks on up to <paramref name="threads"/> threads (0 = the default).</summary>
    public static unsafe void Unary(SpanUnaryOp op, ReadOnlySpan<float> x, Span<float> y, int threads = 0)
    {
        int n = x.Length;
        if (y.Length < n) ThrowHelper.Argument(nameof(y), $"output has {y.Length} elements, input {n}.");
        int parts = n < ParallelFrom ? 1 : Math.Min(WorkerPool.Resolve(threads), (n + Chunk - 1) / Chunk);
        if (parts <= 1)
        {
            op(x, y[..n]);
            return;
        }
        fixed (float* px = x, py = y)
        {
            float* xx = px, xy = py;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (s, e) = WorkerPool.Range(n, parts, part, Chunk);
                op(new ReadOnlySpan<float>(xx + s, e - s), new Span<float>(xy + s, e - s));
            });
        }
    }
}
