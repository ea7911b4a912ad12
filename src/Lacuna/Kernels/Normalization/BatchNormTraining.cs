using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX BatchNormalization in training mode with the contract of <see cref="ReferenceBatchNormTraining"/>: the batch
/// mean and population variance per channel (vector sums over each of the channel's N planes, channels split across
/// threads; the squared deviations summed around the mean, not as E[x²] − mean², which cancels), then the inference
/// kernel <see cref="BatchNorm"/> normalizes with them, and the running statistics are blended with momentum.
/// </summary>
public static class BatchNormTraining
{
    public static unsafe void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        Span<float> output, Span<float> runningMean, Span<float> runningVar, float epsilon = 1e-5f, float momentum = 0.9f,
        bool relu = false, int threads = 0)
    {
        ReferenceNormalization.CheckBatchNormalization(input.Length, inputShape, scale, bias, mean, variance, output.Length, epsilon);
        int n = inputShape[0], c = inputShape[1], spatial = ReferenceCheck.Product(inputShape[2..]);
        ReferenceBatchNormTraining.CheckStatistics(runningMean.Length, runningVar.Length, c);
        var mu = new float[c];
        var v = new float[c];
        double count = (double)n * spatial;
        if (count > 0)
            fixed (float* px = input)
            {
                float* xs = px;
                int parts = KernelParallel.Parts(threads, c, input.Length);
                KernelParallel.For(c, parts, (c0, c1) =>
                {
                    for (int ch = c0; ch < c1; ch++)
                    {
                        double sum = 0, squares = 0;
                        for (int b = 0; b < n; b++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(xs + ((long)b * c + ch) * spatial, spatial));
                        float m = (float)(sum / count);
                        for (int b = 0; b < n; b++) squares += VectorLoops.SumSquaredDeviation(new ReadOnlySpan<float>(xs + ((long)b * c + ch) * spatial, spatial), m);
                        (mu[ch], v[ch]) = (m, (float)(squares / count));
                    }
                });
            }
        BatchNorm.Compute(input, inputShape, scale, bias, mu, v, output, epsilon, relu, threads);
        for (int ch = 0; ch < c; ch++)
        {
            if (!runningMean.IsEmpty) runningMean[ch] = (float)(mean[ch] * (double)momentum + mu[ch] * (1.0 - momentum));
            if (!runningVar.IsEmpty) runningVar[ch] = (float)(variance[ch] * (double)momentum + v[ch] * (1.0 - momentum));
        }
    }
}
