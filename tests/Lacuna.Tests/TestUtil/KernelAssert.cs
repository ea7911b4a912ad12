using Xunit.Sdk;

namespace Lacuna.Tests.TestUtil;

/// <summary>Comparisons of a fast kernel's output against the double-accumulating reference.</summary>
public static class KernelAssert
{
    /// <summary>
    /// Tolerance for a float32 sum of <paramref name="reductionLength"/> products of values in [-1, 1]:
    /// rounding error grows with the reduction length, so the bound does too.
    /// </summary>
    public static float Tolerance(int reductionLength) => 1e-5f * (4 + reductionLength);

    /// <summary>
    /// Asserts every element is finite-equal within <c>atol + rtol·|expected|</c>, where atol comes from
    /// <see cref="Tolerance"/>. NaN in <paramref name="actual"/> (a poisoned, unwritten element) fails.
    /// </summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, int reductionLength, string context = "", float rtol = 1e-5f)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        float atol = Tolerance(reductionLength);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            if (e == a) continue; // equal infinities, whose difference is NaN
            if (float.IsNaN(a) || !(MathF.Abs(e - a) <= atol + rtol * MathF.Abs(e)))
                throw new XunitException($"{context}: element {i} is {a}, expected {e} (tolerance {atol + rtol * MathF.Abs(e)}).");
        }
    }

    /// <summary>Asserts bit-exact equality, reporting the first difference.</summary>
    public static void Exact(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                throw new XunitException($"{context}: element {i} is {actual[i]}, expected {expected[i]}.");
    }
}
