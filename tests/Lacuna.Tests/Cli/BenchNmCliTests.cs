using System.CommandLine;
using System.Text.Json;
using Lacuna.Cli.Commands;

namespace Lacuna.Tests.Cli;

/// <summary>`bench nm` and `bench tasd` end to end on tiny shapes (no DLMC data: a tiny smtx fixture is written here).</summary>
[Collection("Console")]
public sealed class BenchNmCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-nm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var root = new RootCommand { BenchCommand.Build() };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Theory]
    [InlineData("nm:2:4", 0.5)]
    [InlineData("nm:1:8:r4", 0.875)]
    [InlineData("2:4+1:8", 0.375)]
    [InlineData("unstructured", 0.7)]
    public void Bench_nm_times_any_pattern_against_dense_openblas_and_csr(string pattern, double sparsity)
    {
        var (code, output, err) = Invoke("bench", "nm", "--pattern", pattern, "--sparsity", "0.7", "--m", "10", "--k", "32", "--n", "19",
            "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("nm", doc.RootElement.GetProperty("bench").GetString());
        Assert.Equal(pattern, doc.RootElement.GetProperty("pattern").GetString());
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal(sparsity, r.GetProperty("sparsity").GetDouble(), 3);
        foreach (var key in new[] { "pattern_ms", "lacuna_dense_ms", "openblas_ms", "csr_ms", "gflops_dense_equivalent", "gflops_actual",
                     "speedup_vs_dense", "speedup_vs_openblas", "speedup_vs_csr" })
            Assert.True(r.GetProperty(key).GetDouble() > 0, key);
        Assert.True(r.GetProperty("max_rel_error_vs_openblas").GetDouble() < 1e-4);
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("geomean_speedup_vs_dense").GetDouble() > 0);
    }

    [Fact]
    public void Bench_nm_rejects_bad_arguments()
    {
        Assert.Equal(2, Invoke("bench", "nm", "--pattern", "nm:4:2", "--m", "4", "--k", "8", "--n", "3").Code);
        var (code, _, err) = Invoke("bench", "nm", "--pattern", "nm:2:4", "--m", "4", "--k", "8");
        Assert.Equal(2, code);
        Assert.Contains("--m, --k and --n", err);
        Assert.Equal(2, Invoke("bench", "nm", "--pattern", "unstructured", "--sparsity", "1.5", "--m", "4", "--k", "8", "--n", "3").Code);
    }

    [Fact]
    public void Bench_tasd_reports_kept_norm_and_speedups_per_series()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "dlmc")).FullName;
        // 4 x 16, 3 rows with non-zeros; N = --batch (no batch-size file).
        File.WriteAllText(Path.Combine(sub, "tiny.smtx"), "4, 16, 9\n0 3 3 6 9\n0 1 2 4 5 6 8 12 15\n");
        var (code, output, err) = Invoke("bench", "tasd", "--dlmc", sub, "--series", "2:4,2:4+1:8:r2", "--batch", "11", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("tasd", doc.RootElement.GetProperty("bench").GetString());
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal(11, r.GetProperty("n").GetInt32());
        var series = r.GetProperty("series");
        Assert.Equal(2, series.GetArrayLength());
        // Row 0 has 3 non-zeros in group 0 (columns 0..2): 2:4 drops one, so it keeps less than all of the norm.
        double kept = series[0].GetProperty("kept_norm_fraction").GetDouble();
        Assert.InRange(kept, 0.1, 0.99999);
        Assert.Equal(Math.Sqrt(1 - Math.Pow(series[0].GetProperty("residual_rel_norm").GetDouble(), 2)), kept, 4);
        Assert.True(series[0].GetProperty("output_rel_error").GetDouble() > 0);
        foreach (var key in new[] { "tasd_ms", "speedup_vs_dense", "speedup_vs_csr" })
            Assert.True(series[1].GetProperty(key).GetDouble() > 0, key);
        var summary = doc.RootElement.GetProperty("summary");
        Assert.Equal("2:4+1:8:r2", summary[1].GetProperty("series").GetString());
        Assert.True(summary[1].GetProperty("geomean_speedup_vs_csr").GetDouble() > 0);
        Assert.Equal(2, Invoke("bench", "tasd", "--dlmc", sub, "--series", "2:4+9:8").Code);
        Assert.Equal(2, Invoke("bench", "tasd", "--dlmc", Path.Combine(_dir, "missing")).Code);
    }
}
