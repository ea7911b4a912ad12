using System.CommandLine;
using System.Text;
using Lacuna.Cli.Report;
using Lacuna.Onnx;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna report RESULTS... -o report.html</c>: one self-contained HTML page (inline SVG charts and CSS, nothing
/// fetched) from the study file and the --json output of <c>prune</c>, <c>train</c> and <c>bench</c>.
/// </summary>
public static class ReportCommand
{
    public static Command Build()
    {
        var results = new Argument<string[]>("results")
        {
            Description = "Result files, or folders of *.json: docs/pruning-study.json and the --json output of lacuna prune, train and bench.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--output", "-o") { Description = "The HTML file to write (atomically).", Required = true };
        var title = new Option<string>("--title") { Description = "The page's title.", DefaultValueFactory = _ => "Lacuna: pruning, accuracy and speed" };
        var skipUnknown = new Option<bool>("--skip-unknown") { Description = "Warn about JSON files that are not Lacuna results instead of refusing them." };
        var cmd = new Command("report", "Write one HTML page with charts of accuracy and speed-up vs sparsity, per-layer sparsity and kernels, training curves and benchmark ratios.")
        {
            results, output, title, skipUnknown,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var data = ReportReader.Read(parse.GetValue(results)!, parse.GetValue(skipUnknown), w => Console.Error.WriteLine($"report: {w}"));
                string html = ReportPage.Render(data, parse.GetValue(title)!);
                string path = parse.GetValue(output)!;
                AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(html)));
                Console.WriteLine($"wrote {path}: {Describe(data)}");
                return 0;
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                Console.Error.WriteLine($"report: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static string Describe(ReportData d) => string.Join(", ", new[]
    {
        (d.Study.Count, "study model(s)"), (d.Prunes.Count, "prune result(s)"), (d.Trains.Count, "training run(s)"), (d.Benches.Count, "benchmark(s)"),
    }.Where(x => x.Item1 > 0).Select(x => $"{x.Item1} {x.Item2}"));
}
