using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

/// <summary>
/// The instruction-set tiers every kernel family provides, widest first. Every tier can be exercised
/// on one machine: <c>DOTNET_EnableAVX2=0</c> drops to <see cref="Vector128"/>,
/// <c>DOTNET_EnableHWIntrinsic=0</c> to <see cref="Scalar"/>.
/// </summary>
public enum IsaTier
{
    Scalar = 0,
    Vector128 = 1,
    Avx2Fma = 2,
}

public static class IsaTiers
{
    /// <summary>Whether this process can run kernels of <paramref name="tier"/>.</summary>
    public static bool IsSupported(IsaTier tier) => tier switch
    {
        IsaTier.Avx2Fma => Avx2.IsSupported && Fma.IsSupported,
        IsaTier.Vector128 => Vector128.IsHardwareAccelerated,
        IsaTier.Scalar => true,
        _ => false,
    };

    /// <summary>
    /// The widest supported tier, optionally capped by the environment variable <c>LACUNA_MAX_TIER</c>
    /// (<c>scalar</c>, <c>vector128</c>, <c>avx2fma</c>) so benchmarks can compare tiers in one build.
    /// </summary>
    public static IsaTier Best { get; } = DetectBest();

    /// <summary>All supported tiers, widest first.</summary>
    public static IReadOnlyList<IsaTier> Supported { get; } =
        new[] { IsaTier.Avx2Fma, IsaTier.Vector128, IsaTier.Scalar }.Where(t => t <= Best && IsSupported(t)).ToArray();

    private static IsaTier DetectBest()
    {
        IsaTier cap = IsaTier.Avx2Fma;
        string? env = Environment.GetEnvironmentVariable("LACUNA_MAX_TIER");
        if (!string.IsNullOrEmpty(env) && Enum.TryParse(env, ignoreCase: true, out IsaTier parsed)) cap = parsed;
        for (var t = cap; t >= IsaTier.Scalar; t--)
            if (IsSupported(t)) return t;
        return IsaTier.Scalar;
    }

    /// <summary>Human-readable description of the hardware and the chosen tier.</summary>
    public static string Describe() =>
        $"tier={Best} (Avx2={Avx2.IsSupported}, Fma={Fma.IsSupported}, Vector128={Vector128.IsHardwareAccelerated}, Vector256={Vector256.IsHardwareAccelerated}, cores={Environment.ProcessorCount})";
}
