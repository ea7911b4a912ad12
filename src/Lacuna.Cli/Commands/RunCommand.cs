using System.CommandLine;
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
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16: sparse 1x1 convolutions (SpMM) read their input as bf16 where faster; the error vs fp32 is printed.", DefaultValueFactory = _ => "fp32" };
        var json = CommonOptions.Json();
        var cmd = new Command("run", "Run an ONNX model: output shapes, checksum, median time.") { model, input, batch, threads, repeat, dense, profile, precision, json };
        cmd.SetAction(parse =>
        {
            if (CommonOptions.CheckThreads(parse.GetValue(threads)) is string bad) { Console.Error.WriteLine(bad); return 2; }
            WorkerPool.DefaultThreads = parse.GetValue(threads);
            string prec = parse.GetValue(precision)!;
            if (prec is not ("fp32" or "bf16")) { Console.Error.WriteLine($"--precision must be fp32 or bf16 (got '{prec}')."); return 2; }
            bool bf16 = prec == "bf16";
            if (bf16 && parse.GetValue(dense)) { Console.Error.WriteLine("--precision bf16 applies to sparse kernels; --dense has none."); return 2; }
            try
            {
                var graph = OnnxGraphImporter.Load(parse.GetValue(model)!);
                var session = InferenceSession.Create(graph, parse.GetValue(dense) ? PassOptions.Dense
                    : new PassOptions { SparsePrecision = bf16 ? SpmmPrecision.BFloat16Activations : SpmmPrecision.Float32 });
                var feeds = Feeds(session, parse.GetValue(input)!, parse.GetValue(batch));
                IReadOnlyDictionary<string, Tensor> outputs = session.Run(feeds);
                int repeats = Math.Max(1, parse.GetValue(repeat));
                var timing = Measure.Interleaved(1, repeats, [("run", () => outputs = session.Run(feeds))]);
                if (parse.GetValue(profile))
                {
                    var runs = Enumerable.Range(0, repeats).Select(_ => session.Profile(feeds)).ToArray();
                    PrintProfile(runs, timing[0].MedianMs, parse.GetValue(threads), parse.GetValue(json));
                    if (parse.GetValue(json)) return 0;
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
                    var reference = InferenceSession.Create(graph).Run(feeds);
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

    /// <summary>Per step, the median of its times over the profiled runs (every run has the same steps in the same order).</summary>
    private static void PrintProfile(IReadOnlyList<StepTiming>[] runs, double runMedianMs, int threads, bool json)
    {
        var steps = runs[0].Select((s, i) => (s.Node, s.OpType, s.Kernel, Ms: Measure.Median(runs.Select(r => r[i].Ms).Order().ToArray()))).ToArray();
        double total = steps.Sum(s => s.Ms);
        if (json)
        {
            var arr = new System.Text.Json.Nodes.JsonArray();
            foreach (var s in steps)
                arr.Add(new System.Text.Json.Nodes.JsonObject { ["node"] = s.Node, ["op"] = s.OpType, ["kernel"] = s.Kernel, ["ms"] = BenchJson.Num(s.Ms) });
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

    private static Dictionary<string, Tensor> Feeds(InferenceSession session, string input, int batch)
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
            var dims = v.Shape!.Select((d, i) => d == GraphValue.Symbolic || (i == 0 && batch > 0) ? b : d).ToArray();
            feeds[v.Name] = Tensor.Random(seed++, dims);
        }
        return feeds;
    }
}
