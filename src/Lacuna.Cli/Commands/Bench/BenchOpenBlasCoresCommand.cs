using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench openblas-cores</c>: the evidence behind <see cref="OpenBlasCore"/>'s default. OpenBLAS fixes its
/// core at load, so each core the CPU can run is measured in its own child process (<c>bench gemm</c> with
/// <c>--openblas-core</c>), which also verifies that core's results; the table says which was fastest and whether
/// that is the core benchmarks load by default.
/// </summary>
public static class BenchOpenBlasCoresCommand
{
    public static Command Build()
    {
        var size = new Option<int>("--size") { Description = "M = N = K of the sgemm.", DefaultValueFactory = _ => 1024 };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var json = CommonOptions.Json();
        var cmd = new Command("openblas-cores", "OpenBLAS sgemm speed and correctness per kernel set (core) this CPU can run, one child process each.")
        {
            size, threads, repeat, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads), s = pr.GetValue(size);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            if (s < 1) { Console.Error.WriteLine($"--size must be positive (got {s})."); return 2; }
            return Run(s, t, pr.GetValue(repeat), pr.GetValue(json));
        });
        return cmd;
    }

    private static int Run(int size, int threads, int repeats, bool json)
    {
        var cpu = CpuInfo.Current;
        var cores = OpenBlasCore.Supported(cpu);
        if (cores.Count == 0) { Console.Error.WriteLine($"No OpenBLAS core is known to run on this CPU ({cpu.Describe()})."); return 3; }
        string defaultCore = OpenBlasCore.Choose(null, cpu, null, null).Requested!;
        var rows = new JsonArray();
        var table = new Table().Title($"OpenBLAS sgemm {size}³, {threads} thread(s), median of {repeats}, one process per core")
            .AddColumns("core requested", "core loaded", "GFLOP/s", "max rel error", "note");
        string? best = null;
        double bestGflops = 0;
        foreach (string core in cores)
        {
            if (!json) AnsiConsole.MarkupLine($"[grey]measuring {core}...[/]");
            var (doc, error) = Child(core, size, threads, repeats);
            var result = doc?["results"]?[0];
            double gflops = result?["openblas_gflops"]?.GetValue<double>() ?? double.NaN;
            string loaded = doc?["openblas_core"]?.GetValue<string>() ?? "-";
            double verr = doc?["openblas_verified_max_rel_error"]?.GetValue<double>() ?? double.NaN;
            string note = error ?? (core == defaultCore ? "default" : "");
            if (error is null && gflops > bestGflops) { bestGflops = gflops; best = core; }
            rows.Add(new JsonObject
            {
                ["core_requested"] = core, ["core_loaded"] = loaded, ["gflops"] = BenchJson.Num(gflops),
                ["verified_max_rel_error"] = BenchJson.Num(verr, 3), ["error"] = error,
            });
            table.AddRow(core, Markup.Escape(loaded), double.IsNaN(gflops) ? "-" : $"{gflops:F1}",
                double.IsNaN(verr) ? "-" : $"{verr:E1}", Markup.Escape(note));
        }
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "openblas-cores", ["size"] = size, ["threads"] = threads, ["repeats"] = repeats,
                ["default_core"] = defaultCore, ["fastest_core"] = best, ["results"] = rows,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine(best is null ? "No core ran correctly." : $"fastest: {best} ({bestGflops:F1} GFLOP/s); default: {defaultCore}");
        }
        return best is null ? 1 : 0;
    }

    /// <summary>Runs <c>bench gemm --json</c> for one core in a child process; its JSON, or why there is none.</summary>
    private static (JsonNode? Doc, string? Error) Child(string core, int size, int threads, int repeats) =>
        SelfProcess.RunJson("bench", "gemm", "--m", $"{size}", "--n", $"{size}", "--k", $"{size}", "--threads", $"{threads}",
            "--repeat", $"{repeats}", "--json", "--openblas-core", core);
}
