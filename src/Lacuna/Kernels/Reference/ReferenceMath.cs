namespace Lacuna.Kernels.Reference;

/// <summary>
/// The scalar definitions (double precision) of the ONNX element-wise functions that .NET's Math does not have,
/// written for accuracy, not speed: the specification the fast kernels are tested against.
/// </summary>
public static class ReferenceMath
{
    public const double SeluAlpha = 1.67326319217681884765625, SeluGamma = 1.05070102214813232421875;

    public static double Relu(double x) => x < 0 ? 0 : x;
    public static double LeakyRelu(double x, double alpha) => x < 0 ? alpha * x : x;
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
    public static double Softsign(double x) => x / (1 + Math.Abs(x));
    public static double Elu(double x, double alpha) => x < 0 ? alpha * ExpM1(x) : x;
    public static double Selu(double x, double alpha, double gamma) => gamma * (x <= 0 ? alpha * ExpM1(x) : x);
    public static double HardSigmoid(double x, double alpha, double beta) => Math.Max(0, Math.Min(1, alpha * x + beta));
    public static double HardSwish(double x) => x * HardSigmoid(x, 1.0 / 6, 0.5);

    /// <summary>ln(1 + eˣ) without overflow for large x or loss of the tail for very negative x.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    /// <summary>eˣ − 1, by its series near 0 where the subtraction would cancel.</summary>
    public static double ExpM1(double x) =>
        Math.Abs(x) < 1e-5 ? x * (1 + x * (0.5 + x / 6)) : Math.Exp(x) - 1;

    /// <summary>ln(1 + x) for x ≥ 0, by its series near 0.</summary>
    public static double Log1P(double x) => x < 1e-5 ? x * (1 - x * (0.5 - x / 3)) : Math.Log(1 + x);

    /// <summary>
    /// erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ·x / (1·3·…·(2n+1)): every term is positive, so the sum has no cancellation;
    /// |x| ≥ 6 gives ±1 (erfc(6) ≈ 2e-17).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (Math.Abs(x) >= 6) return Math.Sign(x);
        double term = x, sum = x, twoX2 = 2 * x * x;
        for (int n = 1; n < 500 && Math.Abs(term) > 1e-18 * Math.Abs(sum); n++)
        {
            term *= twoX2 / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }
    /// <summary>
    /// erfc(x) = 1 − erf(x) with relative accuracy where it is tiny: for x ≥ 2 the continued fraction
    /// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) evaluated from the 80th term back (converged
    /// to double precision there); below, 1 − <see cref="Erf"/> (erfc(2) ≈ 4.7e-3, so under 1e-13 relative).
    /// </summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 2) return 1 - Erf(x);
        if (x > 27) return 0; // below the smallest double
        double k = x;
        for (int n = 80; n >= 1; n--) k = x + n / 2.0 / k;
        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * k);
    }

    /// <summary>Gelu(x) = x·Φ(x) = ½x·erfc(−x/√2), through erfc of |x| so negative x keeps its relative accuracy.</summary>
    public static double Gelu(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2);
        double h = 0.5 * Erfc(z);
        return x < 0 ? x * h : x * (1 - h);
    }

    /// <summary>The tanh approximation ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))), written as x·σ(2u) (no cancellation).</summary>
    public static double GeluTanh(double x)
    {
        double u = Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        return x * Sigmoid(2 * u);
    }
}
