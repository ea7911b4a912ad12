using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Kernels.Reference;

namespace Lacuna.Tests.Bench;

/// <summary>
/// OpenBLAS at its best: the core chosen before load (the ladder, the overrides, the inherited
/// <c>OPENBLAS_CORETYPE</c> replaced), the CPU description every JSON carries, and the loaded core's results.
/// </summary>
public class OpenBlasCoreTests
{
    private static CpuInfo Cpu(string vendor, params string[] flags) =>
        new("test cpu", vendor, 26, 2, new HashSet<string>(flags));

    private static readonly string[] Avx512 = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"];

    [Theory]
    [InlineData("AuthenticAMD", true, "Cooperlake")]
    [InlineData("AuthenticAMD", false, "SkylakeX")]
    [InlineData("GenuineIntel", false, "SkylakeX")]
    public void Avx512_cpus_get_an_avx512_core_even_when_the_environment_pins_haswell(string vendor, bool bf16, string expected)
    {
        var cpu = Cpu(vendor, bf16 ? [.. Avx512, "avx512_bf16"] : Avx512);
        var choice = OpenBlasCore.Choose(null, cpu, lacunaEnv: null, inherited: "Haswell");
        Assert.Equal(expected, choice.Requested);
        Assert.Equal("cpu", choice.Source);
        Assert.Equal("Haswell", choice.Inherited);
    }

    [Fact]
    public void Avx2_cpus_get_zen_on_amd_and_haswell_elsewhere_and_unknown_flags_leave_openblas_to_detect()
    {
        Assert.Equal("Zen", OpenBlasCore.Choose(null, Cpu("AuthenticAMD", "avx", "avx2", "fma"), null, null).Requested);
        Assert.Equal("Haswell", OpenBlasCore.Choose(null, Cpu("GenuineIntel", "avx", "avx2", "fma"), null, null).Requested);
        Assert.Equal("Sandybridge", OpenBlasCore.Choose(null, Cpu("GenuineIntel", "avx"), null, null).Requested);
        var none = OpenBlasCore.Choose(null, Cpu("unknown"), null, null);
        Assert.Null(none.Requested);
        Assert.Equal("openblas", none.Source);
        Assert.Equal(["Cooperlake", "SkylakeX", "Zen", "Haswell", "Sandybridge", "Nehalem"],
            OpenBlasCore.Supported(Cpu("AuthenticAMD", [.. Avx512, "avx512_bf16"])));
    }

    [Fact]
    public void The_command_line_beats_the_lacuna_variable_which_beats_the_ladder_and_names_are_checked()
    {
        var cpu = Cpu("AuthenticAMD", Avx512);
        var cli = OpenBlasCore.Choose("haswell", cpu, lacunaEnv: "Zen", inherited: null);
        Assert.Equal(("Haswell", "--openblas-core"), (cli.Requested, cli.Source));
        var env = OpenBlasCore.Choose(null, cpu, lacunaEnv: "zen", inherited: null);
        Assert.Equal(("Zen", OpenBlasCore.EnvironmentVariable), (env.Requested, env.Source));
        var e = Assert.Throws<ArgumentException>(() => OpenBlasCore.Choose("Skylake", cpu, null, null));
        Assert.Contains("'Skylake'", e.Message);
        Assert.Contains("SkylakeX", e.Message);
        Assert.Null(OpenBlasCore.Find("Skylake"));
        Assert.Equal("Cooperlake", OpenBlasCore.Find(" COOPERLAKE "));
    }

    [Fact]
    public void Cpu_description_comes_from_proc_cpuinfo_and_names_the_zen_generation()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
                + "model name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: other\n");
            var cpu = CpuInfo.Read(path);
            Assert.Equal("AMD EPYC 9R14 (AuthenticAMD family 25 model 17, Zen 4)", cpu.Describe());
            Assert.True(cpu.Has("avx2", "avx512f"));
            Assert.False(cpu.Has("other")); // only the first processor is read
        }
        finally { File.Delete(path); }
        Assert.Equal("unknown", CpuInfo.Read(Path.Combine(Path.GetTempPath(), "no-such-cpuinfo")).Describe());
    }

    [Fact]
    public unsafe void The_loaded_core_is_the_chosen_one_and_its_sgemm_matches_the_reference()
    {
        Assert.True(OpenBlas.IsAvailable, OpenBlas.Problem);
        var report = OpenBlas.Report();
        string? expected = OpenBlasCore.Choose(OpenBlas.RequestedCore, CpuInfo.Current,
            Environment.GetEnvironmentVariable(OpenBlasCore.EnvironmentVariable), null).Requested;
        if (expected is not null) Assert.Equal(expected, (string?)report["openblas_core"], ignoreCase: true);
        Assert.True((double)report["openblas_verified_max_rel_error"]! < OpenBlas.VerifyTolerance);

        const int m = 23, n = 37, k = 41;
        var rng = new Random(7);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray(), expectedC = new float[m * n];
        ReferenceGemm.Compute(m, n, k, a, k, false, b, n, false, expectedC, n);
        fixed (float* pa = a, pb = b, pc = c) OpenBlas.Sgemm(m, n, k, pa, k, false, pb, n, false, pc, n);
        for (int i = 0; i < c.Length; i++) Assert.Equal(expectedC[i], c[i], 1e-4f);
    }
}
