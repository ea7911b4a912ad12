using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.Elementwise;

/// <summary>A per-element function in vector and scalar form (the scalar form is the tail and the no-SIMD tier).</summary>
internal interface IVectorUnary
{
    Vector<float> Apply(Vector<float> x);
    float Apply(float x);
}

/// <summary>A per-element function of two operands in vector and scalar form.</summary>
internal interface IVectorBinary
{
    Vector<float> Apply(Vector<float> a, Vector<float> b);
    float Apply(float a, float b);
}

/// <summary>
/// Runs an <see cref="IVectorUnary"/> / <see cref="IVectorBinary"/> over spans with <see cref="Vector{T}"/> (AVX2 and
/// AVX-512 machines: 8 lanes; 128-bit tier: 4; no SIMD: the scalar form). The struct type parameter lets the JIT
/// inline the operation into the loop. In place (y = x) is allowed.
/// </summary>
internal static class VectorMap
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unary<T>(ReadOnlySpan<float> x, Span<float> y, T op) where T : struct, IVectorUnary
    {
        int n = x.Length, i = 0;
        if (y.Length < n) ThrowHelper.Argument(nameof(y), $"output has {y.Length} elements, input {n}.");
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                op.Apply(new Vector<float>(x.Slice(i))).CopyTo(y.Slice(i));
        for (; i < n; i++) y[i] = op.Apply(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary<T>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, T op) where T : struct, IVectorBinary
    {
        int n = a.Length, i = 0;
        if (b.Length < n || y.Length < n) ThrowHelper.Argument(nameof(y), $"operands have {a.Length}, {b.Length}, output {y.Length} elements.");
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                op.Apply(new Vector<float>(a.Slice(i)), new Vector<float>(b.Slice(i))).CopyTo(y.Slice(i));
        for (; i < n; i++) y[i] = op.Apply(a[i], b[i]);
    }
    /// <summary>y[i] = op(a[i], b): the right operand broadcast to a vector once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RightScalar<T>(ReadOnlySpan<float> a, float b, Span<float> y, T op) where T : struct, IVectorBinary
    {
        int n = a.Length, i = 0;
        if (y.Length < n) ThrowHelper.Argument(nameof(y), $"output has {y.Length} elements, input {n}.");
        if (Vector.IsHardwareAccelerated)
        {
            var vb = new Vector<float>(b);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                op.Apply(new Vector<float>(a.Slice(i)), vb).CopyTo(y.Slice(i));
        }
        for (; i < n; i++) y[i] = op.Apply(a[i], b);
    }

    /// <summary>y[i] = op(a, b[i]): the left operand broadcast to a vector once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeftScalar<T>(float a, ReadOnlySpan<float> b, Span<float> y, T op) where T : struct, IVectorBinary
    {
        int n = b.Length, i = 0;
        if (y.Length < n) ThrowHelper.Argument(nameof(y), $"output has {y.Length} elements, input {n}.");
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                op.Apply(va, new Vector<float>(b.Slice(i))).CopyTo(y.Slice(i));
        }
        for (; i < n; i++) y[i] = op.Apply(a, b[i]);
    }
}
