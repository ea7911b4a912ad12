using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

/// <summary>
/// The instruction-set tiers of the kernel families, widest last. Every tier can be exercised on one machine:
/// <c>DOTNET_EnableAVX512=0</c> drops to <see cref="Avx2Fma"/>, <c>DOTNET_EnableAVX2=0</c> to
/// <see cref="Vector128"/>, <c>DOTNET_EnableHWIntrinsic=0</c> to <see cref="Scalar"/>. Every family has the
/// AVX2, Vector128 and scalar tiers; <see cref="Avx512"/> only where it measured faster (a family's own best tier
/// is <see cref="IsaTiers.BestOf"/> its entries).
/// </summary>
public enum IsaTier
{
    Scalar = 0,
    Vector128 = 1,
    Avx2Fma = 2,
    /// <summary>AVX-512F (16 lanes, 32 vector registers, mask registers for tails) with FMA.</summary>
    Avx512 = 3,
}

public static class IsaTiers
{
    /// <summary>Whether this process can run kernels of <paramref name="tier"/>.</summary>
    public static bool IsSupported(IsaTier tier) => tier switch
    {
        // VL too: the AVX-512 tiers' ymm tiles use the upper 16 registers and masked 256-bit stores.
        IsaTier.Avx512 => Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        IsaTier.Avx2Fma => Avx2.IsSupported && Fma.IsSupported,
        IsaTier.Vector128 => Vector128.IsHardwareAccelerated,
        IsaTier.Scalar => true,
        _ => false,
    };

    /// <summary>
    /// The widest supported tier, optionally capped by the environment variable <c>LACUNA_MAX_TIER</c>
    /// (<c>scalar</c>, <c>vector128</c>, <c>avx2fma</c>, <c>avx512</c>) so benchmarks can compare tiers in one build.
    /// </summary>
    public static IsaTier Best { get; } = DetectBest();

    /// <summary>All supported tiers, widest first.</summary>
    public static IReadOnlyList<IsaTier> Supported { get; } =
        new[] { IsaTier.Avx512, IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar }.Where(t => t <= Best && IsSupported(t)).ToArray();

    private static IsaTier DetectBest()
    {
        IsaTier cap = IsaTier.Avx512;
        string? env = Environment.GetEnvironmentVariable("LACUNA_MAX_TIER");
        if (!string.IsNullOrEmpty(env) && Enum.TryParse(env, ignoreCase: true, out IsaTier parsed)) cap = parsed;
        for (var t = cap; t >= IsaTier.Scalar; t--)
            if (IsSupported(t)) return t;
        return IsaTier.Scalar;
    }

    /// <summary>
    /// The tier a kernel family runs at: the widest of its entries' tiers that this process supports and
    /// <see cref="Best"/> allows (families without an AVX-512 entry run AVX2 on an AVX-512 machine).
    /// </summary>
    public static IsaTier BestOf(IEnumerable<IsaTier> familyTiers)
    {
        IsaTier best = IsaTier.Scalar;
        foreach (var t in familyTiers)
            if (t > best && t <= Best && IsSupported(t)) best = t;
        return best;
    }

    /// <summary>Human-readable description of the hardware and the chosen tier.</summary>
    public static string Describe() =>
        $"tier={Best} (Avx512F={Avx512F.IsSupported}, Avx2={Avx2.IsSupported}, Fma={Fma.IsSupported}, Vector128={Vector128.IsHardwareAccelerated}, Vector256={Vector256.IsHardwareAccelerated}, cores={Environment.ProcessorCount})";
}
