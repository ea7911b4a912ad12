using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX BatchNormalization (inference) with the contract of <see cref="ReferenceNormalization.BatchNormalization"/>,
/// for any rank ≥ 2: the per-channel a = scale / sqrt(var + eps) and b = bias - mean·a are computed once in double,
/// then every element is one multiply-add (and an optional fused ReLU). Planes split across threads.
/// </summary>
public static class BatchNorm
{
    public static unsafe void Compute(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        Span<float> output, float epsilon = 1e-5f, bool relu = false, int threads = 0)
    {
        ReferenceNormalization.CheckBatchNormalization(input.Length, inputShape, scale, bias, mean, variance, output.Length, epsilon);
        int n = inputShape[0], c = inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        if (input.Length == 0) return;
        var a = new float[c];
        var b = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double inv = scale[ch] / Math.Sqrt((double)variance[ch] + epsilon);
            a[ch] = (float)inv;
            b[ch] = (float)(bias[ch] - mean[ch] * inv);
        }
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            if (spatial < 16)
            {
                // [N, C] (or tiny spatial): vectorize across channels instead of along a too-short plane.
                int rows = n;
                int parts = KernelParallel.Parts(threads, rows, input.Length);
                KernelParallel.For(rows, parts, (s, e) =>
                {
                    Span<float> rowA = spatial == 1 ? a : new float[c * spatial], rowB = spatial == 1 ? b : new float[c * spatial];
                    if (spatial > 1)
                        for (int ch = 0; ch < c; ch++) { rowA.Slice(ch * spatial, spatial).Fill(a[ch]); rowB.Slice(ch * spatial, spatial).Fill(b[ch]); }
                    int len = c * spatial;
                    for (int r = s; r < e; r++)
                    {
                        var y = new Span<float>(ys + (long)r * len, len);
                        TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<float>(xs + (long)r * len, len), rowA, rowB, y);
                        if (relu) TensorPrimitives.Max(y, 0f, y);
                    }
                });
                return;
            }
            int planes = n * c;
            int p = KernelParallel.Parts(threads, planes, input.Length);
            KernelParallel.For(planes, p, (s, e) =>
            {
                for (int plane = s; plane < e; plane++)
                {
                    int ch = plane % c;
                    VectorLoops.Affine(new ReadOnlySpan<float>(xs + (long)plane * spatial, spatial), a[ch], b[ch],
                        new Span<float>(ys + (long)plane * spatial, spatial), relu);
                }
            });
        }
    }
}
