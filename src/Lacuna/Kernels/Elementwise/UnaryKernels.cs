using System.Numerics;
using System.Numerics.Tensors;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// Fast unary element-wise functions (float, vectorized on every tier through <see cref="TensorPrimitives"/> or
/// <see cref="VectorMap"/>). Each is checked against its double-precision definition in
/// <see cref="Reference.ReferenceElementwise"/>. NaN propagates as in the reference (comparisons with NaN are false,
/// so the "else" branch of each select is the one that carries x through).
/// </summary>
public static class UnaryKernels
{
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>TensorPrimitives.Sigmoid, which rejects empty spans (a zero-size tensor is valid ONNX).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!x.IsEmpty) TensorPrimitives.Sigmoid(x, y);
    }

    public static void LeakyRelu(ReadOnlySpan<float> x, Span<float> y, float alpha) => VectorMap.Unary(x, y, new LeakyReluOp(alpha));

    /// <summary>y = min(max(x, min), max) by the reference's comparisons (NaN stays NaN; min &gt; max gives max).</summary>
    public static void Clip(ReadOnlySpan<float> x, Span<float> y, float min, float max) => VectorMap.Unary(x, y, new ClipOp(min, max));

    /// <summary>y = γ·(x &gt; 0 ? x : α·(eˣ − 1)): Elu with γ = 1, Selu with its constants.</summary>
    public static void Elu(ReadOnlySpan<float> x, Span<float> y, float alpha, float gamma = 1f) => VectorMap.Unary(x, y, new EluOp(alpha, gamma));

    /// <summary>y = clamp(α·x + β, 0, 1).</summary>
    public static void HardSigmoid(ReadOnlySpan<float> x, Span<float> y, float alpha, float beta) => VectorMap.Unary(x, y, new HardSigmoidOp(alpha, beta, false));

    /// <summary>y = x · clamp(x/6 + 1/2, 0, 1).</summary>
    public static void HardSwish(ReadOnlySpan<float> x, Span<float> y) => VectorMap.Unary(x, y, new HardSigmoidOp(1f / 6f, 0.5f, true));

    /// <summary>y = x / (1 + |x|).</summary>
    public static void Softsign(ReadOnlySpan<float> x, Span<float> y) => VectorMap.Unary(x, y, default(SoftsignOp));

    /// <summary>y = ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|), which neither overflows nor loses the small tail.</summary>
    public static void Softplus(ReadOnlySpan<float> x, Span<float> y) => VectorMap.Unary(x, y, default(SoftplusOp));

    /// <summary>erf(x): a Taylor series for |x| &lt; 0.5, Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7) beyond.</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y) => VectorMap.Unary(x, y, default(ErfOp));

    private readonly record struct LeakyReluOp(float Alpha) : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x) => Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), x * Alpha, x);
        public float Apply(float x) => x < 0f ? x * Alpha : x;
    }

    private readonly record struct ClipOp(float Min, float Max) : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x)
        {
            var lo = new Vector<float>(Min);
            var hi = new Vector<float>(Max);
            var v = Vector.ConditionalSelect(Vector.LessThan(x, lo), lo, x);
            return Vector.ConditionalSelect(Vector.GreaterThan(v, hi), hi, v);
        }

        public float Apply(float x)
        {
            float v = x < Min ? Min : x;
            return v > Max ? Max : v;
        }
    }

    private readonly record struct EluOp(float Alpha, float Gamma) : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x)
        {
            // eˣ − 1 cancels for |x| small: a short series there keeps the relative error of the exact value.
            var series = x * (Vector<float>.One + x * (new Vector<float>(0.5f) + x * (new Vector<float>(1f / 6f) + x * new Vector<float>(1f / 24f))));
            var em1 = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(x), new Vector<float>(0.01f)), series, Vector.Exp(x) - Vector<float>.One);
            return Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, em1 * Alpha) * Gamma;
        }

        public float Apply(float x)
        {
            float em1 = MathF.Abs(x) < 0.01f ? x * (1f + x * (0.5f + x * (1f / 6f + x * (1f / 24f)))) : MathF.Exp(x) - 1f;
            return (x > 0f ? x : em1 * Alpha) * Gamma;
        }
    }

    private readonly record struct HardSigmoidOp(float Alpha, float Beta, bool TimesX) : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x)
        {
            var v = x * Alpha + new Vector<float>(Beta);
            v = Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), Vector<float>.Zero, v);
            v = Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.One), Vector<float>.One, v);
            return TimesX ? v * x : v;
        }

        public float Apply(float x)
        {
            float v = x * Alpha + Beta;
            v = v < 0f ? 0f : v > 1f ? 1f : v;
            return TimesX ? v * x : v;
        }
    }

    private readonly struct SoftsignOp : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x) => x / (Vector<float>.One + Vector.Abs(x));
        public float Apply(float x) => x / (1f + MathF.Abs(x));
    }

    private readonly struct SoftplusOp : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x)
        {
            var e = Vector.Exp(-Vector.Abs(x));
            // ln(1 + e) for small e by its series: 1 + e rounds e away.
            var series = e * (Vector<float>.One - e * (new Vector<float>(0.5f) - e * new Vector<float>(1f / 3f)));
            var log1p = Vector.ConditionalSelect(Vector.LessThan(e, new Vector<float>(1e-3f)), series, Vector.Log(Vector<float>.One + e));
            var pos = Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, Vector<float>.Zero);
            // NaN: |NaN| gives a NaN e and a NaN log1p, so the sum is NaN.
            return pos + log1p;
        }

        public float Apply(float x)
        {
            float e = MathF.Exp(-MathF.Abs(x));
            float log1p = e < 1e-3f ? e * (1f - e * (0.5f - e * (1f / 3f))) : MathF.Log(1f + e);
            return (x > 0f ? x : 0f) + log1p;
        }
    }

    private readonly struct ErfOp : IVectorUnary
    {
        private const float C0 = 1.1283791670955126f; // 2/√π

        public Vector<float> Apply(Vector<float> x)
        {
            var ax = Vector.Abs(x);
            var x2 = x * x;
            var small = x * (new Vector<float>(C0) + x2 * (new Vector<float>(-C0 / 3) + x2 * (new Vector<float>(C0 / 10)
                + x2 * (new Vector<float>(-C0 / 42) + x2 * (new Vector<float>(C0 / 216) + x2 * new Vector<float>(-C0 / 1320))))));
            var t = Vector<float>.One / (Vector<float>.One + ax * 0.3275911f);
            var poly = t * (new Vector<float>(0.254829592f) + t * (new Vector<float>(-0.284496736f) + t * (new Vector<float>(1.421413741f)
                + t * (new Vector<float>(-1.453152027f) + t * new Vector<float>(1.061405429f)))));
            var large = Vector<float>.One - poly * Vector.Exp(-x2);
            large = Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -large, large);
            return Vector.ConditionalSelect(Vector.LessThan(ax, new Vector<float>(0.5f)), small, large);
        }

        public float Apply(float x)
        {
            float ax = MathF.Abs(x), x2 = x * x;
            if (ax < 0.5f)
                return x * (C0 + x2 * (-C0 / 3 + x2 * (C0 / 10 + x2 * (-C0 / 42 + x2 * (C0 / 216 + x2 * (-C0 / 1320))))));
            float t = 1f / (1f + 0.3275911f * ax);
            float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
            float r = 1f - poly * MathF.Exp(-x2);
            return x < 0f ? -r : r;
        }
    }
}
