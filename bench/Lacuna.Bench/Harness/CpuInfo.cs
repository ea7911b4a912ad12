namespace Lacuna.Bench.Harness;

/// <summary>
/// The CPU a benchmark ran on, as every benchmark's JSON names it: the machine kind can change between runs
/// (Zen 4 and Zen 5 have both been seen, and a hypervisor may report only "AMD EPYC"), and the same numbers mean
/// different things on each. Read from <c>/proc/cpuinfo</c>; elsewhere only the processor count is known.
/// </summary>
public sealed record CpuInfo(string Model, string Vendor, int Family, int ModelNumber, IReadOnlySet<string> Flags)
{
    private static readonly Lazy<CpuInfo> s_current = new(() => Read("/proc/cpuinfo"));

    public static CpuInfo Current => s_current.Value;

    /// <summary>"AMD EPYC (AuthenticAMD family 26 model 2, Zen 5)", what the JSON's <c>cpu</c> field says.</summary>
    public string Describe()
    {
        string micro = Microarchitecture is { } m ? $", {m}" : "";
        return Family > 0 ? $"{Model} ({Vendor} family {Family} model {ModelNumber}{micro})" : Model;
    }

    /// <summary>
    /// AMD's Zen generation from the family (0x17 Zen/Zen 2, 0x19 Zen 3/Zen 4, 0x1A Zen 5); Zen 3 and 4 share a
    /// family, and only Zen 4 has AVX-512. Null for other vendors: their model numbers are not worth a table here.
    /// </summary>
    public string? Microarchitecture => Vendor != "AuthenticAMD" ? null : Family switch
    {
        0x17 => "Zen/Zen 2",
        0x19 => Flags.Contains("avx512f") ? "Zen 4" : "Zen 3",
        0x1A => "Zen 5",
        _ => null,
    };

    public bool Has(params string[] flags) => flags.All(Flags.Contains);

    /// <summary>Parses the first processor's entry of a <c>/proc/cpuinfo</c>-format file; a missing file gives "unknown".</summary>
    public static CpuInfo Read(string path)
    {
        string model = "unknown", vendor = "unknown";
        int family = 0, number = 0;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return new CpuInfo(model, vendor, family, number, flags);
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) break; // the first processor is enough: the flags are the same on every core here
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "model name": model = value; break;
                case "vendor_id": vendor = value; break;
                case "cpu family": int.TryParse(value, out family); break;
                case "model": int.TryParse(value, out number); break;
                case "flags": flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)); break;
            }
        }
        return new CpuInfo(model, vendor, family, number, flags);
    }
}
