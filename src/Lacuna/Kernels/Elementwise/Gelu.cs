using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Elementwise;

/// <summary>Which Gelu: the exact erf form (ONNX Gelu approximate="none") or the tanh approximation ("tanh").</summary>
public enum GeluApproximation
{
    None = 0,
    Tanh = 1,
}

/// <summary>
/// Gelu(x) = x·Φ(x) with the contracts of <see cref="Reference.ReferenceMath.Gelu"/> and
/// <see cref="Reference.ReferenceMath.GeluTanh"/>, vectorized with <see cref="Vector{T}"/> on every tier
/// (<see cref="VectorMap"/>). In place is allowed.
/// <para>
/// Exact form: Φ(x) = 1 − h for x ≥ 0 and h for x &lt; 0, h = ½·erfc(|x|/√2), so a negative input never computes
/// 1 + erf(x/√2) and loses its digits to cancellation (the repo's Erf, Abramowitz-Stegun 7.1.26 with 1.5e-7 absolute
/// error, would give 25 % error at x = −5 through that form). erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), with
/// the 10-term Chebyshev-fitted P of Numerical Recipes' erfcc (fractional error below 1.2e-7 for all z ≥ 0). z² is
/// carried as x²/2 = (hi + lo)/2 with lo = fma(x, x, −hi), so exp of the large exponent stays exact to float
/// rounding: measured against the double reference, relative error ≤ 1e-6 over |x| ≤ 10
/// (<c>GeluTests.Exact_RelativeErrorBound</c>).
/// </para>
/// <para>
/// Tanh form: ½(1 + tanh u) = σ(2u), so y = x·σ(2u) = x / (1 + exp(−2u)), again without cancellation.
/// </para>
/// </summary>
public static class Gelu
{
    public static void Compute(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation = GeluApproximation.None, int threads = 0)
    {
        if (y.Length < x.Length) ThrowHelper.Argument(nameof(y), $"Gelu: output has {y.Length} elements, input {x.Length}.");
        int parts = KernelParallel.Parts(threads, Math.Max(1, x.Length / 4096), x.Length);
        if (parts <= 1) { Row(x, y, approximation); return; }
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint ax = (nint)px, ay = (nint)py;
                int n = x.Length;
                KernelParallel.For(n, parts, (s, e) =>
                    Row(new ReadOnlySpan<float>((float*)ax + s, e - s), new Span<float>((float*)ay + s, e - s), approximation));
            }
        }
    }

    /// <summary>One contiguous run on the calling thread (the token-linear epilogue uses it per output block).</summary>
    internal static void Row(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation)
    {
        if (approximation == GeluApproximation.Tanh) VectorMap.Unary(x, y, default(GeluTanhOp));
        else if (Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count) ErfRow512(x, y);
        else VectorMap.Unary(x, y, default(GeluErfOp));
    }

    /// <summary>
    /// The erf form 16 lanes at a time where AVX-512 is on (<see cref="Vector{T}"/> stays 256 bits there): the same
    /// formula as <see cref="GeluErfOp"/>, with its own exp and reciprocal (equal to float rounding, not bit for bit);
    /// BERT-base at sequence 128 spent 18 % of a sparse run in this Gelu at 8 lanes. The tail runs the scalar form.
    /// </summary>
    private static void ErfRow512(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            GeluErfOp.Apply512(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        var op = default(GeluErfOp);
        for (; i < n; i++) y[i] = op.Apply(x[i]);
    }

    private readonly struct GeluErfOp : IVectorUnary
    {
        private const float P0 = -1.26551223f, P1 = 1.00002368f, P2 = 0.37409196f, P3 = 0.09678418f, P4 = -0.18628806f,
            P5 = 0.27886807f, P6 = -1.13520398f, P7 = 1.48851587f, P8 = -0.82215223f, P9 = 0.17087277f;
        private const float InvSqrt2 = 0.70710678118654752f;
        /// <summary>|x| beyond which erfc(|x|/√2) is 0 in float; clamping keeps ∞·0 out of the hi/lo split.</summary>
        private const float Clamp = 20f;

        public Vector<float> Apply(Vector<float> x)
        {
            var ax = Vector.Min(Vector.Abs(x), new Vector<float>(Clamp));
            var z = ax * InvSqrt2;
            var t = Vector<float>.One / (Vector<float>.One + z * 0.5f);
            var p = new Vector<float>(P9);
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P8));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P7));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P6));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P5));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P4));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P3));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P2));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P1));
            p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(P0));
            var hi = ax * ax;
            var lo = Vector.FusedMultiplyAdd(ax, ax, -hi);
            var h = t * 0.5f * Vector.Exp(hi * -0.5f) * Vector.Exp(p - lo * 0.5f);
            var cdf = Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), h, Vector<float>.One - h);
            return x * cdf;
        }

        public static Vector512<float> Apply512(Vector512<float> x)
        {
            var ax = Vector512.Min(Vector512.Abs(x), Vector512.Create(Clamp));
            var z = ax * InvSqrt2;
            var t = Reciprocal(Vector512<float>.One + z * 0.5f);
            var p = Vector512.Create(P9);
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P8));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P7));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P6));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P5));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P4));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P3));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P2));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P1));
            p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(P0));
            var hi = ax * ax;
            var lo = Vector512.FusedMultiplyAdd(ax, ax, -hi);
            var h = t * 0.5f * ExpAvx512.NonPositive(hi * -0.5f) * ExpAvx512.NonPositive(p - lo * 0.5f);
            var cdf = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), h, Vector512<float>.One - h);
            return x * cdf;
        }

        /// <summary>
        /// 1/v from the 14-bit estimate and one Newton step (relative error about 2^-28, below float rounding):
        /// the 512-bit divide was a fifth of this Gelu's time.
        /// </summary>
        private static Vector512<float> Reciprocal(Vector512<float> v)
        {
            if (!Avx512F.IsSupported) return Vector512<float>.One / v;
            var r = Avx512F.Reciprocal14(v);
            return r * Avx512F.FusedMultiplyAddNegated(v, r, Vector512.Create(2f)); // r·(2 − v·r)
        }

        public float Apply(float x)
        {
            float ax = MathF.Min(MathF.Abs(x), Clamp);
            float t = 1f / (1f + ax * InvSqrt2 * 0.5f);
            float p = P9;
            p = MathF.FusedMultiplyAdd(p, t, P8); p = MathF.FusedMultiplyAdd(p, t, P7); p = MathF.FusedMultiplyAdd(p, t, P6);
            p = MathF.FusedMultiplyAdd(p, t, P5); p = MathF.FusedMultiplyAdd(p, t, P4); p = MathF.FusedMultiplyAdd(p, t, P3);
            p = MathF.FusedMultiplyAdd(p, t, P2); p = MathF.FusedMultiplyAdd(p, t, P1); p = MathF.FusedMultiplyAdd(p, t, P0);
            float hi = ax * ax, lo = MathF.FusedMultiplyAdd(ax, ax, -hi);
            float h = t * 0.5f * MathF.Exp(hi * -0.5f) * MathF.Exp(p - lo * 0.5f);
            return x * (x < 0f ? h : 1f - h);
        }
    }

    private readonly struct GeluTanhOp : IVectorUnary
    {
        private const float C = 0.7978845608028654f; // √(2/π)
        private const float TwoC = 2 * C, TwoCK = 2 * C * 0.044715f;

        public Vector<float> Apply(Vector<float> x)
        {
            // 2u clamped at ±80 so exp(−2u) neither overflows to ∞·0 nor loses the sign of x.
            var twoU = Vector.Min(Vector.Max(x * (new Vector<float>(TwoC) + x * x * TwoCK), new Vector<float>(-80f)), new Vector<float>(80f));
            return x / (Vector<float>.One + Vector.Exp(-twoU));
        }

        public float Apply(float x)
        {
            float twoU = Math.Clamp(x * (TwoC + x * x * TwoCK), -80f, 80f);
            return x / (1f + MathF.Exp(-twoU));
        }
    }
}
