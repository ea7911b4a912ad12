using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench model</c>: one whole model, the same ONNX bytes, three ways, interleaved on the same input:
/// Lacuna with the sparse plan (the planner times dense / direct sparse / SpMM per layer at this batch and thread
/// count), Lacuna with the dense plan only, and ONNX Runtime 1.30 (CPU, all graph optimizations, same threads).
/// speedup_vs_onnxruntime = onnxruntime_ms / lacuna_sparse_ms; speedup_vs_dense = lacuna_dense_ms / lacuna_sparse_ms;
/// dense_vs_onnxruntime = lacuna_dense_ms / onnxruntime_ms. Diffs compare Lacuna's sparse-plan output with ONNX
/// Runtime's (relative = max |Δ| / max |ONNX Runtime output|). Progress goes to stderr.
/// <c>--pattern P</c> prunes the zoo model to a structured pattern (and restricts the planner's structured candidates
/// to it); <c>--patterns P1,P2,..</c> measures one such model per pattern and prints one row per pattern (JSON:
/// <c>rows</c>, each the single-pattern document), each row's three contenders interleaved in its own rounds.
/// </summary>
public static class BenchModelCommand
{
    public static Command Build()
    {
        var zoo = new Option<string?>("--zoo") { Description = $"Zoo model: {string.Join(", ", ZooBuilder.Names)}." };
        var onnx = new Option<string?>("--onnx") { Description = "An .onnx file to run as it is (instead of --zoo)." };
        var dlmc = new Option<string?>("--dlmc") { Description = "With --zoo resnet50: a DLMC folder (e.g. dlmc/rn50/magnitude_pruning/0.9) whose real pruned topology replaces the weights." };
        var sparsity = new Option<double>("--sparsity") { Description = "With --zoo: magnitude-prune every conv/Gemm but the first to this sparsity (0 = dense).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch", "-b") { Description = "Images (or sequences) per run.", DefaultValueFactory = _ => 1 };
        var seq = new Option<int>("--seq") { Description = "Sequence length fed to sequence models (every symbolic dimension besides the batch); default 128.", DefaultValueFactory = _ => 128 };
        var seed = new Option<ulong>("--seed") { Description = "Weight and input seed.", DefaultValueFactory = _ => 1UL };
        // Off by default, as OPENBLAS_THREAD_TIMEOUT is for OpenBLAS: with spinning on, ONNX Runtime's idle pool threads
        // busy-wait after each Run and take the second core from whichever contender runs next in the interleaved
        // rounds (DLMC 0.9, batch 1, 2 threads: Lacuna sparse 74 ms after a spinning ONNX Runtime, 39 ms otherwise),
        // and on this shared 2-core machine ONNX Runtime itself was slower with it (168 vs 98 ms dense).
        var ortSpin = new Option<bool>("--ort-spinning") { Description = "Let ONNX Runtime's idle pool threads spin (its library default; off here, see the source).", DefaultValueFactory = _ => false };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(9);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var precision = CommonOptions.Precision();
        var pattern = CommonOptions.Pattern(withDefault: false);
        var patterns = new Option<string?>("--patterns") { Description = "With --zoo: a comma-separated list of patterns, one model and one table row each (nm and series ignore --sparsity)." };
        var force = new Option<bool>("--force-pattern") { Description = "Layers that satisfy the pattern run on its kernel untimed (default: timed against dense and CSR)." };
        var memory = new Option<bool>("--memory") { Description = "Also measure each contender's resident memory (steady after planning, and peak), each in its own process." };
        var cmd = new Command("model", "A whole model: Lacuna sparse plan vs Lacuna dense plan vs ONNX Runtime, same ONNX, same threads.")
        {
            zoo, onnx, dlmc, sparsity, pattern, patterns, force, batch, seq, seed, ortSpin, threads, repeat, warmup, json, memory, precision,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads), b = pr.GetValue(batch), r = pr.GetValue(repeat), w = pr.GetValue(warmup);
            string? zooName = pr.GetValue(zoo), file = pr.GetValue(onnx), dir = pr.GetValue(dlmc);
            double s = pr.GetValue(sparsity);
            string? error = CommonOptions.CheckThreads(t)
                ?? CommonOptions.CheckBatch(b)
                ?? (pr.GetValue(seq) < 1 ? $"--seq must be at least 1 (got {pr.GetValue(seq)})." : null)
                ?? (r < 1 ? $"--repeat must be at least 1 (got {r})." : null)
                ?? ((zooName is null) == (file is null) ? "give exactly one of --zoo NAME and --onnx FILE." : null)
                ?? (file is not null && (dir is not null || s != 0) ? "--dlmc and --sparsity apply to --zoo models only; --onnx runs the file as it is." : null)
                ?? (dir is not null && s != 0 ? "--dlmc and --sparsity are exclusive: the DLMC folder fixes the sparsity." : null)
                ?? (!(s >= 0 && s < 1) ? $"--sparsity must be in [0, 1) (got {s})." : null)
                ?? (dir is not null && !Directory.Exists(dir) ? $"DLMC folder not found: {dir}" : null)
                ?? (file is not null && !File.Exists(file) ? $"ONNX file not found: {file}" : null);
            var (sparseOptions, precisionError) = CommonOptions.SparseOptions(pr.GetValue(precision)!);
            error ??= precisionError;
            string? one = pr.GetValue(pattern), list = pr.GetValue(patterns);
            error ??= one is not null && list is not null ? "give one of --pattern and --patterns." : null;
            error ??= list is not null && file is not null ? "--patterns prunes zoo models; with --onnx give one --pattern (which only steers the planner)." : null;
            error ??= (one ?? list) is not null && dir is not null ? "--dlmc fixes the pruned topology; drop --pattern." : null;
            var chosen = new List<Lacuna.Pruning.SparsityPattern>();
            foreach (string text in (list ?? one ?? "unstructured").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (error is not null) break;
                var (p, patternError) = CommonOptions.ParsePattern(text);
                error = patternError;
                if (p is not null) chosen.Add(p);
            }
            error ??= chosen.Count == 0 ? "--patterns lists no pattern." : null;
            // One pattern: --sparsity is checked against it. A list: a pattern that fixes its sparsity ignores --sparsity
            // (with a note), and the free ones need it.
            if (error is null && zooName is not null && list is null) error = CommonOptions.CheckPatternSparsity(chosen[0], s);
            if (error is null && list is not null && s == 0 && chosen.FirstOrDefault(p => p.SparsityIsFree) is { } free)
                error = $"--patterns {free} needs --sparsity S, the fraction of zeros in (0, 1).";
            if (error is not null) { Console.Error.WriteLine(error); return 2; }
            if (!OnnxRuntime.IsAvailable) { Console.Error.WriteLine(OnnxRuntime.InstallHint); return 3; }
            try
            {
                var rows = new List<JsonObject>();
                foreach (var p in chosen)
                {
                    double ps = p.SparsityIsFree ? s : 0;
                    if (list is not null && !p.SparsityIsFree && s != 0) Progress($"pattern {p} fixes its sparsity at {p.ResultingSparsity(s):P1}; --sparsity ignored for it");
                    var source = file is not null ? Source.FromFile(file) : Source.FromZoo(zooName!, ps, dir, pr.GetValue(seed), p);
                    var options = CommonOptions.WithPattern(sparseOptions!, p, pr.GetValue(force));
                    rows.Add(Run(source, b, pr.GetValue(seq), t, r, w, pr.GetValue(seed), pr.GetValue(ortSpin), pr.GetValue(json) || list is not null ? null : Console.Out,
                        pr.GetValue(memory), options, pr.GetValue(precision)!, p));
                }
                if (list is null && pr.GetValue(json)) Console.WriteLine(BenchJson.Write(rows[0]));
                if (list is not null) PrintPatterns(rows, pr.GetValue(json));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException or IOException or OnnxRuntimeException)
            {
                Console.Error.WriteLine($"bench model: {CommonOptions.Message(e)}");
                return 1;
            }
        });
        return cmd;
    }

    /// <summary>The per-pattern table (or JSON document) of <c>--patterns</c>: one row per pattern, ratios of that row's rounds.</summary>
    private static void PrintPatterns(List<JsonObject> rows, bool json)
    {
        if (json)
        {
            var first = rows[0];
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "model-patterns", ["model"] = first["model"]?.DeepClone(), ["batch"] = first["batch"]?.DeepClone(),
                ["threads"] = first["threads"]?.DeepClone(), ["tier"] = first["tier"]?.DeepClone(),
                ["onnxruntime_version"] = first["onnxruntime_version"]?.DeepClone(),
                ["rows"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            }));
            return;
        }
        var first0 = rows[0];
        var table = new Table().Title($"{Markup.Escape($"{first0["model"]}")} by pattern, batch {first0["batch"]}, {first0["threads"]} thread(s), medians")
            .AddColumns("pattern", "zeros", "sparse ms", "dense ms", "ORT ms", "vs ORT", "vs dense", "structured");
        foreach (var r in rows)
            table.AddRow(Markup.Escape($"{r["pattern"]}"), $"{D(r["sparsity"]):P1}", $"{D(r["lacuna_sparse_ms"]):F2}", $"{D(r["lacuna_dense_ms"]):F2}",
                $"{D(r["onnxruntime_ms"]):F2}", $"{D(r["speedup_vs_onnxruntime"]):F2}x", $"{D(r["speedup_vs_dense"]):F2}x",
                Markup.Escape(string.Join(", ", ((JsonObject)r["patterns_chosen"]!).Select(kv => $"{kv.Key} ×{kv.Value}"))));
        AnsiConsole.Write(table);
        var best = rows.MinBy(r => D(r["lacuna_sparse_ms"]))!;
        Console.WriteLine($"fastest sparse plan: {best["pattern"]}, {D(best["speedup_vs_onnxruntime"]):F2}x ONNX Runtime, {D(best["speedup_vs_dense"]):F2}x Lacuna dense");
    }

    /// <summary>The model under test: its name, ONNX form and weight sparsity (zeros over all conv/Gemm weights).</summary>
    private sealed record Source(string Name, OnnxModel Model, byte[] Bytes, double Sparsity, string Kind)
    {
        public static Source FromZoo(string name, double sparsity, string? dlmc, ulong seed, Lacuna.Pruning.SparsityPattern pattern)
        {
            var (zoo, ms) = Timed(() => ZooBuilder.Build(name, new ZooOptions(seed, sparsity, DlmcDirectory: dlmc, Pattern: dlmc is null ? pattern : null)));
            string how = dlmc is not null ? $"DLMC topology {dlmc}" : zoo.Pattern is { } p ? $"magnitude-pruned to pattern {p}" : "dense";
            Progress($"built {zoo.Name}, {how}, weight sparsity {zoo.WeightSparsity:P1} ({ms / 1000:F1} s)");
            return new Source(zoo.Name, zoo.Model, zoo.Model.ToBytes(), zoo.WeightSparsity, dlmc is not null ? "dlmc" : zoo.Pattern is not null ? "magnitude" : "dense");
        }

        public static Source FromFile(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            var model = OnnxModel.Parse(bytes, Path.GetDirectoryName(Path.GetFullPath(path)));
            var g = OnnxGraphImporter.ToGraph(model);
            double zeros = 0, total = 0;
            foreach (var n in g.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul"))
                if (n.Inputs.Count > 1 && g.Initializers.TryGetValue(n.Inputs[1], out var t) && t.Floats is { } f)
                {
                    zeros += f.Count(v => v == 0f);
                    total += f.Length;
                }
            return new Source(Path.GetFileNameWithoutExtension(path), model, bytes, total == 0 ? 0 : zeros / total, "onnx");
        }
    }

    /// <summary>Measures one model; prints its table to <paramref name="text"/> when given; returns the JSON document.</summary>
    private static JsonObject Run(Source src, int batch, int seqLength, int threads, int repeats, int warmup, ulong seed, bool ortSpinning, TextWriter? text, bool memory,
        PassOptions sparseOptions, string precision, Lacuna.Pruning.SparsityPattern pattern)
    {
        WorkerPool.DefaultThreads = threads;
        var graph = OnnxGraphImporter.ToGraph(src.Model);
        var sparse = InferenceSession.Create(graph, sparseOptions);
        var dense = InferenceSession.Create(graph, PassOptions.Dense);
        var (feeds, ortFeeds, shapes, isSequence) = ModelInputs.Create(graph, sparse.RuntimeInputs, batch, seqLength, seed);
        string output = sparse.Outputs[0].Name;

        Progress($"planning sparse at batch {batch}{(isSequence ? $", sequence length {seqLength}" : "")}, {threads} thread(s): timing the candidate kernels of every pruned layer ...");
        double planSparseMs = Timed(() => sparse.PlanFor(shapes)).Ms;
        Progress($"  done in {planSparseMs / 1000:F1} s; planning dense ...");
        double planDenseMs = Timed(() => dense.PlanFor(shapes)).Ms;
        Progress($"  done in {planDenseMs / 1000:F1} s; creating the ONNX Runtime {OnnxRuntime.Version} session ...");
        var (ort, ortMs) = Timed(() => OnnxRuntimeSession.Create(src.Bytes, threads, ortSpinning));
        using var _ = ort;
        Progress($"  done in {ortMs / 1000:F1} s; measuring {repeats} interleaved rounds after {warmup} warm-up run(s) ...");

        if (!ort.OutputNames.Contains(output)) throw new NotSupportedException($"ONNX Runtime's outputs ({string.Join(", ", ort.OutputNames)}) lack '{output}'.");
        var yo = ort.RunAll(ortFeeds)[output].Data;
        float[] ys = sparse.Run(feeds)[output].ToArray(), yd = dense.Run(feeds)[output].ToArray();
        if (yo.Length != ys.Length)
            throw new NotSupportedException($"ONNX Runtime's output has {yo.Length} values, Lacuna's '{output}' {ys.Length}.");
        double scale = yo.Length == 0 ? 0 : yo.Max(v => Math.Abs((double)v));
        double maxAbs = MaxAbsDiff(ys, yo), maxAbsDense = MaxAbsDiff(yd, yo);
        double rel = maxAbs / Math.Max(scale, 1e-30), relDense = maxAbsDense / Math.Max(scale, 1e-30);
        int[] shape = shapes.Values.First();

        var t = Measure.Interleaved(warmup, repeats, new (string, Action)[]
        {
            ("lacuna_sparse", () => sparse.Run(feeds)),
            ("lacuna_dense", () => dense.Run(feeds)),
            ("onnxruntime", () => ort.RunAll(ortFeeds)),
        });
        double sMs = t[0].MedianMs, dMs = t[1].MedianMs, oMs = t[2].MedianMs;
        var mem = memory ? MeasureMemory(src, shape, threads, precision) : null;
        var kernels = sparse.PlanFor(shapes).Steps.Where(st => st.Node.OpType == "Conv")
            .GroupBy(st => st.Kernel.Split(' ')[0]).ToDictionary(g => g.Key, g => g.Count());
        // Token-linear layers (MatMul by a constant weight): which candidate each chose ("TokenLinear sparse (...)").
        var linear = new JsonObject();
        foreach (var g in sparse.PlanFor(shapes).Steps.Where(st => st.Kernel.StartsWith("TokenLinear ", StringComparison.Ordinal))
            .GroupBy(st => st.Kernel.Split(' ')[1]).OrderBy(g => g.Key, StringComparer.Ordinal)) linear[g.Key] = g.Count();
        var patternsChosen = new JsonObject();
        foreach (var g in sparse.PlanFor(shapes).Patterns.Values.GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal)) patternsChosen[g.Key] = g.Count();

        var timings = new JsonObject();
        foreach (var m in t)
            timings[m.Name] = new JsonObject { ["median_ms"] = BenchJson.Num(m.MedianMs), ["min_ms"] = BenchJson.Num(m.MinMs), ["max_ms"] = BenchJson.Num(m.MaxMs) };
        var chosen = new JsonObject();
        foreach (var (k, n) in kernels.OrderBy(kv => kv.Key, StringComparer.Ordinal)) chosen[k] = n;
        var doc = new JsonObject
        {
            ["bench"] = "model", ["model"] = src.Name, ["source"] = src.Kind, ["pattern"] = pattern.Name,
            ["planner_patterns"] = sparseOptions.Patterns.ToString(), ["sparsity"] = BenchJson.Num(src.Sparsity),
            ["batch"] = batch, ["seq"] = isSequence ? seqLength : null, ["threads"] = threads, ["repeats"] = repeats, ["tier"] = IsaTiers.Best.ToString(),
            ["onnxruntime_version"] = OnnxRuntime.Version, ["onnxruntime_spinning"] = ortSpinning, ["precision"] = precision,
            ["lacuna_sparse_ms"] = BenchJson.Num(sMs), ["lacuna_dense_ms"] = BenchJson.Num(dMs), ["onnxruntime_ms"] = BenchJson.Num(oMs),
            ["speedup_vs_onnxruntime"] = BenchJson.Num(oMs / sMs), ["speedup_vs_dense"] = BenchJson.Num(dMs / sMs),
            ["dense_vs_onnxruntime"] = BenchJson.Num(dMs / oMs),
            ["max_abs_diff_vs_onnxruntime"] = BenchJson.Num(maxAbs, 3), ["max_rel_diff_vs_onnxruntime"] = BenchJson.Num(rel, 3),
            ["dense_max_rel_diff_vs_onnxruntime"] = BenchJson.Num(relDense, 3),
            ["plan_sparse_s"] = BenchJson.Num(planSparseMs / 1000, 3), ["conv_kernels_chosen"] = chosen, ["linear_kernels_chosen"] = linear, ["patterns_chosen"] = patternsChosen,
            ["timings"] = timings, ["memory"] = mem,
        };
        if (text is null) return doc;
        Print(text, src, doc, t, batch, threads, repeats, kernels, mem, precision);
        return doc;
    }

    private static void Print(TextWriter text, Source src, JsonObject doc, IReadOnlyList<Measure.Timing> t, int batch, int threads, int repeats,
        Dictionary<string, int> kernels, JsonObject? mem, string precision)
    {
        double sMs = t[0].MedianMs, dMs = t[1].MedianMs, oMs = t[2].MedianMs;
        double maxAbs = D(doc["max_abs_diff_vs_onnxruntime"]), rel = D(doc["max_rel_diff_vs_onnxruntime"]), relDense = D(doc["dense_max_rel_diff_vs_onnxruntime"]);
        var table = new Table().Title($"{Markup.Escape(src.Name)}, weight sparsity {src.Sparsity:P1} ({src.Kind}), batch {batch}, {threads} thread(s), median of {repeats}")
            .AddColumns("contender", "median ms", "min ms", "max ms");
        foreach (var m in t) table.AddRow(m.Name, $"{m.MedianMs:F2}", $"{m.MinMs:F2}", $"{m.MaxMs:F2}");
        AnsiConsole.Write(table);
        text.WriteLine($"speedup vs ONNX Runtime {OnnxRuntime.Version}: {oMs / sMs:F2}x; vs Lacuna dense: {dMs / sMs:F2}x; Lacuna dense / ONNX Runtime: {dMs / oMs:F2}");
        text.WriteLine($"agreement with ONNX Runtime: max |Δ| {maxAbs:G3} (relative {rel:E1}, sparse plan at {precision}); dense plan relative {relDense:E1}");
        text.WriteLine($"conv kernels chosen: {string.Join(", ", kernels.Select(kv => $"{kv.Key} ×{kv.Value}"))}");
        if (doc["linear_kernels_chosen"] is JsonObject { Count: > 0 } lk)
            text.WriteLine($"token-linear kernels chosen: {string.Join(", ", lk.Select(kv => $"{kv.Key} ×{kv.Value}"))}");
        if (doc["patterns_chosen"] is JsonObject { Count: > 0 } pc)
            text.WriteLine($"structured patterns chosen: {string.Join(", ", pc.Select(kv => $"{kv.Key} ×{kv.Value}"))}");
        if (mem is not null)
            foreach (var (name, m) in mem)
                text.WriteLine(m?["error"] is { } err ? $"memory, {name}: not measured ({err})"
                    : $"memory, {name}: {m?["steady_rss_mb"]} MB after planning, peak {m?["peak_rss_mb"]} MB");
    }

    /// <summary>
    /// Each contender's resident memory in a process of its own (`lacuna run --json`, `run --onnxruntime`): a process's
    /// peak cannot be split among three engines that shared it. Steady = after planning, one run and a full GC.
    /// </summary>
    private static JsonObject MeasureMemory(Source src, int[] shape, int threads, string precision)
    {
        string path = Path.Combine(Path.GetTempPath(), $"lacuna-bench-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, src.Bytes);
        try
        {
            var result = new JsonObject();
            string[] common = ["run", path, "--json", "--threads", $"{threads}", "--repeat", "3", "--batch", $"{shape[0]}"];
            foreach (var (name, extra) in new (string, string[])[]
            {
                ("lacuna_sparse", ["--precision", precision]), ("lacuna_dense", ["--dense"]), ("onnxruntime", ["--onnxruntime", "--shape", string.Join(",", shape)]),
            })
            {
                Progress($"measuring {name}'s resident memory in its own process ...");
                var (doc, error) = SelfProcess.RunJson([.. common, .. extra]);
                result[name] = error is not null ? new JsonObject { ["error"] = error } : doc?["memory"]?.DeepClone();
            }
            return result;
        }
        finally { File.Delete(path); }
    }

    /// <summary>A number of a benchmark document (NaN where <see cref="BenchJson.Num"/> wrote null).</summary>
    private static double D(JsonNode? n) => n is null ? double.NaN : (double)n;

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    private static (T Value, double Ms) Timed<T>(Func<T> f)
    {
        long t0 = Stopwatch.GetTimestamp();
        T v = f();
        return (v, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[bench model] {message}");
}
