using System.Numerics.Tensors;
using Lacuna.Kernels.Elementwise;

namespace Lacuna.Kernels.Transformer;

/// <summary>
/// Gelu over a span, in passes of TensorPrimitives and the vectorized erf (<see cref="UnaryKernels.Erf"/>) through a
/// 1024-float stack tile so each element is loaded from memory once. The specification is
/// <see cref="Reference.ReferenceTransformer.Gelu"/>; the operator Gelu (and the fused erf/tanh forms) compile to
/// <see cref="Erf"/> / <see cref="Tanh"/>: the place a faster fused kernel replaces.
/// </summary>
public static class Gelu
{
    private const int Tile = 1024;
    private const float InvSqrt2 = 0.70710678118654752f, TanhScale = 0.79788456080286536f, Cubic = 0.044715f;

    /// <summary>y = 0.5·x·(1 + erf(x/√2)); y may be x.</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[Tile];
        for (int i = 0; i < x.Length; i += Tile)
        {
            int n = Math.Min(Tile, x.Length - i);
            var xs = x.Slice(i, n); var ts = t[..n];
            TensorPrimitives.Multiply(xs, InvSqrt2, ts);
            UnaryKernels.Erf(ts, ts);
            TensorPrimitives.Add(ts, 1f, ts);
            TensorPrimitives.Multiply(ts, xs, ts);
            TensorPrimitives.Multiply(ts, 0.5f, y.Slice(i, n));
        }
    }

    /// <summary>y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); y may be x.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[Tile];
        for (int i = 0; i < x.Length; i += Tile)
        {
            int n = Math.Min(Tile, x.Length - i);
            var xs = x.Slice(i, n); var ts = t[..n];
            TensorPrimitives.Multiply(xs, xs, ts);
            TensorPrimitives.Multiply(ts, Cubic, ts);
            TensorPrimitives.Add(ts, 1f, ts);                  // 1 + c·x²
            TensorPrimitives.Multiply(ts, xs, ts);             // x + c·x³
            TensorPrimitives.Multiply(ts, TanhScale, ts);
            TensorPrimitives.Tanh(ts, ts);
            TensorPrimitives.Add(ts, 1f, ts);
            TensorPrimitives.Multiply(ts, xs, ts);
            TensorPrimitives.Multiply(ts, 0.5f, y.Slice(i, n));
        }
    }
}
