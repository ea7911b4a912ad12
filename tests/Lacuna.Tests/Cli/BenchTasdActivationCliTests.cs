using System.CommandLine;
using System.Text.Json;
using Lacuna.Cli.Commands;

namespace Lacuna.Tests.Cli;

/// <summary>`bench tasd-a` end to end on a tiny shape.</summary>
[Collection("Console")]
public sealed class BenchTasdActivationCliTests
{
    private static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var root = new RootCommand { BenchCommand.Build() };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Fact]
    public void Bench_tasd_a_reports_kept_norm_error_and_speedup_per_series()
    {
        var (code, output, err) = Invoke("bench", "tasd-a", "--m", "20", "--k", "40", "--n", "37", "--density", "0.6,0.2",
            "--series", "auto,1:8", "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("tasd-a", doc.RootElement.GetProperty("bench").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(4, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
        {
            foreach (var key in new[] { "tasd_a_ms", "lacuna_dense_ms", "speedup_vs_dense" })
                Assert.True(r.GetProperty(key).GetDouble() > 0, key);
            double kept = r.GetProperty("kept_norm_fraction").GetDouble();
            Assert.Equal(Math.Sqrt(1 - Math.Pow(r.GetProperty("residual_rel_norm").GetDouble(), 2)), kept, 3); // JSON keeps 4 digits
            Assert.InRange(r.GetProperty("kept_density").GetDouble(), 0.01, r.GetProperty("measured_density").GetDouble() + 1e-9);
        }
        // 1:8 on a 0.6-dense activation drops most of it; the chosen series keeps nearly all.
        var oneEight = results[1];
        Assert.Equal("1:8", oneEight.GetProperty("series").GetString());
        Assert.InRange(oneEight.GetProperty("kept_norm_fraction").GetDouble(), 0.1, 0.9);
        Assert.True(oneEight.GetProperty("output_rel_error").GetDouble() > 0.1);
        Assert.True(results[0].GetProperty("auto").GetBoolean());
        Assert.True(results[0].GetProperty("kept_norm_fraction").GetDouble() > 0.99);
    }

    [Theory]
    [InlineData("--series", "2:4+9:8")]
    [InlineData("--series", "2:4:r4")]
    [InlineData("--density", "1.5")]
    [InlineData("--density", "x")]
    public void Bad_options_are_one_line_errors(string option, string value)
    {
        var (code, _, err) = Invoke("bench", "tasd-a", "--m", "8", "--k", "8", "--n", "8", option, value);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
    }
}
