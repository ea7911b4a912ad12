using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Pooling;

/// <summary>
/// ONNX GlobalAveragePool and GlobalMaxPool for any rank ≥ 3 with the contracts of
/// <see cref="ReferencePool.GlobalAveragePool"/> and <see cref="ReferencePool.GlobalMaxPool"/>: one vectorized
/// TensorPrimitives reduction per (n, c) plane (Max returns NaN when the plane holds one), planes split across threads.
/// Output shape from <see cref="ReferencePool.GlobalAveragePoolShape"/>: [N, C, 1, ..., 1].
/// </summary>
public static class GlobalPool
{
    public static void Average(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int threads = 0) =>
        Run(input, inputShape, output, threads, max: false);

    public static void Max(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int threads = 0) =>
        Run(input, inputShape, output, threads, max: true);

    private static unsafe void Run(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int threads, bool max)
    {
        ReferencePool.CheckGlobalPool(input.Length, inputShape, output.Length, max ? "GlobalMaxPool" : "GlobalAveragePool");
        int planes = inputShape[0] * inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        if (planes == 0) return;
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            int parts = KernelParallel.Parts(threads, planes, input.Length);
            KernelParallel.For(planes, parts, (s, e) =>
            {
                for (int plane = s; plane < e; plane++)
                {
                    var x = new ReadOnlySpan<float>(xs + (long)plane * spatial, spatial);
                    ys[plane] = max ? TensorPrimitives.Max(x) : TensorPrimitives.Sum(x) / spatial;
                }
            });
        }
    }
}
