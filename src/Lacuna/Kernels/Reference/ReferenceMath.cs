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
}
