using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

/// <summary>e^x on AVX-512 for the arguments of Gelu's tails and of softmax after its maximum is subtracted.</summary>
internal static class ExpAvx512
{
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693145751953125f, Ln2Lo = 1.42860682030941723e-6f;

    /// <summary>
    /// e^x for x ≤ 0.5, down to −200 and below (where it must round to 0): n = round(x·log2 e), r = x − n·ln 2
    /// (Cody-Waite, two constants, so r is exact to a few ulp), e^r by its degree-7 Taylor series (|r| ≤ ln2/2:
    /// truncation 5e-9), then 2^n applied by vscalefps, which underflows to zero correctly. About 12 instructions
    /// where Vector512.Exp took three times as long (BERT-base's Gelu, 12 layers at sequence 128, 1 thread: two such
    /// exps were half of the 7 ms). Without AVX-512 it is Vector512.Exp.
    /// </summary>
    public static Vector512<float> NonPositive(Vector512<float> x)
    {
        if (!Avx512F.IsSupported) return Vector512.Exp(x);
        x = Vector512.Max(x, Vector512.Create(-200f));
        var n = Vector512.Round(x * Log2E);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var q = Vector512.Create(1f / 5040);
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(1f / 720));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(1f / 120));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(1f / 24));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(1f / 6));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(0.5f));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512<float>.One);
        q = Vector512.FusedMultiplyAdd(q, r, Vector512<float>.One);
        return Avx512F.Scale(q, n);
    }
}
