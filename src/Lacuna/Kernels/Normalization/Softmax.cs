using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Normalization;

/// <summary>
/// ONNX Softmax and LogSoftmax over any axis with the contracts of <see cref="ReferenceNormalization.Softmax"/> and
/// <see cref="ReferenceNormalization.LogSoftmax"/>. The input is viewed as [outer, length, inner] with the axis in the
/// middle. When inner is 1 each row is contiguous: max, exp, sum and scale run as vectorized TensorPrimitives passes.
/// Otherwise the loops are transposed: the running max, the exponentials and the sums are vectors across a chunk of
/// the inner dimension, one axis entry (a contiguous row of that chunk) at a time. NaN anywhere in a slice makes the
/// whole slice NaN, as in the reference. The output may be the input itself (in place).
/// </summary>
public static class Softmax
{
    /// <summary>Inner entries processed together in the strided case (scratch of two such rows per part).</summary>
    private const int InnerChunk = 1024;

    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis = -1, int threads = 0) =>
        Run(input, inputShape, output, axis, threads, log: false);

    /// <summary>LogSoftmax: y = x - max - log Σ exp(x - max) along the axis.</summary>
    public static void ComputeLog(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis = -1, int threads = 0) =>
        Run(input, inputShape, output, axis, threads, log: true);

    private static unsafe void Run(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis, int threads, bool log)
    {
        int a = ReferenceNormalization.CheckSoftmax(input.Length, inputShape, output.Length, axis, log ? "LogSoftmax" : "Softmax");
        int outer = ReferenceCheck.Product(inputShape[..a]);
        int length = inputShape[a];
        int inner = ReferenceCheck.Product(inputShape[(a + 1)..]);
        if (input.Length == 0) return;
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            if (inner == 1)
            {
                int parts = KernelParallel.Parts(threads, outer, input.Length);
                KernelParallel.For(outer, parts, (s, e) =>
                {
                    for (int o = s; o < e; o++)
                        Row(new ReadOnlySpan<float>(xs + (long)o * length, length), new Span<float>(ys + (long)o * length, length), log);
                });
                return;
            }
            int chunks = (inner + InnerChunk - 1) / InnerChunk;
            int units = outer * chunks;
            int p = KernelParallel.Parts(threads, units, input.Length);
            KernelParallel.For(units, p, (s, e) =>
            {
                var max = new float[Math.Min(inner, InnerChunk)];
                var sum = new float[max.Length];
                var exps = new float[max.Length];
                for (int u = s; u < e; u++)
                {
                    int o = u / chunks, i0 = u % chunks * InnerChunk, width = Math.Min(InnerChunk, inner - i0);
                    Strided(xs + (long)o * length * inner + i0, ys + (long)o * length * inner + i0, length, inner, width,
                        max.AsSpan(0, width), sum.AsSpan(0, width), exps.AsSpan(0, width), log);
                }
            });
        }
    }

    /// <summary>One contiguous slice; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    private static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x); // NaN if any element is NaN
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            // Σ exp(x - max) through a small stack buffer, so y keeps x - max and an in-place call stays exact.
            Span<float> exps = stackalloc float[256];
            double sum = 0;
            for (int i = 0; i < y.Length; i += exps.Length)
            {
                var part = y.Slice(i, Math.Min(exps.Length, y.Length - i));
                TensorPrimitives.Exp(part, exps[..part.Length]);
                sum += TensorPrimitives.Sum(exps[..part.Length]);
            }
            TensorPrimitives.Subtract(y, (float)Math.Log(sum), y);
            return;
        }
        TensorPrimitives.Exp(y, y);
        float total = TensorPrimitives.Sum(y);
        TensorPrimitives.Divide(y, total, y);
    }

    /// <summary>
    /// Slices at stride <paramref name="inner"/>: <paramref name="width"/> neighbouring slices at once, each axis entry
    /// a contiguous row of <paramref name="width"/> floats. Every row of x is read before its row of y is written, so
    /// <paramref name="y"/> may be <paramref name="x"/>.
    /// </summary>
    private static unsafe void Strided(float* x, float* y, int length, int inner, int width, Span<float> max, Span<float> sum, Span<float> exps, bool log)
    {
        new ReadOnlySpan<float>(x, width).CopyTo(max);
        for (int j = 1; j < length; j++) VectorLoops.MaxInto(max, new ReadOnlySpan<float>(x + (long)j * inner, width));
        sum.Clear();
        for (int j = 0; j < length; j++)
        {
            var yj = new Span<float>(y + (long)j * inner, width);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(x + (long)j * inner, width), max, yj);
            if (log)
            {
                TensorPrimitives.Exp(yj, exps); // y keeps x - max for the final shift
                TensorPrimitives.Add(sum, exps, sum);
            }
            else
            {
                TensorPrimitives.Exp(yj, yj);
                TensorPrimitives.Add(sum, yj, sum);
            }
        }
        if (log) TensorPrimitives.Log(sum, sum);
        else TensorPrimitives.Reciprocal(sum, sum);
        for (int j = 0; j < length; j++)
        {
            var yj = new Span<float>(y + (long)j * inner, width);
            if (log) TensorPrimitives.Subtract(yj, sum, yj);
            else TensorPrimitives.Multiply(yj, sum, yj);
        }
    }
}
