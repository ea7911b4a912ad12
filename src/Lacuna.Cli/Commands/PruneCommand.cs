using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna prune model.onnx --method M [--sparsity S] -o out.onnx</c>: prunes a model's Conv/Gemm/MatMul weights
/// (<see cref="ModelPruning"/>), writes standard ONNX with each layer's pattern in metadata_props, and reports per
/// layer what was kept and what it gains: estimated (MACs), accelerator-model and measured (dense vs sparse plan) speedups.
/// </summary>
public static partial class PruneCommand
{
    public static Command Build()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model to prune." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The pruned .onnx to write (atomically).", Required = true };
        var method = new Option<string>("--method", "-m") { Description = $"Pruning method: {ModelPruning.MethodList}.", Required = true };
        var sparsity = new Option<double>("--sparsity", "-s") { Description = "Fraction of weights to zero (magnitude, global, block, gs, channel: filters); not for nm/tasd/tasder." };
        var calibration = new Option<string?>("--calibration") { Description = "fashion-mnist (its last N training images, labelled) or a folder of input_N.pb tensors: accuracy / output error before and after; required by tasder." };
        var images = new Option<int>("--images") { Description = "Calibration images used from fashion-mnist.", DefaultValueFactory = _ => 1000 };
        var budget = new Option<double>("--budget") { Description = "tasder with labels: keep at least this fraction of the dense model's accuracy.", DefaultValueFactory = _ => 0.99 };
        var maxError = new Option<double>("--max-error") { Description = "tasder with a folder of inputs: bound on the relative output error vs the dense model.", DefaultValueFactory = _ => 0.01 };
        var batch = new Option<int>("--batch", "-b") { Description = "Batch at which the dense and sparse plans are timed.", DefaultValueFactory = _ => 1 };
        var threads = CommonOptions.Threads();
        var runs = CommonOptions.Repeat(5);
        var firstLast = new Option<bool>("--include-first-last") { Description = "Also prune the first and last prunable layers (kept dense by default)." };
        var schedule = new Option<string>("--schedule") { Description = "oneshot (the only schedule here; gradual pruning runs inside `lacuna train`).", DefaultValueFactory = _ => "oneshot" };
        var order = new Option<string>("--tasder-order") { Description = "tasder: cost (each step the one with most MACs saved per score lost), layer (each layer steps as far as the budget allows, least sensitive first) or round (one step per layer per round).", DefaultValueFactory = _ => "cost" };
        var json = CommonOptions.Json();
        var cmd = new Command("prune", "Prune a model's Conv/Gemm/MatMul weights to a pattern, shrink channels, or search TASD series (TASDER); writes standard ONNX.")
        {
            model, output, method, sparsity, calibration, images, budget, maxError, batch, threads, runs, firstLast, schedule, order, json,
        };
        cmd.SetAction(pr =>
        {
            var s = new Settings(pr.GetValue(model)!.FullName, pr.GetValue(output)!.FullName, pr.GetValue(method)!, pr.GetValue(sparsity),
                pr.GetValue(calibration), pr.GetValue(images), pr.GetValue(budget), pr.GetValue(maxError), pr.GetValue(batch), pr.GetValue(threads),
                pr.GetValue(runs), pr.GetValue(firstLast), pr.GetValue(schedule)!, pr.GetValue(json)) { TasderOrder = pr.GetValue(order)! };
            if (Check(s) is { } error) { Console.Error.WriteLine($"error: {error}"); return 2; }
            try
            {
                return Run(s, Console.Out, Console.Error);
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                Console.Error.WriteLine($"error: {CliErrors.Message(e)}");
                return 1;
            }
        });
        return cmd;
    }

    internal sealed record Settings(string Model, string Output, string Method, double Sparsity, string? Calibration, int Images, double Budget,
        double MaxError, int Batch, int Threads, int Runs, bool IncludeFirstLast, string Schedule, bool Json)
    {
        public string TasderOrder { get; init; } = "cost";
    }

    /// <summary>Option errors found before any file is read (one line each).</summary>
    internal static string? Check(Settings s)
    {
        if (s.Schedule.Equals("gradual", StringComparison.OrdinalIgnoreCase))
            return "--schedule gradual prunes while training, which an exported ONNX model cannot resume: use `lacuna train --net NET --prune S --prune-method M --prune-schedule gradual`; `lacuna prune` prunes one-shot.";
        if (!s.Schedule.Equals("oneshot", StringComparison.OrdinalIgnoreCase)) return $"--schedule must be oneshot or gradual (got '{s.Schedule}').";
        try
        {
            if (ModelPruning.CheckSparsity(s.Method, s.Sparsity) is { } e) return e;
        }
        catch (ArgumentException e) { return e.Message; }
        if (s.Method.Trim().Equals("tasder", StringComparison.OrdinalIgnoreCase) && s.Calibration is null)
            return "tasder needs --calibration fashion-mnist or a folder of input_N.pb tensors to hold its budget.";
        if (s.TasderOrder is not ("cost" or "layer" or "round")) return $"--tasder-order must be cost, layer or round (got '{s.TasderOrder}').";
        if (CommonOptions.CheckThreads(s.Threads) is { } t) return t;
        if (s.Batch < 1) return $"--batch must be at least 1 (got {s.Batch}).";
        if (s.Images < 1) return $"--images must be at least 1 (got {s.Images}).";
        if (s.Runs < 1) return $"--repeat must be at least 1 (got {s.Runs}).";
        if (!(s.Budget > 0 && s.Budget <= 1)) return $"--budget must be in (0, 1] (got {s.Budget}).";
        if (!(s.MaxError > 0)) return $"--max-error must be positive (got {s.MaxError}).";
        if (!File.Exists(s.Model)) return $"model '{s.Model}' does not exist.";
        return null;
    }

    internal static int Run(Settings s, TextWriter stdout, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var dense = OnnxGraphImporter.Load(s.Model);
        Calibration? cal = s.Calibration is null ? null : Calibration.Load(s.Calibration, s.Images, dense);
        double? denseAccuracy = cal?.Accuracy(dense);
        if (denseAccuracy is { } da) log.WriteLine($"dense accuracy {da:P2} on {cal!.Source}");

        ModelPruning.TasderBudget? tasder = null;
        if (cal is not null && s.Method.Trim().Equals("tasder", StringComparison.OrdinalIgnoreCase))
        {
            int trial = 0;
            void Progress(Tasder.Trial t) =>
                log.WriteLine($"  tasder {++trial,3} {t.Phase,-11} {t.Layer,-24} {t.Pattern,-9} " +
                              (cal.HasLabels ? $"accuracy {t.Score:P2}" : $"error {-t.Score:G3}") + (t.Phase == "step" ? (t.Accepted ? " kept" : " over budget") : ""));
            var searchOrder = s.TasderOrder switch { "round" => TasderOrder.RoundRobin, "layer" => TasderOrder.LayerByLayer, _ => TasderOrder.CostAware };
            tasder = cal.HasLabels
                ? new(g => cal.Accuracy(g)!.Value, s.Budget * denseAccuracy!.Value, Progress, searchOrder)
                : new(g => -cal.OutputError(dense, g), -s.MaxError, Progress, searchOrder);
            log.WriteLine(cal.HasLabels ? $"tasder: keep accuracy >= {s.Budget:P0} of dense = {s.Budget * denseAccuracy!.Value:P2}"
                                        : $"tasder: keep relative output error <= {s.MaxError:G3}");
        }
        var outcome = ModelPruning.Prune(dense, s.Method, s.Sparsity, s.IncludeFirstLast, tasder, line => log.WriteLine($"  {line}"));
        var pruned = outcome.Graph;

        // Save before measuring: the file is the product, the measurements describe it.
        var onnx = OnnxGraphExporter.ToModel(pruned, "lacuna prune");
        onnx.Save(s.Output);
        log.WriteLine($"wrote {s.Output} ({new FileInfo(s.Output).Length:N0} bytes) in {clock.Elapsed.TotalSeconds:F1} s");

        double? accuracy = cal?.Accuracy(pruned);
        double? error = cal?.OutputError(dense, pruned);
        log.WriteLine($"timing dense vs sparse plan: batch {s.Batch}, {s.Threads} thread(s), median of {s.Runs}");
        var timing = ModelEvaluation.TimeAgainstDense(dense, pruned, s.Batch, s.Threads, s.Runs);
        var doc = Report(s, dense, outcome, timing, denseAccuracy, accuracy, error);
        if (s.Json) stdout.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else PrintTable(stdout, doc, timing);
        return 0;
    }

    private static JsonObject Report(Settings s, ModelGraph dense, PruneOutcome outcome, ModelEvaluation.PlanTiming timing,
        double? denseAccuracy, double? accuracy, double? error)
    {
        var model = new AcceleratorCostModel();
        var before = LayerGeometry.Measure(dense);
        var after = LayerGeometry.Measure(outcome.Graph);
        var shrunk = PrunableLayer.Find(outcome.Graph).ToDictionary(l => l.Name, StringComparer.Ordinal);
        double macsDense = 0, macsKept = 0, prunedWeights = 0, prunedZeros = 0;
        var accDense = new AcceleratorCostModel.Cost();
        var accPruned = new AcceleratorCostModel.Cost();
        var layers = new JsonArray();
        foreach (var l in outcome.Layers)
        {
            var g0 = before[l.Name];
            double kept = g0.DenseMacs * (1 - l.Sparsity);
            macsDense += g0.DenseMacs;
            macsKept += kept;
            if (l.Pattern != "dense" || l.Sparsity > 0) { prunedWeights += (double)l.Rows * l.Cols; prunedZeros += l.Sparsity * l.Rows * l.Cols; }
            var d = model.LayerCost(g0.DenseMacs, l.Rows, l.Cols, g0.InputElements, g0.OutputElements, null);
            var p = AcceleratorCost(model, l, g0, after.GetValueOrDefault(l.Name), shrunk.GetValueOrDefault(l.Name), kept);
            accDense += d; accPruned += p;
            double denseMs = timing.LayerDenseMs.GetValueOrDefault(l.Name, double.NaN), sparseMs = timing.LayerSparseMs.GetValueOrDefault(l.Name, double.NaN);
            layers.Add(new JsonObject
            {
                ["name"] = l.Name, ["op"] = l.Op, ["rows"] = l.Rows, ["cols"] = l.Cols, ["pattern"] = l.Pattern,
                ["sparsity"] = BenchJson.Num(l.Sparsity), ["kept_norm"] = BenchJson.Num(l.KeptNorm),
                ["estimated_speedup"] = BenchJson.Num(l.Sparsity >= 1 ? double.PositiveInfinity : 1 / (1 - l.Sparsity)),
                ["accelerator_speedup"] = BenchJson.Num(d.Time / p.Time), ["measured_speedup"] = BenchJson.Num(denseMs / sparseMs),
                ["kernel"] = timing.SparseKernels.GetValueOrDefault(l.Name), ["note"] = l.Note,
            });
        }
        var parameters = new JsonObject();
        foreach (var (k, v) in model.Parameters) parameters[k] = v;
        return new JsonObject
        {
            ["command"] = "prune", ["model"] = s.Model, ["output"] = s.Output, ["method"] = s.Method.Trim().ToLowerInvariant(),
            ["tasder_order"] = outcome.Search is null ? null : s.TasderOrder,
            ["sparsity"] = BenchJson.Num(prunedWeights == 0 ? 0 : prunedZeros / prunedWeights),
            ["threads"] = s.Threads, ["batch"] = s.Batch, ["cpu"] = CpuInfo.Current.Describe(), ["isa"] = IsaTiers.Best.ToString(),
            ["dense_accuracy"] = denseAccuracy is { } a0 ? BenchJson.Num(a0) : null, ["accuracy"] = accuracy is { } a1 ? BenchJson.Num(a1) : null,
            ["relative_output_error"] = error is { } e ? BenchJson.Num(e) : null,
            ["macs_dense"] = macsDense, ["macs_kept"] = macsKept,
            ["dense_ms"] = BenchJson.Num(timing.DenseMs), ["sparse_ms"] = BenchJson.Num(timing.SparseMs), ["measured_speedup"] = BenchJson.Num(timing.Speedup),
            ["accelerator"] = new JsonObject
            {
                ["dense_time"] = accDense.Time, ["time"] = accPruned.Time, ["speedup"] = BenchJson.Num(accDense.Time / accPruned.Time),
                ["dense_energy"] = accDense.Energy, ["energy"] = accPruned.Energy, ["params"] = parameters,
            },
            ["layers"] = layers,
        };
    }

    /// <summary>
    /// The accelerator cost of a pruned layer: N:M and series run as their terms over the full dense MACs; unstructured,
    /// block and GS have no N:M unit and run dense; a dense or channel-shrunk layer runs dense at its kept size.
    /// </summary>
    private static AcceleratorCostModel.Cost AcceleratorCost(AcceleratorCostModel model, PrunedLayer l, LayerGeometry g0, LayerGeometry? g1,
        PrunableLayer? shrunk, double keptMacs)
    {
        SparsityPattern? pattern = null;
        if (l.Pattern is not ("dense" or "channel"))
            try { pattern = SparsityPattern.Parse(l.Pattern); } catch (ArgumentException) { }
        if (pattern is not null)
            return AcceleratorCostModel.Terms(pattern).Count > 0
                ? model.LayerCost(g0.DenseMacs, l.Rows, l.Cols, g0.InputElements, g0.OutputElements, pattern)
                : model.LayerCost(g0.DenseMacs, l.Rows, l.Cols, g0.InputElements, g0.OutputElements, null);
        var g = g1 ?? g0;
        return model.LayerCost(keptMacs, shrunk?.Rows ?? l.Rows, shrunk?.Cols ?? l.Cols, g.InputElements, g.OutputElements, null);
    }

    private static void PrintTable(TextWriter o, JsonObject doc, ModelEvaluation.PlanTiming timing)
    {
        o.WriteLine($"{"layer",-24} {"op",-6} {"shape",-12} {"pattern",-10} {"sparsity",8} {"kept‖W‖",8} {"est.",6} {"accel.",6} {"meas.",6}  kernel");
        foreach (var l in doc["layers"]!.AsArray())
        {
            string shape = $"{l!["rows"]}x{l["cols"]}";
            o.WriteLine($"{(string)l["name"]!,-24} {(string)l["op"]!,-6} {shape,-12} {(string)l["pattern"]!,-10} {F(l["sparsity"], "P1"),8} {F(l["kept_norm"], "F3"),8} " +
                        $"{F(l["estimated_speedup"], "F2"),6} {F(l["accelerator_speedup"], "F2"),6} {F(l["measured_speedup"], "F2"),6}  {(string?)l["kernel"]}" +
                        (l["note"] is { } note ? $"  ({(string)note!})" : ""));
        }
        double md = (double)doc["macs_dense"]!, mk = (double)doc["macs_kept"]!;
        o.WriteLine($"sparsity over pruned layers {F(doc["sparsity"], "P2")}; MACs per image {md:N0} -> {mk:N0} ({1 - mk / md:P1} removed)");
        if (doc["dense_accuracy"] is { } da) o.WriteLine($"accuracy {F(da, "P2")} dense -> {F(doc["accuracy"], "P2")} pruned ({(double)doc["accuracy"]! / (double)da:P2} of dense)");
        if (doc["relative_output_error"] is { } re) o.WriteLine($"relative output error vs dense {(double)re:G3}");
        o.WriteLine($"measured (batch {doc["batch"]}, {doc["threads"]} thread(s)): dense plan {timing.DenseMs:F3} ms, pruned sparse plan {timing.SparseMs:F3} ms, speedup {timing.Speedup:F2}x");
        var acc = doc["accelerator"]!;
        o.WriteLine($"accelerator model: speedup {F(acc["speedup"], "F2")}x, energy {(double)acc["dense_energy"]! / (double)acc["energy"]!:F2}x lower");
    }

    private static string F(JsonNode? n, string format) => n is null ? "-" : ((double)n).ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
