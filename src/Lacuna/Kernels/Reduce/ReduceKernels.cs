using System.Buffers;
using System.Numerics.Tensors;

namespace Lacuna.Kernels.Reduce;

/// <summary>The ONNX reductions (ReduceMean ... ReduceLogSumExp): one fold per kind, finished per output element.</summary>
public enum ReduceKind { Mean, Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp }

/// <summary>
/// Reductions over one contiguous block of axes, seen as x[outer, r, inner], on TensorPrimitives (vectorized on every
/// tier): inner = 1 reduces rows of r; otherwise rows of inner are accumulated r times into the output row. Scattered
/// axes go through a precomputed output index per input element. LogSumExp subtracts each group's maximum before
/// exponentiating (no overflow); a non-finite maximum (±∞, NaN) is the result.
/// </summary>
public static class ReduceKernels
{
    /// <summary>The ONNX name of each kind, "Reduce" + kind.</summary>
    public static string OperatorName(ReduceKind kind) => "Reduce" + kind;

    /// <summary>The result for an empty group (Σ of nothing finished: Mean 0/0 = NaN, LogSum log 0 = −∞).</summary>
    public static float Empty(ReduceKind kind) => kind switch
    {
        ReduceKind.Mean => float.NaN,
        ReduceKind.Max or ReduceKind.LogSum or ReduceKind.LogSumExp => float.NegativeInfinity,
        ReduceKind.Min => float.PositiveInfinity,
        ReduceKind.Prod => 1f,
        _ => 0f,
    };

    /// <summary>y[o] = reduce(x[o·r .. o·r + r)) for o in [0, y.Length).</summary>
    public static void Rows(ReduceKind kind, ReadOnlySpan<float> x, int r, Span<float> y)
    {
        if (r == 0) { y.Fill(Empty(kind)); return; }
        float[]? scratch = kind == ReduceKind.LogSumExp ? ArrayPool<float>.Shared.Rent(r) : null;
        for (int o = 0; o < y.Length; o++)
        {
            var row = x.Slice(o * r, r);
            y[o] = kind switch
            {
                ReduceKind.Mean => TensorPrimitives.Sum(row) / r,
                ReduceKind.Sum => TensorPrimitives.Sum(row),
                ReduceKind.Max => TensorPrimitives.Max(row),
                ReduceKind.Min => TensorPrimitives.Min(row),
                ReduceKind.Prod => TensorPrimitives.Product(row),
                ReduceKind.L1 => TensorPrimitives.SumOfMagnitudes(row),
                ReduceKind.L2 => TensorPrimitives.Norm(row),
                ReduceKind.SumSquare => TensorPrimitives.SumOfSquares(row),
                ReduceKind.LogSum => MathF.Log(TensorPrimitives.Sum(row)),
                _ => LogSumExpRow(row, scratch.AsSpan(0, r)),
            };
        }
        if (scratch is not null) ArrayPool<float>.Shared.Return(scratch);
    }

    private static float LogSumExpRow(ReadOnlySpan<float> row, Span<float> scratch)
    {
        float m = TensorPrimitives.Max(row);
        if (!float.IsFinite(m)) return m;
        TensorPrimitives.Subtract(row, m, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return MathF.Log(TensorPrimitives.Sum(scratch)) + m;
    }

    /// <summary>y[o, i] = reduce over j of x[o, j, i] (x is [outer, r, inner], y is [outer, inner]).</summary>
    public static void Columns(ReduceKind kind, ReadOnlySpan<float> x, int outer, int r, int inner, Span<float> y)
    {
        bool needsScratch = kind is ReduceKind.L1 or ReduceKind.LogSumExp;
        float[]? pooled = needsScratch ? ArrayPool<float>.Shared.Rent(2 * inner) : null;
        Span<float> s = needsScratch ? pooled.AsSpan(0, inner) : default, m = needsScratch ? pooled.AsSpan(inner, inner) : default;
        for (int o = 0; o < outer; o++)
        {
            var yo = y.Slice(o * inner, inner);
            var xo = x.Slice(o * r * inner, r * inner);
            switch (kind)
            {
                case ReduceKind.Max or ReduceKind.Min:
                    yo.Fill(Empty(kind));
                    for (int j = 0; j < r; j++)
                        if (kind == ReduceKind.Max) TensorPrimitives.Max(yo, xo.Slice(j * inner, inner), yo); else TensorPrimitives.Min(yo, xo.Slice(j * inner, inner), yo);
                    break;
                case ReduceKind.Prod:
                    yo.Fill(1f);
                    for (int j = 0; j < r; j++) TensorPrimitives.Multiply(yo, xo.Slice(j * inner, inner), yo);
                    break;
                case ReduceKind.L1:
                    yo.Clear();
                    for (int j = 0; j < r; j++) { TensorPrimitives.Abs(xo.Slice(j * inner, inner), s); TensorPrimitives.Add(yo, s, yo); }
                    break;
                case ReduceKind.L2 or ReduceKind.SumSquare:
                    yo.Clear();
                    for (int j = 0; j < r; j++) TensorPrimitives.MultiplyAdd(xo.Slice(j * inner, inner), xo.Slice(j * inner, inner), yo, yo);
                    if (kind == ReduceKind.L2) TensorPrimitives.Sqrt(yo, yo);
                    break;
                case ReduceKind.LogSumExp:
                    m.Fill(float.NegativeInfinity);
                    for (int j = 0; j < r; j++) TensorPrimitives.Max(m, xo.Slice(j * inner, inner), m);
                    yo.Clear();
                    for (int j = 0; j < r; j++) { TensorPrimitives.Subtract(xo.Slice(j * inner, inner), m, s); TensorPrimitives.Exp(s, s); TensorPrimitives.Add(yo, s, yo); }
                    TensorPrimitives.Log(yo, yo);
                    TensorPrimitives.Add(yo, m, yo);
                    for (int i = 0; i < inner; i++) if (!float.IsFinite(m[i])) yo[i] = m[i];
                    break;
                default: // Mean, Sum, LogSum
                    yo.Clear();
                    for (int j = 0; j < r; j++) TensorPrimitives.Add(yo, xo.Slice(j * inner, inner), yo);
                    if (kind == ReduceKind.Mean) TensorPrimitives.Multiply(yo, 1f / r, yo); // r = 0: 0 · ∞ = NaN
                    else if (kind == ReduceKind.LogSum) TensorPrimitives.Log(yo, yo);
                    break;
            }
        }
        if (pooled is not null) ArrayPool<float>.Shared.Return(pooled);
    }

    /// <summary>Scattered axes: y[target[i]] folds x[i] (target from the kept-dims layout); <paramref name="r"/> is the group size.</summary>
    public static void Scattered(ReduceKind kind, ReadOnlySpan<float> x, int[] target, int r, Span<float> y)
    {
        float[]? max = null;
        if (kind == ReduceKind.LogSumExp)
        {
            max = new float[y.Length];
            Array.Fill(max, float.NegativeInfinity);
            for (int i = 0; i < x.Length; i++) max[target[i]] = MathF.Max(max[target[i]], x[i]);
        }
        y.Fill(kind switch { ReduceKind.Max => float.NegativeInfinity, ReduceKind.Min => float.PositiveInfinity, ReduceKind.Prod => 1f, _ => 0f });
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            ref float a = ref y[target[i]];
            a = kind switch
            {
                ReduceKind.Max => MathF.Max(a, v),
                ReduceKind.Min => MathF.Min(a, v),
                ReduceKind.Prod => a * v,
                ReduceKind.L1 => a + MathF.Abs(v),
                ReduceKind.L2 or ReduceKind.SumSquare => a + v * v,
                ReduceKind.LogSumExp => a + MathF.Exp(v - max![target[i]]),
                _ => a + v,
            };
        }
        for (int o = 0; o < y.Length; o++)
            y[o] = kind switch
            {
                ReduceKind.Mean => y[o] * (1f / r),
                ReduceKind.L2 => MathF.Sqrt(y[o]),
                ReduceKind.LogSum => MathF.Log(y[o]),
                ReduceKind.LogSumExp => float.IsFinite(max![o]) ? MathF.Log(y[o]) + max[o] : max[o],
                _ => y[o],
            };
    }
}
