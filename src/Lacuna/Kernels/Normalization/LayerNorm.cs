using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX LayerNormalization over the last axis (the transformer case; trailing axes flatten into one
/// <c>width</c>) with the contract of <see cref="ReferenceTransformer.LayerNorm"/>, optionally fused with the
/// residual add before it (post-LN blocks: LN(x + sublayer(x))): per row, s = x (+ residual), mean, variance by a
/// second pass over the row (no E[x²] − mean² cancellation), y = (s − mean)·rstd·gamma + beta. Rows are split over
/// threads; each pass is a vectorized <see cref="TensorPrimitives"/> or <see cref="VectorLoops"/> loop on every
/// tier. The output may be the input or the residual itself (in place).
/// </summary>
public static class LayerNorm
{
    /// <param name="x">[rows × width]</param>
    /// <param name="width">length of the normalized axis</param>
    /// <param name="gamma">[width] scale</param>
    /// <param name="beta">[width] shift, or empty for none</param>
    /// <param name="y">[rows × width]</param>
    /// <param name="residual">[rows × width] added to x first, or empty</param>
    /// <param name="mean">[rows] each row's mean (ONNX's optional output), or empty</param>
    /// <param name="invStdDev">[rows] each row's 1/√(var + ε), or empty</param>
    public static unsafe void Compute(ReadOnlySpan<float> x, int width, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        float epsilon = 1e-5f, ReadOnlySpan<float> residual = default, int threads = 0, Span<float> mean = default, Span<float> invStdDev = default)
    {
        ReferenceTransformer.CheckLayerNorm(x.Length, width, gamma.Length, beta.Length, y.Length, epsilon, residual.Length);
        if (x.Length == 0) return;
        int rows = x.Length / width;
        if (!mean.IsEmpty) ThrowHelper.IfTooShort(mean.Length, rows, nameof(mean), $"Mean [{rows}]");
        if (!invStdDev.IsEmpty) ThrowHelper.IfTooShort(invStdDev.Length, rows, nameof(invStdDev), $"InvStdDev [{rows}]");
        int parts = KernelParallel.Parts(threads, rows, x.Length);
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pr = residual, pm = mean, pi = invStdDev)
        {
            nint ax = (nint)px, ag = (nint)pg, ab = (nint)pb, ay = (nint)py, ar = (nint)pr, am = (nint)pm, ai = (nint)pi;
            bool hasBeta = !beta.IsEmpty, hasResidual = !residual.IsEmpty, hasMean = !mean.IsEmpty, hasInv = !invStdDev.IsEmpty;
            KernelParallel.For(rows, parts, (s, e) =>
            {
                var g = new ReadOnlySpan<float>((float*)ag, width);
                var b = hasBeta ? new ReadOnlySpan<float>((float*)ab, width) : default;
                for (int r = s; r < e; r++)
                {
                    long at = (long)r * width;
                    var yr = new Span<float>((float*)ay + at, width);
                    var xr = new ReadOnlySpan<float>((float*)ax + at, width);
                    (float Mean, float Rstd) stats;
                    if (hasResidual)
                    {
                        TensorPrimitives.Add(xr, new ReadOnlySpan<float>((float*)ar + at, width), yr);
                        stats = Row(yr, g, b, yr, epsilon);
                    }
                    else stats = Row(xr, g, b, yr, epsilon);
                    if (hasMean) ((float*)am)[r] = stats.Mean;
                    if (hasInv) ((float*)ai)[r] = stats.Rstd;
                }
            });
        }
    }

    private static (float Mean, float Rstd) Row(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, float epsilon)
    {
        float mean = TensorPrimitives.Sum(x) / x.Length;
        float variance = VectorLoops.SumSquaredDeviation(x, mean) / x.Length;
        float rstd = 1f / MathF.Sqrt(variance + epsilon);
        TensorPrimitives.Subtract(x, mean, y);
        TensorPrimitives.Multiply(y, rstd, y);
        if (beta.IsEmpty) TensorPrimitives.Multiply(y, gamma, y);
        else TensorPrimitives.MultiplyAdd(y, gamma, beta, y);
        return (mean, rstd);
    }
}
