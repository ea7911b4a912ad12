using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels;

/// <summary>
/// Element loops the layer kernels share that System.Numerics.Tensors.TensorPrimitives does not offer (two scalar
/// operands, the pooling NaN rule, a fused deviation sum). Each is a Vector512 / Vector256 / Vector128 / scalar ladder:
/// the widest width the process accelerates runs the body, the next narrower ones the tail, so every ISA tier
/// (DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0) takes its own path.
/// </summary>
internal static class VectorLoops
{
    /// <summary>y[i] = a·x[i] + b, then max(·, 0) when <paramref name="relu"/> (NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y, bool relu)
    {
        int n = x.Length, i = 0;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (y.Length < n) ThrowHelper.Argument(nameof(y), "Affine: output shorter than input.");
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref xs, (nuint)i), va, vb);
                if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                v.StoreUnsafe(ref ys, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref xs, (nuint)i), va, vb);
                if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                v.StoreUnsafe(ref ys, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> va = Vector128.Create(a), vb = Vector128.Create(b);
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref xs, (nuint)i), va, vb);
                if (relu) v = Vector128.Max(v, Vector128<float>.Zero);
                v.StoreUnsafe(ref ys, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = a * Unsafe.Add(ref xs, i) + b;
            Unsafe.Add(ref ys, i) = relu ? MathF.Max(v, 0f) : v;
        }
    }

    /// <summary>acc[i] = max(acc[i], row[i]) with the reference's pooling rule: a NaN, once in, stays (the first one wins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxInto(Span<float> acc, ReadOnlySpan<float> row)
    {
        int n = acc.Length, i = 0;
        if (row.Length < n) ThrowHelper.Argument(nameof(row), "MaxInto: row shorter than the accumulator.");
        ref float ms = ref MemoryMarshal.GetReference(acc);
        ref float rs = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var m = Vector512.LoadUnsafe(ref ms, (nuint)i);
                var v = Vector512.LoadUnsafe(ref rs, (nuint)i);
                var take = (Vector512.GreaterThan(v, m) | ~Vector512.Equals(v, v)) & Vector512.Equals(m, m);
                Vector512.ConditionalSelect(take, v, m).StoreUnsafe(ref ms, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var m = Vector256.LoadUnsafe(ref ms, (nuint)i);
                var v = Vector256.LoadUnsafe(ref rs, (nuint)i);
                var take = (Vector256.GreaterThan(v, m) | ~Vector256.Equals(v, v)) & Vector256.Equals(m, m);
                Vector256.ConditionalSelect(take, v, m).StoreUnsafe(ref ms, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
            {
                var m = Vector128.LoadUnsafe(ref ms, (nuint)i);
                var v = Vector128.LoadUnsafe(ref rs, (nuint)i);
                var take = (Vector128.GreaterThan(v, m) | ~Vector128.Equals(v, v)) & Vector128.Equals(m, m);
                Vector128.ConditionalSelect(take, v, m).StoreUnsafe(ref ms, (nuint)i);
            }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref rs, i), m = Unsafe.Add(ref ms, i);
            if ((v > m || float.IsNaN(v)) && !float.IsNaN(m)) Unsafe.Add(ref ms, i) = v;
        }
    }

    /// <summary>Σ (x[i] - mean)², accumulated in float lanes (the variance pass of a two-pass mean/variance).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumSquaredDeviation(ReadOnlySpan<float> x, float mean)
    {
        int n = x.Length, i = 0;
        ref float xs = ref MemoryMarshal.GetReference(x);
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> vm = Vector512.Create(mean), acc0 = default, acc1 = default;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref xs, (nuint)i) - vm;
                var d1 = Vector512.LoadUnsafe(ref xs, (nuint)(i + 16)) - vm;
                acc0 = Vector512.MultiplyAddEstimate(d0, d0, acc0);
                acc1 = Vector512.MultiplyAddEstimate(d1, d1, acc1);
            }
            for (; i <= n - 16; i += 16)
            {
                var d = Vector512.LoadUnsafe(ref xs, (nuint)i) - vm;
                acc0 = Vector512.MultiplyAddEstimate(d, d, acc0);
            }
            sum += Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            Vector256<float> vm = Vector256.Create(mean), acc0 = default, acc1 = default;
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector256.LoadUnsafe(ref xs, (nuint)i) - vm;
                var d1 = Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)) - vm;
                acc0 = Vector256.MultiplyAddEstimate(d0, d0, acc0);
                acc1 = Vector256.MultiplyAddEstimate(d1, d1, acc1);
            }
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref xs, (nuint)i) - vm;
                acc0 = Vector256.MultiplyAddEstimate(d, d, acc0);
            }
            sum += Vector256.Sum(acc0 + acc1);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            Vector128<float> vm = Vector128.Create(mean), acc = default;
            for (; i <= n - 4; i += 4)
            {
                var d = Vector128.LoadUnsafe(ref xs, (nuint)i) - vm;
                acc = Vector128.MultiplyAddEstimate(d, d, acc);
            }
            sum += Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref xs, i) - mean;
            sum += d * d;
        }
        return sum;
    }
}
