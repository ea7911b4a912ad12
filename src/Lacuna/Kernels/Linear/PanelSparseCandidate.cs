using System.Buffers;
using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Kernels.Linear;

/// <summary>
/// Yᵀ = W·Xᵀ on an <see cref="ISpmmPlan"/> one panel of <see cref="Panel"/> tokens at a time: the panel of X is
/// transposed into a feature-major scratch [in × tokens] that stays in L2, the plan runs on it, and its
/// [out × tokens] result is transposed straight into the panel's rows of Y, Gelu applied while they are in cache.
/// <see cref="SparseCandidate"/> does the same over all tokens at once, so its transposed copies of X and Y
/// (BERT-base at sequence 128: up to 1.5 MB each) go through L3 and back, and Gelu reads Y once more. Threads take
/// whole panels (each runs the plan on one thread), so a 128-token run at 2 threads has no barrier inside the
/// product; with fewer panels than threads the plan gets the threads instead.
/// </summary>
internal sealed class PanelSparseCandidate(ISpmmPlan plan, TokenLinearActivation activation) : TokenLinearCandidate
{
    /// <summary>Tokens per panel: four 16-float vectors per row of the plan's product; X's panel is in·64 floats.</summary>
    public const int Panel = 64;

    public override string Name => "sparse-panels";
    public override string Describe() => $"{plan.Describe()}, {Panel}-token panels";

    public override unsafe void Run(ReadOnlySpan<float> x, int tokens, Span<float> y, int threads)
    {
        int panels = (tokens + Panel - 1) / Panel;
        int parts = Math.Min(threads, panels);
        fixed (float* px = x, py = y)
        {
            if (parts <= 1) { Panels(px, py, tokens, 0, panels, threads); return; }
            nint ax = (nint)px, ay = (nint)py;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (p0, p1) = WorkerPool.Range(panels, parts, part);
                Panels((float*)ax, (float*)ay, tokens, p0, p1, 1);
            });
        }
    }

    /// <summary>Panels [p0, p1) of the run, the plan on <paramref name="threads"/> threads.</summary>
    private unsafe void Panels(float* x, float* y, int tokens, int p0, int p1, int threads)
    {
        int k = plan.K, m = plan.M;
        var pool = ArrayPool<float>.Shared;
        float[] xt = pool.Rent(Math.Max(1, Panel * k)), yt = pool.Rent(Math.Max(1, Panel * m));
        try
        {
            for (int p = p0; p < p1; p++)
            {
                int t0 = p * Panel, rows = Math.Min(Panel, tokens - t0);
                var xT = xt.AsSpan(0, rows * k);
                var yT = yt.AsSpan(0, rows * m);
                Transpose.Compute(new ReadOnlySpan<float>(x + (long)t0 * k, rows * k), [rows, k], [1, 0], xT, 1);
                plan.Run(xT, rows, yT, threads);
                var yRows = new Span<float>(y + (long)t0 * m, rows * m);
                Transpose.Compute(yT, [m, rows], [1, 0], yRows, 1);
                TokenLinearPlan.ApplyGelu(yRows, activation, 1);
            }
        }
        finally
        {
            pool.Return(xt); pool.Return(yt);
        }
    }
}
