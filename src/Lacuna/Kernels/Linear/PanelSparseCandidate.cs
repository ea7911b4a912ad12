using System.Buffers;
using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.Linear;

/// <summary>
/// Yᵀ = W·Xᵀ on an <see cref="ISpmmPlan"/> with tokens as the dense dimension, one panel of at most
/// <paramref name="panel"/> tokens at a time: the panel of X is transposed into a feature-major scratch
/// [in × tokens], the plan runs on it, and its [out × tokens] result is transposed straight into the panel's rows of
/// Y, Gelu applied while they are in cache.
/// <para>
/// Two candidates use it. <c>sparse</c> takes the whole run as one panel and gives the plan every thread.
/// <c>sparse-panels</c> takes <see cref="Panel"/> tokens per panel, so X's panel stays in L2: over all tokens at once,
/// BERT-base's transposed copies of X and Y at sequence 128 (up to 1.5 MB each) go through L3 and back. Its threads take
/// whole panels (each runs the plan on one thread), so a 128-token run at 2 threads has no barrier inside the product;
/// with fewer panels than threads the plan gets the threads instead.
/// </para>
/// </summary>
internal sealed class PanelSparseCandidate(ISpmmPlan plan, TokenLinearActivation activation, int panel) : TokenLinearCandidate
{
    /// <summary>Tokens per panel of <c>sparse-panels</c>: four 16-float vectors per row of the product; X's panel is in·64 floats.</summary>
    public const int Panel = 64;

    /// <summary>The whole run as one panel.</summary>
    public const int Whole = int.MaxValue;

    public override string Name => panel == Whole ? "sparse" : "sparse-panels";
    public override string Describe() => panel == Whole ? plan.Describe() : $"{plan.Describe()}, {panel}-token panels";

    public override unsafe void Run(ReadOnlySpan<float> x, int tokens, Span<float> y, int threads)
    {
        int rows = Math.Min(panel, tokens);
        int panels = (tokens + rows - 1) / rows;
        int parts = Math.Min(threads, panels);
        fixed (float* px = x, py = y)
        {
            if (parts <= 1) { Panels(px, py, tokens, rows, 0, panels, threads); return; }
            nint ax = (nint)px, ay = (nint)py;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (p0, p1) = WorkerPool.Range(panels, parts, part);
                Panels((float*)ax, (float*)ay, tokens, rows, p0, p1, 1);
            });
        }
    }

    /// <summary>Panels [p0, p1) of <paramref name="size"/> tokens each (the last may be shorter), the plan on <paramref name="threads"/> threads.</summary>
    private unsafe void Panels(float* x, float* y, int tokens, int size, int p0, int p1, int threads)
    {
        int k = plan.K, m = plan.M;
        var pool = ArrayPool<float>.Shared;
        float[] xt = pool.Rent(Math.Max(1, size * k)), yt = pool.Rent(Math.Max(1, size * m));
        try
        {
            for (int p = p0; p < p1; p++)
            {
                int t0 = p * size, rows = Math.Min(size, tokens - t0);
                var xT = xt.AsSpan(0, rows * k);
                var yT = yt.AsSpan(0, rows * m);
                Transpose.Compute(new ReadOnlySpan<float>(x + (long)t0 * k, rows * k), [rows, k], [1, 0], xT, threads);
                plan.Run(xT, rows, yT, threads);
                var yRows = new Span<float>(y + (long)t0 * m, rows * m);
                Transpose.Compute(yT, [m, rows], [1, 0], yRows, threads);
                TokenLinearPlan.ApplyGelu(yRows, activation, threads);
            }
        }
        finally
        {
            pool.Return(xt); pool.Return(yt);
        }
    }
}
