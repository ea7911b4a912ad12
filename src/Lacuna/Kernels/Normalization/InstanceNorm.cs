using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX InstanceNormalization with the contract of <see cref="ReferenceNormalization.InstanceNormalization"/>: per
/// (n, c) plane a vectorized two-pass mean and variance (the second pass sums squared deviations, so no cancellation
/// of E[x²] - E[x]²), then one multiply-add per element. Planes split across threads.
/// </summary>
public static class InstanceNorm
{
    public static unsafe void Compute(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        Span<float> output, float epsilon = 1e-5f, int threads = 0)
    {
        ReferenceNormalization.CheckInstanceNormalization(input.Length, inputShape, scale.Length, bias.Length, output.Length, epsilon);
        int c = inputShape[1], planes = inputShape[0] * c;
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        if (input.Length == 0) return;
        float[] sc = scale.ToArray(), bi = bias.ToArray();
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            int parts = KernelParallel.Parts(threads, planes, input.Length);
            KernelParallel.For(planes, parts, (s, e) =>
            {
                for (int plane = s; plane < e; plane++)
                {
                    var x = new ReadOnlySpan<float>(xs + (long)plane * spatial, spatial);
                    float mean = TensorPrimitives.Sum(x) / spatial;
                    double variance = VectorLoops.SumSquaredDeviation(x, mean) / (double)spatial;
                    int ch = plane % c;
                    double a = sc[ch] / Math.Sqrt(variance + epsilon);
                    VectorLoops.Affine(x, (float)a, (float)(bi[ch] - mean * a), new Span<float>(ys + (long)plane * spatial, spatial), relu: false);
                }
            });
        }
    }
}
