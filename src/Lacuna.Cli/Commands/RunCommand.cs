using System.CommandLine;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Kernels.Spmm;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna run model.onnx</c>: runs a model on a given or random input; prints output shapes, a checksum and the
/// median time. With <c>--profile</c> it also times every step of the plan (the median over the repeats) and prints
/// them in execution order with their kernel and share of the total, as a table or (<c>--json</c>) one document.
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file." };
        var input = new Option<string>("--input", "-i") { Description = "A TensorProto .pb file for the (single) input, or 'random'.", DefaultValueFactory = _ => "random" };
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size for a random input (the model's batch must be symbolic to change it); 0 = the model's." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var dense = new Option<bool>("--dense") { Description = "Dense kernels only (no sparse planning): the baseline for a pruned model." };
        var profile = new Option<bool>("--profile") { Description = "Also time every step (median over the repeats): where the time goes, layer by layer." };
        var precision = CommonOptions.Precision();
        var json = CommonOptions.Json();
        var ort = new Option<bool>("--onnxruntime") { Description = "Run the model on ONNX Runtime instead (random input; time and memory, for comparison)." };
        var shape = new Option<string?>("--shape") { Description = "With --onnxruntime: the input shape, e.g. 1,3,224,224 (default: read from the model)." };
        var seq = new Option<int>("--seq") { Description = "For random inputs: the value of every symbolic dimension after the first (a sequence length).", DefaultValueFactory = _ => 16 };
        var maxId = new Option<int>("--max-id") { Description = "For random int64 inputs (token ids, type ids, masks): values drawn from 0..N.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("run", "Run an ONNX model: output shapes, checksum, median time, resident memory.") { model, input, batch, threads, repeat, dense, profile, precision, json, ort, shape, seq, maxId };
        cmd.SetAction(parse =>
        {
            if ((CommonOptions.CheckThreads(parse.GetValue(threads)) ?? CommonOptions.CheckBatch(parse.GetValue(batch), zeroMeansModel: true)) is string bad)
            { Console.Error.WriteLine(bad); return 2; }
            if (parse.GetValue(seq) < 1) { Console.Error.WriteLine($"--seq must be at least 1; got {parse.GetValue(seq)}."); return 2; }
            if (parse.GetValue(maxId) < 0 || parse.GetValue(maxId) > InferenceSession.MaxExactInteger)
            { Console.Error.WriteLine($"--max-id must be in 0..{InferenceSession.MaxExactInteger}; got {parse.GetValue(maxId)}."); return 2; }
            WorkerPool.DefaultThreads = parse.GetValue(threads);
            string prec = parse.GetValue(precision)!;
            var (sparseOptions, precisionError) = CommonOptions.SparseOptions(prec);
            if (precisionError is not null) { Console.Error.WriteLine(precisionError); return 2; }
            bool bf16 = prec == "bf16";
            if (bf16 && parse.GetValue(dense)) { Console.Error.WriteLine("--precision bf16 applies to sparse kernels; --dense has none."); return 2; }
            if (parse.GetValue(ort))
                return RunOnnxRuntime(parse.GetValue(model)!, parse.GetValue(shape), parse.GetValue(batch), parse.GetValue(threads),
                    Math.Max(1, parse.GetValue(repeat)), parse.GetValue(json));
            try
            {
                var session = OnnxGraphImporter.LoadSession(parse.GetValue(model)!, parse.GetValue(dense) ? PassOptions.Dense : sparseOptions);
                var feeds = Feeds(session, parse.GetValue(input)!, parse.GetValue(batch), parse.GetValue(seq), parse.GetValue(maxId));
                IReadOnlyDictionary<string, Tensor> outputs = session.Run(feeds);
                var steady = ResidentMemory.ReadSteady(); // planned and run once: what the process keeps to serve the model
                var breakdown = ResidentMemory.ReadBreakdown();
                int repeats = Math.Max(1, parse.GetValue(repeat));
                var timing = Measure.Interleaved(1, repeats, [("run", () => outputs = session.Run(feeds))]);
                if (parse.GetValue(profile))
                {
                    var runs = Enumerable.Range(0, repeats).Select(_ => session.Profile(feeds)).ToArray();
                    PrintProfile(runs, timing[0].MedianMs, parse.GetValue(threads), parse.GetValue(json));
                    if (parse.GetValue(json)) return 0;
                }
                if (parse.GetValue(json))
                {
                    var outs = new System.Text.Json.Nodes.JsonArray();
                    foreach (var (name, t) in outputs)
                        outs.Add(new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["shape"] = t.Shape.ToString(), ["sum"] = BenchJson.Num(Sum(t.Span), 9) });
                    Console.WriteLine(BenchJson.Write(new System.Text.Json.Nodes.JsonObject
                    {
                        ["engine"] = parse.GetValue(dense) ? "lacuna_dense" : "lacuna", ["threads"] = parse.GetValue(threads),
                        ["median_ms"] = BenchJson.Num(timing[0].MedianMs), ["min_ms"] = BenchJson.Num(timing[0].MinMs),
                        ["outputs"] = outs, ["memory"] = MemoryJson(steady, breakdown),
                    }));
                    return 0;
                }
                foreach (var (name, t) in outputs)
                {
                    double sum = 0, abs = 0;
                    foreach (float v in t.Span) { sum += v; abs += Math.Abs(v); }
                    Console.WriteLine($"{name}: {t.Shape}  sum={sum:G9}  sum|x|={abs:G9}");
                }
                if (bf16)
                {
                    // The same feeds through the fp32 plan: the error bf16 activations cost, next to their time.
                    var reference = OnnxGraphImporter.LoadSession(parse.GetValue(model)!).Run(feeds);
                    double maxDiff = 0, maxAbs = 0;
                    foreach (var (name, t) in outputs)
                    {
                        var r = reference[name].Span;
                        var o = t.Span;
                        for (int i = 0; i < o.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(o[i] - r[i])); maxAbs = Math.Max(maxAbs, Math.Abs(r[i])); }
                    }
                    Console.WriteLine($"bf16 activations: max |Y - Y_fp32| = {maxDiff / Math.Max(maxAbs, 1e-30):E2} of max |Y_fp32|");
                }
                Console.WriteLine($"median {timing[0].MedianMs:F3} ms (min {timing[0].MinMs:F3}, {timing[0].Repeats} runs, {parse.GetValue(threads)} threads{(bf16 ? ", bf16 activations" : "")})");
                Console.WriteLine($"resident memory: {steady.RssMb:F0} MB after planning, peak {ResidentMemory.Read().PeakMb:F0} MB");
                var bd = breakdown;
                Console.WriteLine($"  after planning: anonymous {bd.RssAnonMb:F0} MB, file-backed {bd.RssFileMb:F0} MB; managed heap {bd.ManagedHeapMb:F1} MB "
                    + $"(free blocks {bd.ManagedFreeMb:F1}, committed {bd.ManagedCommittedMb:F1}; pinned-object heap {bd.PinnedHeapMb:F1}, free {bd.PinnedFreeMb:F1}); "
                    + $"engine native buffers {bd.NativeBuffersMb:F1} MB");
                return 0;
            }
            catch (Exception e) when (e is NotSupportedException or FormatException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"run: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static double Sum(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x) sum += v;
        return sum;
    }

    /// <summary>Resident memory once planned and run (after a full GC), and the process's peak so far.</summary>
    private static System.Text.Json.Nodes.JsonObject MemoryJson(ResidentMemory.Sample steady, ResidentMemory.Breakdown? breakdown = null)
    {
        var o = new System.Text.Json.Nodes.JsonObject
        {
            ["steady_rss_mb"] = BenchJson.Num(steady.RssMb), ["peak_rss_mb"] = BenchJson.Num(ResidentMemory.Read().PeakMb),
        };
        if (breakdown is { } b)
            o["steady_breakdown_mb"] = new System.Text.Json.Nodes.JsonObject
            {
                ["rss_anonymous"] = BenchJson.Num(b.RssAnonMb), ["rss_file"] = BenchJson.Num(b.RssFileMb),
                ["managed_heap"] = BenchJson.Num(b.ManagedHeapMb), ["managed_free"] = BenchJson.Num(b.ManagedFreeMb),
                ["managed_committed"] = BenchJson.Num(b.ManagedCommittedMb), ["pinned_heap"] = BenchJson.Num(b.PinnedHeapMb),
                ["pinned_free"] = BenchJson.Num(b.PinnedFreeMb), ["native_buffers"] = BenchJson.Num(b.NativeBuffersMb),
            };
        return o;
    }

    /// <summary>
    /// The same run on ONNX Runtime (random input), for time and memory in a process of its own; the input shape comes
    /// from <c>--shape</c> or, without it, from the model's declared input (batch from --batch, else 1).
    /// </summary>
    private static int RunOnnxRuntime(string path, string? shapeText, int batch, int threads, int repeats, bool json)
    {
        if (!OnnxRuntime.IsAvailable) { Console.Error.WriteLine(OnnxRuntime.InstallHint); return 3; }
        long[] shape;
        if (shapeText is not null)
        {
            var parts = shapeText.Split(',', StringSplitOptions.TrimEntries);
            shape = new long[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!long.TryParse(parts[i], out shape[i]) || shape[i] < 1) { Console.Error.WriteLine($"--shape: '{shapeText}' is not a list of positive sizes such as 1,3,224,224."); return 2; }
        }
        else
        {
            var declared = InferenceSession.Create(OnnxGraphImporter.Load(path)).RuntimeInputs[0].Shape
                ?? throw new ArgumentException("the model's input has no declared shape; give --shape.");
            shape = declared.Select((d, i) => (long)(d == GraphValue.Symbolic ? (i == 0 && batch > 0 ? batch : 1) : d)).ToArray();
        }
        byte[]? bytes = File.Exists(path) ? File.ReadAllBytes(path) : throw new FileNotFoundException($"model not found: {path}");
        using var session = OnnxRuntimeSession.Create(bytes, threads, allowSpinning: false);
        bytes = null; // ONNX Runtime holds its own copy; ours is garbage from here on
        using var x = Tensor.Random(1, shape.Select(d => (int)d).ToArray());
        var (y, yShape) = session.Run(x.Span, shape);
        var steady = ResidentMemory.ReadSteady();
        var timing = Measure.Interleaved(1, repeats, [("onnxruntime", () => session.Run(x.Span, shape))]);
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new System.Text.Json.Nodes.JsonObject
            {
                ["engine"] = "onnxruntime", ["onnxruntime_version"] = OnnxRuntime.Version, ["threads"] = threads,
                ["median_ms"] = BenchJson.Num(timing[0].MedianMs), ["min_ms"] = BenchJson.Num(timing[0].MinMs),
                ["outputs"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
                {
                    ["name"] = session.OutputNames[0], ["shape"] = $"[{string.Join(", ", yShape)}]", ["sum"] = BenchJson.Num(Sum(y), 9),
                }),
                ["memory"] = MemoryJson(steady),
            }));
            return 0;
        }
        Console.WriteLine($"{session.OutputNames[0]}: [{string.Join(", ", yShape)}]  sum={Sum(y):G9}");
        Console.WriteLine($"ONNX Runtime {OnnxRuntime.Version}: median {timing[0].MedianMs:F3} ms (min {timing[0].MinMs:F3}, {repeats} runs, {threads} threads)");
        Console.WriteLine($"resident memory: {steady.RssMb:F0} MB after session creation and one run, peak {ResidentMemory.Read().PeakMb:F0} MB");
        return 0;
    }

    /// <summary>Per step, the median of its times over the profiled runs (every run has the same steps in the same order).</summary>
    private static void PrintProfile(IReadOnlyList<StepTiming>[] runs, double runMedianMs, int threads, bool json)
    {
        var steps = runs[0].Select((s, i) => (s.Node, s.OpType, s.Kernel, s.Pattern, Ms: Measure.Median(runs.Select(r => r[i].Ms).Order().ToArray()))).ToArray();
        double total = steps.Sum(s => s.Ms);
        if (json)
        {
            var arr = new System.Text.Json.Nodes.JsonArray();
            foreach (var s in steps)
                arr.Add(new System.Text.Json.Nodes.JsonObject { ["node"] = s.Node, ["op"] = s.OpType, ["kernel"] = s.Kernel, ["pattern"] = s.Pattern, ["ms"] = BenchJson.Num(s.Ms) });
            Console.WriteLine(BenchJson.Write(new System.Text.Json.Nodes.JsonObject
            {
                ["threads"] = threads, ["runs"] = runs.Length, ["run_median_ms"] = BenchJson.Num(runMedianMs),
                ["steps_total_ms"] = BenchJson.Num(total), ["steps"] = arr,
            }));
            return;
        }
        var table = new Table().Title($"where the time goes: median of {runs.Length} profiled runs, {threads} thread(s)")
            .AddColumns("step", "op", "ms", "share", "kernel");
        foreach (var s in steps)
            table.AddRow(Markup.Escape(s.Node), s.OpType, $"{s.Ms:F3}", $"{100 * s.Ms / Math.Max(total, 1e-9):F1} %",
                Markup.Escape(s.Kernel.Split(" [")[0])); // the measured candidates are in `lacuna inspect`
        AnsiConsole.Write(table);
        foreach (var g in steps.GroupBy(s => s.OpType).OrderByDescending(g => g.Sum(s => s.Ms)))
            Console.WriteLine($"  {g.Key,-20} {g.Sum(s => s.Ms),9:F3} ms  {100 * g.Sum(s => s.Ms) / Math.Max(total, 1e-9),5:F1} %  ({g.Count()} steps)");
        Console.WriteLine($"steps total {total:F3} ms (an unprofiled run: {runMedianMs:F3} ms)");
    }

    /// <summary>
    /// The given tensor, or random inputs: dimension 0 from --batch, other symbolic dimensions --seq; float inputs
    /// uniform in [-1, 1], int64 inputs integers 0..--max-id (valid ids for any table of more than max-id rows), bool 0/1.
    /// </summary>
    private static Dictionary<string, Tensor> Feeds(InferenceSession session, string input, int batch, int seq, int maxId)
    {
        var feeds = new Dictionary<string, Tensor>();
        if (input != "random")
        {
            if (session.RuntimeInputs.Count != 1) throw new ArgumentException($"--input gives one tensor but the model has {session.RuntimeInputs.Count} inputs.");
            var t = OnnxSerializer.LoadTensor(input);
            feeds[session.RuntimeInputs[0].Name] = Tensor.FromArray(t.ToFloatArray(), t.Dims.Select(d => (int)d).ToArray());
            return feeds;
        }
        int b = batch > 0 ? batch : session.DefaultBatch;
        ulong seed = 1;
        foreach (var v in session.RuntimeInputs)
        {
            var dims = v.Shape!.Select((d, i) => i == 0 && (d == GraphValue.Symbolic || batch > 0) ? b : d == GraphValue.Symbolic ? seq : d).ToArray();
            var t = Tensor.Random(seed++, dims);
            if (v.ElementType != GraphElementType.Float)
            {
                int top = v.ElementType == GraphElementType.Bool ? 1 : maxId;
                var span = t.Span;
                for (int i = 0; i < span.Length; i++) span[i] = MathF.Min(top, MathF.Floor((span[i] + 1f) * 0.5f * (top + 1)));
            }
            feeds[v.Name] = t;
        }
        return feeds;
    }
}
