using System.Numerics.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.Transformer;

/// <summary>
/// LayerNormalization over rows of <c>inner</c> floats, each row in three TensorPrimitives passes (sum; subtract and
/// sum of squares; scale and shift) with rows split over the pool. The specification is
/// <see cref="Reference.ReferenceTransformer.LayerNorm"/>. This is the one kernel the LayerNormalization operator
/// (and the fused decomposed form) compiles to: the place a faster fused kernel replaces.
/// </summary>
public static class LayerNorm
{
    /// <summary>Rows·inner floats from which the rows are split across threads.</summary>
    private const int ParallelFrom = 1 << 15;

    public static unsafe void Compute(ReadOnlySpan<float> x, int rows, int inner, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        float epsilon, Span<float> y, Span<float> mean = default, Span<float> invStdDev = default)
    {
        if (x.Length < rows * inner || y.Length < rows * inner || scale.Length < inner || (!bias.IsEmpty && bias.Length < inner)
            || (!mean.IsEmpty && mean.Length < rows) || (!invStdDev.IsEmpty && invStdDev.Length < rows))
            ThrowHelper.Argument(nameof(x), $"LayerNorm: spans are shorter than {rows} rows of {inner}.");
        int threads = WorkerPool.Resolve(0);
        int parts = (long)rows * inner < ParallelFrom ? 1 : Math.Min(threads, rows);
        fixed (float* px = x, py = y, ps = scale, pb = bias, pm = mean, pi = invStdDev)
        {
            float* xs = px, ys = py, ss = ps, bs = pb, ms = pm, iv = pi;
            int bl = bias.Length, ml = mean.Length, il = invStdDev.Length;
            if (parts <= 1) { Rows(xs, 0, rows, inner, ss, bs, bl, epsilon, ys, ms, ml, iv, il); return; }
            WorkerPool.Shared.Run(parts, part =>
            {
                var (r0, r1) = WorkerPool.Range(rows, parts, part);
                Rows(xs, r0, r1, inner, ss, bs, bl, epsilon, ys, ms, ml, iv, il);
            });
        }
    }

    private static unsafe void Rows(float* x, int r0, int r1, int inner, float* scale, float* bias, int biasLength, float eps,
        float* y, float* mean, int meanLength, float* inv, int invLength)
    {
        var s = new ReadOnlySpan<float>(scale, inner);
        var b = new ReadOnlySpan<float>(bias, biasLength == 0 ? 0 : inner);
        for (int r = r0; r < r1; r++)
        {
            var xr = new ReadOnlySpan<float>(x + (long)r * inner, inner);
            var yr = new Span<float>(y + (long)r * inner, inner);
            float m = inner == 0 ? 0f : TensorPrimitives.Sum(xr) / inner;
            TensorPrimitives.Subtract(xr, m, yr);
            float var = inner == 0 ? 0f : TensorPrimitives.SumOfSquares(yr) / inner;
            float rstd = 1f / MathF.Sqrt(var + eps);
            TensorPrimitives.Multiply(yr, rstd, yr);
            if (b.IsEmpty) TensorPrimitives.Multiply(yr, s, yr);
            else TensorPrimitives.FusedMultiplyAdd(yr, s, b, yr);
            if (meanLength > 0) mean[r] = m;
            if (invLength > 0) inv[r] = rstd;
        }
    }
}
