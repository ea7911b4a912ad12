using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX LRN (across channels) with the contract of <see cref="ReferenceNormalization.Lrn"/>. Work is cut into
/// (n, chunk of pixels) units; per channel the window's sum of squares is a vector multiply-add over the window's
/// channel rows of that chunk (they stay in L1 from one channel to the next, each row being read size times),
/// then y = x · exp(-beta · log(bias + alpha/size · sum)) in vectorized passes (a square-root pair for beta = 0.75).
/// </summary>
public static class Lrn
{
    /// <summary>Pixels per unit: size + 2 rows of this many floats stay well inside L1.</summary>
    private const int PixelChunk = 512;

    public static unsafe void Compute(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output,
        int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f, int threads = 0)
    {
        ReferenceNormalization.CheckLrn(input.Length, inputShape, output.Length, size);
        // Channel windows read rows other units write: an in-place call would read normalized values.
        if (input.Overlaps(output)) ThrowHelper.Argument(nameof(output), "LRN: output must not overlap the input.");
        int n = inputShape[0], c = inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        if (input.Length == 0) return;
        int before = (size - 1) / 2, after = size - 1 - before;
        int chunks = (spatial + PixelChunk - 1) / PixelChunk;
        int units = n * chunks;
        float k = alpha / size;
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            int parts = KernelParallel.Parts(threads, units, (long)input.Length * Math.Min(size, c));
            KernelParallel.For(units, parts, (s, e) =>
            {
                var acc = new float[Math.Min(spatial, PixelChunk)];
                var tmp = new float[acc.Length];
                for (int u = s; u < e; u++)
                {
                    int b = u / chunks, i0 = u % chunks * PixelChunk, width = Math.Min(PixelChunk, spatial - i0);
                    var sq = acc.AsSpan(0, width);
                    for (int ch = 0; ch < c; ch++)
                    {
                        sq.Clear();
                        int lo = Math.Max(0, ch - before), hi = Math.Min(c - 1, ch + after);
                        for (int w = lo; w <= hi; w++)
                        {
                            var row = new ReadOnlySpan<float>(xs + ((long)b * c + w) * spatial + i0, width);
                            TensorPrimitives.MultiplyAdd(row, row, sq, sq);
                        }
                        long at = ((long)b * c + ch) * spatial + i0;
                        Normalize(sq, tmp.AsSpan(0, width), new ReadOnlySpan<float>(xs + at, width), new Span<float>(ys + at, width), k, beta, bias);
                    }
                }
            });
        }
    }

    /// <summary>y = x / (bias + k·sq)^beta, with sq and tmp overwritten.</summary>
    private static void Normalize(Span<float> sq, Span<float> tmp, ReadOnlySpan<float> x, Span<float> y, float k, float beta, float bias)
    {
        VectorLoops.Affine(sq, k, bias, sq, relu: false);
        if (beta == 0.75f)
        {
            // t^-0.75 = 1 / (sqrt(t) · sqrt(sqrt(t))): two vector square roots instead of a log and an exp.
            TensorPrimitives.Sqrt(sq, tmp);
            TensorPrimitives.Sqrt(tmp, sq);
            TensorPrimitives.Multiply(sq, tmp, sq);
            TensorPrimitives.Divide(x, sq, y);
            return;
        }
        TensorPrimitives.Log(sq, sq);
        TensorPrimitives.Multiply(sq, -beta, sq);
        TensorPrimitives.Exp(sq, sq);
        TensorPrimitives.Multiply(x, sq, y);
    }
}
