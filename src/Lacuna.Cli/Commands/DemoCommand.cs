using System.CommandLine;
using System.Diagnostics;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna demo</c>, the README's main job: ResNet-50 (or another zoo model, e.g. bert-base at sequence 128) with seeded weights, magnitude-pruned to 0.9 (or a real
/// DLMC topology with --dlmc), planned dense and sparse, run both ways, and a table of stage times, the speedup,
/// the agreement of the two outputs and where the time goes. Self-contained: needs no data files. Where ONNX Runtime
/// is installed (<c>scripts/install-deps.sh</c>) it runs the same exported model in the same interleaved rounds, since
/// that ratio is what a user weighs; without it the demo says so and compares with Lacuna's dense plan only.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = $"Zoo model ({string.Join(", ", ZooBuilder.Names)}).", DefaultValueFactory = _ => "resnet50" };
        var sparsity = new Option<double?>("--sparsity") { Description = "Magnitude-pruning sparsity (default 0.9; ignored with --dlmc; rejected by patterns that fix their own, nm and series)." };
        var pattern = CommonOptions.Pattern();
        var dlmc = new Option<string?>("--dlmc") { Description = "A DLMC ResNet-50 folder (e.g. dlmc/rn50/magnitude_pruning/0.9): use its real pruned topology." };
        var seed = new Option<ulong>("--seed") { Description = "Weight seed.", DefaultValueFactory = _ => 1UL };
        var seq = new Option<int>("--seq") { Description = "Sequence length of sequence models (bert-base, transformer-base).", DefaultValueFactory = _ => 128 };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var repeat = CommonOptions.Repeat(5);
        var precision = CommonOptions.Precision();
        var cmd = new Command("demo", "Prune a CNN, plan it dense and sparse, run both, and show the speedup and where the time goes.")
        {
            model, sparsity, pattern, dlmc, seed, seq, threads, repeat, precision,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            if (pr.GetValue(seq) < 1) { Console.Error.WriteLine($"--seq must be at least 1 (got {pr.GetValue(seq)})."); return 2; }
            var (sparseOptions, precisionError) = CommonOptions.SparseOptions(pr.GetValue(precision)!);
            if (precisionError is not null) { Console.Error.WriteLine(precisionError); return 2; }
            var (pat, patternError) = CommonOptions.ParsePattern(pr.GetValue(pattern)!);
            if (patternError is not null) { Console.Error.WriteLine(patternError); return 2; }
            double? given = pr.GetValue(sparsity);
            double s = given ?? (pat!.SparsityIsFree ? 0.9 : 0);
            string? dir = pr.GetValue(dlmc);
            if (dir is null && !(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            if (dir is not null && pat is not Lacuna.Pruning.UnstructuredPattern) { Console.Error.WriteLine("--dlmc fixes the pruned topology; drop --pattern."); return 2; }
            if (dir is null && CommonOptions.CheckPatternSparsity(pat!, s) is { } sparsityError) { Console.Error.WriteLine(sparsityError); return 2; }
            if (dir is not null && !Directory.Exists(dir)) { Console.Error.WriteLine($"DLMC folder not found: {dir}"); return 2; }
            try
            {
                return Run(pr.GetValue(model)!, dir is null ? s : 0, pat!, dir, pr.GetValue(seed), pr.GetValue(seq), t, Math.Max(1, pr.GetValue(repeat)),
                    CommonOptions.WithPattern(sparseOptions!, pat!));
            }
            catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException or IOException)
            {
                Console.Error.WriteLine($"demo: {CommonOptions.Message(e)}");
                return 1;
            }
        });
        return cmd;
    }

    private static int Run(string name, double sparsity, Lacuna.Pruning.SparsityPattern pattern, string? dlmc, ulong seed, int seqLength, int threads, int repeats,
        PassOptions sparseOptions)
    {
        WorkerPool.DefaultThreads = threads;
        var stages = new List<(string Stage, double Ms)>();
        ZooModel zoo = null!;
        InferenceSession dense = null!, sparse = null!;
        Dictionary<string, Tensor> feeds = null!;
        Dictionary<string, (Array, long[])> ortFeeds = null!;
        Dictionary<string, int[]> shapes = null!;
        bool isSequence = false;
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(IsaTiers.Describe())}; {threads} thread(s)[/]");
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                double Stage(string label, Action body)
                {
                    var task = ctx.AddTask(label, maxValue: 1);
                    long t0 = Stopwatch.GetTimestamp();
                    body();
                    double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    task.Increment(1);
                    stages.Add((label, ms));
                    return ms;
                }
                string what = dlmc is not null ? "apply the DLMC topology"
                    : pattern is Lacuna.Pruning.UnstructuredPattern ? $"prune to {sparsity:P0} by magnitude"
                    : $"prune to pattern {pattern} at {pattern.ResultingSparsity(sparsity):P0} by magnitude";
                Stage($"build {name}, {what}", () => zoo = ZooBuilder.Build(name, new ZooOptions(seed, sparsity, DlmcDirectory: dlmc,
                    Pattern: dlmc is null ? pattern : null)));
                ModelGraph graph = null!;
                Stage("import and optimize (BN fold, fusion)", () =>
                {
                    graph = OnnxGraphImporter.ToGraph(zoo.Model);
                    dense = InferenceSession.Create(graph, PassOptions.Dense);
                    sparse = InferenceSession.Create(graph, sparseOptions);
                });
                (feeds, ortFeeds, shapes, isSequence) = ModelInputs.Create(graph, dense.RuntimeInputs, 1, seqLength, seed);
                Stage("plan dense (pack weights)", () => dense.PlanFor(shapes));
                Stage("plan sparse (time candidates per layer)", () => sparse.PlanFor(shapes));
            });

        string output = dense.Outputs[0].Name;
        float[] yd = dense.Run(feeds)[output].ToArray(), ys = sparse.Run(feeds)[output].ToArray();
        using var ort = OnnxRuntime.IsAvailable ? OnnxRuntimeSession.Create(zoo.Model.ToBytes(), threads, allowSpinning: false) : null;
        float[]? yo = ort?.RunAll(ortFeeds)[output].Data;
        var contenders = new List<(string, Action)> { ("dense", () => dense.Run(feeds)), ("sparse", () => sparse.Run(feeds)) };
        if (ort is not null) contenders.Add(("onnxruntime", () => ort.RunAll(ortFeeds)));
        var timing = Measure.Interleaved(1, repeats, contenders);
        double maxAbs = yd.Max(MathF.Abs), maxDiff = yd.Zip(ys, (a, b) => Math.Abs(a - b)).Max();
        bool sameTop1 = Array.IndexOf(yd, yd.Max()) == Array.IndexOf(ys, ys.Max());
        string shapeText = isSequence ? $"batch 1, sequence {seqLength}" : "batch 1";

        string how = dlmc is not null ? " (DLMC)" : zoo.Pattern is { } pat and not "unstructured" ? $" (pattern {pat})" : "";
        var table = new Table().Title($"{name}, weight sparsity {zoo.WeightSparsity:P1}{Markup.Escape(how)}, {shapeText}, {threads} thread(s)")
            .AddColumns("stage", "time");
        foreach (var (stage, ms) in stages) table.AddRow(Markup.Escape(stage), $"{ms:F0} ms");
        table.AddRow("run dense (median)", $"{timing[0].MedianMs:F2} ms");
        table.AddRow("run sparse (median)", $"{timing[1].MedianMs:F2} ms");
        table.AddRow("[bold]speedup, sparse over dense[/]", $"[bold]{timing[0].MedianMs / timing[1].MedianMs:F2}x[/]");
        var chosen = sparse.PlanFor(shapes).Patterns;
        if (chosen.Count > 0)
            table.AddRow("structured kernels chosen", Markup.Escape(string.Join(", ", chosen.Values.GroupBy(v => v).Select(g => $"{g.Key} ×{g.Count()}"))));
        table.AddRow("agreement", $"max |Δ| {maxDiff:G3} (relative {maxDiff / Math.Max(maxAbs, 1e-30):E1}), same top-1: {sameTop1}");
        if (ort is not null && yo is not null)
        {
            double ortDiff = yo.Zip(ys, (a, b) => Math.Abs(a - b)).Max(), ortScale = Math.Max(yo.Max(MathF.Abs), 1e-30);
            table.AddRow($"run ONNX Runtime {Markup.Escape(OnnxRuntime.Version)} (median)", $"{timing[2].MedianMs:F2} ms");
            table.AddRow("[bold]speedup, sparse over ONNX Runtime[/]", $"[bold]{timing[2].MedianMs / timing[1].MedianMs:F2}x[/]");
            table.AddRow("agreement with ONNX Runtime", $"max |Δ| {ortDiff:G3} (relative {ortDiff / ortScale:E1})");
        }
        else
        {
            table.AddRow("ONNX Runtime", "not installed (bash scripts/install-deps.sh): compared with Lacuna's dense plan only");
        }
        AnsiConsole.Write(table);

        // Medians over several profiled runs per op: a single profiled run is a cold one (conv 28.7 ms in a run whose
        // median is 13.2 ms).
        var where = new Table().Title($"where the time goes (median of {repeats} profiled runs each)").AddColumns("op", "dense ms", "sparse ms", "sparse kernels chosen");
        var pd = MedianByOp(dense, feeds, repeats);
        var sparseSteps = sparse.Profile(feeds);
        var pss = MedianByOp(sparse, feeds, repeats);
        var ps = sparseSteps.GroupBy(x => x.OpType).ToDictionary(g => g.Key, g => (Ms: pss[g.Key], Kernels: g.Select(x => KernelShortName(x.Kernel)).ToArray()));
        foreach (var op in pd.Keys.Union(ps.Keys).OrderByDescending(k => pd.GetValueOrDefault(k)))
        {
            string kernels = ps.TryGetValue(op, out var v)
                ? string.Join(", ", v.Kernels.GroupBy(k => k).Select(g => $"{g.Key} ×{g.Count()}")) : "";
            where.AddRow(Markup.Escape(op), $"{pd.GetValueOrDefault(op):F2}", $"{(ps.TryGetValue(op, out var w) ? w.Ms : 0):F2}", Markup.Escape(kernels));
        }
        AnsiConsole.Write(where);
        return 0;
    }

    /// <summary>A kernel's first word; a token-linear kernel's first two (which candidate ran: "TokenLinear sparse").</summary>
    private static string KernelShortName(string kernel) =>
        string.Join(' ', kernel.Split(' ').Take(kernel.StartsWith("TokenLinear ", StringComparison.Ordinal) ? 2 : 1));

    /// <summary>Per op type, the median over <paramref name="runs"/> profiled runs of that op's summed step times.</summary>
    private static Dictionary<string, double> MedianByOp(InferenceSession session, Dictionary<string, Tensor> feeds, int runs)
    {
        var perRun = Enumerable.Range(0, runs)
            .Select(_ => session.Profile(feeds).GroupBy(x => x.OpType).ToDictionary(g => g.Key, g => g.Sum(x => x.Ms))).ToArray();
        return perRun[0].Keys.ToDictionary(op => op, op => Measure.Median(perRun.Select(r => r.GetValueOrDefault(op)).Order().ToArray()));
    }
}
