using System.Text.Json.Nodes;
using Lacuna.Formats;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// An established CPU sparse library that computes the same product as Lacuna's SpMM — Y[M×N] = W·X with W
/// sparse [M×K], X [K×N] and Y dense row-major (ld = N) — so <c>lacuna bench spmm</c> can time it side by side.
/// A peer whose native library does not load is <em>absent</em> (<see cref="AbsentReason"/>), which a benchmark
/// reports rather than fails on.
/// </summary>
public abstract unsafe class SpmmPeer
{
    /// <summary>Short name used in the JSON keys (<c>&lt;name&gt;_ms</c>, <c>speedup_vs_&lt;name&gt;</c>) and in <c>--peers</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Why the library could not be used, or null when it loaded.</summary>
    public abstract string? AbsentReason { get; }

    public bool IsAvailable => AbsentReason is null;

    /// <summary>Library version and kernel, e.g. "libxsmm 1.17 (Debian libxsmm-dev 1.17-2), libxsmm_spmdm, target cpx".</summary>
    public abstract string Version { get; }

    /// <summary>
    /// Converts <paramref name="w"/> into the library's own format and does any tuning the library offers for
    /// this N and thread count (<paramref name="x"/> is the X the timed calls will read, for tuners that run it).
    /// Not timed by the benchmark, as Lacuna's own planning is not.
    /// </summary>
    public abstract PreparedSpmm Prepare(CsrMatrix w, int n, int threads, float* x);

    /// <summary>Thrown (by <see cref="Prepare"/>) on an absent peer: the reason, as a clear one-line message.</summary>
    protected DllNotFoundException Absent() => new($"{Name} is not available: {AbsentReason}");

    /// <summary>The peer's entry in a benchmark's JSON: availability and version, or the reason it is absent.</summary>
    public JsonObject Report() => IsAvailable
        ? new JsonObject { ["available"] = true, ["version"] = Version }
        : new JsonObject { ["available"] = false, ["reason"] = AbsentReason };

    protected static void CheckArguments(CsrMatrix w, int n, int threads)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "N (columns of X and Y) must be at least 1.");
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
    }
}

/// <summary>One matrix in a peer library's own format, ready to run Y = W·X for the N it was prepared for.</summary>
public abstract unsafe class PreparedSpmm : IDisposable
{
    /// <summary>What the library chose for this matrix (blocking, tuning outcome), for the benchmark's JSON.</summary>
    public abstract string Detail { get; }

    /// <summary>Y[M×N] = W·X, X [K×N] and Y [M×N] row-major; Y is fully overwritten.</summary>
    public abstract void Run(float* x, float* y);

    public abstract void Dispose();
}

/// <summary>The peers <c>lacuna bench spmm</c> knows, and the <c>--peers</c> option's parser.</summary>
public static class SpmmPeers
{
    public static IReadOnlyList<SpmmPeer> All => [Libxsmm.Default, Librsb.Default];

    /// <summary>
    /// "all" (every peer, absent ones reported as absent), "none", or a comma-separated list of names.
    /// An unknown name is an error naming the known ones.
    /// </summary>
    public static IReadOnlyList<SpmmPeer> Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string s = spec.Trim();
        if (s.Equals("all", StringComparison.OrdinalIgnoreCase)) return All;
        if (s.Equals("none", StringComparison.OrdinalIgnoreCase) || s.Length == 0) return [];
        var chosen = new List<SpmmPeer>();
        foreach (string part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var peer = All.FirstOrDefault(p => p.Name.Equals(part, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"Unknown peer '{part}' in --peers (known: {string.Join(", ", All.Select(p => p.Name))}, or all, none).");
            if (!chosen.Contains(peer)) chosen.Add(peer);
        }
        return chosen;
    }
}

/// <summary>Where a native peer library is looked for, and which Debian package version installed it.</summary>
internal static class NativeLibraryFiles
{
    /// <summary>
    /// <c>$variable</c> (the file or its folder), then <c>.deps/&lt;folder&gt;/&lt;file&gt;</c> in the repository (found by walking
    /// up from the current directory and from the application folder to <c>Lacuna.slnx</c>), then each of <paramref name="systemNames"/>.
    /// </summary>
    public static IEnumerable<string> Candidates(string variable, string depsFolder, string file, params string[] systemNames)
    {
        string? env = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(env)) yield return Directory.Exists(env) ? Path.Combine(env, file) : env;
        var seen = new HashSet<string>();
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lacuna.slnx")))
                {
                    string p = Path.Combine(dir.FullName, ".deps", depsFolder, file);
                    if (seen.Add(p)) yield return p;
                    break;
                }
        foreach (string name in systemNames) yield return name;
    }

    /// <summary>The installed version of a Debian package (from dpkg's status file), or null off Debian.</summary>
    public static string? DebianPackageVersion(string package)
    {
        const string status = "/var/lib/dpkg/status";
        if (!File.Exists(status)) return null;
        bool inPackage = false;
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith("Package: ", StringComparison.Ordinal)) inPackage = line[9..].Trim() == package;
            else if (inPackage && line.StartsWith("Version: ", StringComparison.Ordinal)) return line[9..].Trim();
        }
        return null;
    }
}
