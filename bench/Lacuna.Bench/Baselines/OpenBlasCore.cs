using Lacuna.Bench.Harness;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// Which of OpenBLAS's kernel sets ("cores") a benchmark loads. Debian's OpenBLAS is built with DYNAMIC_ARCH: it
/// picks a core at load, and <c>OPENBLAS_CORETYPE</c> forces one. This environment sets
/// <c>OPENBLAS_CORETYPE=Haswell</c> (older builds misbehaved on some CPUs), which on a Zen 5 halves OpenBLAS
/// (1024³ sgemm, 1 thread: 106 GFLOP/s Haswell, 196-199 SkylakeX/Cooperlake; `lacuna bench openblas-cores`
/// measures each core the CPU can run). So a benchmark does not inherit the variable: it asks for the newest
/// core the CPU supports, verifies that core's results (<see cref="OpenBlas.Verify"/>) and names it in its JSON.
/// </summary>
public static class OpenBlasCore
{
    /// <summary>Overrides the choice for one process, like <c>--openblas-core</c>.</summary>
    public const string EnvironmentVariable = "LACUNA_OPENBLAS_CORE";

    /// <summary>
    /// OpenBLAS's core names, best first, each with the CPU flags (as <c>/proc/cpuinfo</c> spells them) its kernels
    /// execute. Cooperlake is SkylakeX plus bf16 GEMM kernels (same sgemm). Zen is Haswell's kernels with AMD's
    /// cache blocking. Names are those OpenBLAS's <c>force_coretype</c> accepts.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string[] Flags, string? Vendor)> Ladder =
    [
        ("Cooperlake", ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_bf16"], null),
        ("SkylakeX", ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"], null),
        ("Zen", ["avx2", "fma"], "AuthenticAMD"),
        ("Haswell", ["avx2", "fma"], null),
        ("Sandybridge", ["avx"], null),
        ("Nehalem", ["sse4_2"], null),
        ("Prescott", ["pni"], null),
    ];

    /// <summary>The cores <paramref name="cpu"/> can run, best first (empty when the flags are unknown).</summary>
    public static IReadOnlyList<string> Supported(CpuInfo cpu) =>
        Ladder.Where(c => cpu.Has(c.Flags) && (c.Vendor is null || c.Vendor == cpu.Vendor)).Select(c => c.Name).ToArray();

    /// <summary>What to load and why.</summary>
    /// <param name="Requested">The core put into <c>OPENBLAS_CORETYPE</c>; null leaves OpenBLAS to detect the CPU.</param>
    /// <param name="Source">"--openblas-core", "LACUNA_OPENBLAS_CORE", "cpu" (the ladder) or "openblas" (its own detection).</param>
    /// <param name="Inherited">The <c>OPENBLAS_CORETYPE</c> this process was started with (replaced, reported).</param>
    public sealed record Choice(string? Requested, string Source, string? Inherited);

    /// <summary>
    /// The core to load: <paramref name="explicitCore"/> (from <c>--openblas-core</c>) if given, else
    /// <see cref="EnvironmentVariable"/>, else the first core of <see cref="Ladder"/> the CPU supports.
    /// An explicit name not in the ladder is refused with the list, since OpenBLAS would silently ignore it.
    /// </summary>
    public static Choice Choose(string? explicitCore, CpuInfo cpu, string? lacunaEnv, string? inherited)
    {
        if (!string.IsNullOrWhiteSpace(explicitCore)) return new Choice(Canonical(explicitCore, "--openblas-core"), "--openblas-core", inherited);
        if (!string.IsNullOrWhiteSpace(lacunaEnv)) return new Choice(Canonical(lacunaEnv, EnvironmentVariable), EnvironmentVariable, inherited);
        var supported = Supported(cpu);
        return supported.Count > 0 ? new Choice(supported[0], "cpu", inherited) : new Choice(null, "openblas", inherited);
    }

    /// <summary>The ladder's spelling of <paramref name="name"/> (case-insensitive), or null when OpenBLAS has no such core here.</summary>
    public static string? Find(string name)
    {
        foreach (var c in Ladder)
            if (string.Equals(c.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) return c.Name;
        return null;
    }

    /// <summary>The one-line error for a name <see cref="Find"/> does not know.</summary>
    public static string Unknown(string name, string from) =>
        $"{from}: unknown OpenBLAS core '{name}'. Known: {string.Join(", ", Ladder.Select(c => c.Name))}.";

    private static string Canonical(string name, string from) => Find(name) ?? throw new ArgumentException(Unknown(name, from));
}
