using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Onnx.Zoo;
using Lacuna.Server;
using Lacuna.Tensors;
using Lacuna.Threading;
using Microsoft.Extensions.Logging;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench serve</c>: <c>lacuna serve</c> under load on loopback, with and without dynamic batching, against
/// the in-process throughput of the same planned session (<c>InferenceSession.Run</c>) at the batch sizes the server runs.
/// The load generator (closed loop, binary tensors, one image per request) runs in the same process, so it shares the
/// cores with the server, as a sidecar client would.
/// </summary>
public static class BenchServeCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = $"Zoo model: {string.Join(", ", ZooBuilder.Names)}.", DefaultValueFactory = _ => "resnet50" };
        var sparsity = new Option<double>("--sparsity") { Description = "Magnitude-prune every conv/Gemm but the first to this sparsity.", DefaultValueFactory = _ => 0.9 };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Concurrent callers, comma-separated.", DefaultValueFactory = _ => "1,4,16" };
        var duration = new Option<string>("--duration", "-d") { Description = "Time per load level, e.g. 20s or 2m.", DefaultValueFactory = _ => "20s" };
        var maxRequests = new Option<long>("--max-requests") { Description = "Requests per load level at most.", DefaultValueFactory = _ => 100_000 };
        var warmup = new Option<string>("--warmup") { Description = "Untimed load before each level.", DefaultValueFactory = _ => "2s" };
        var threads = new Option<int>("--threads", "-t") { Description = "Engine threads (the server's budget and the in-process baseline's).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxBatch = new Option<int>("--max-batch") { Description = "The batching server's max batch.", DefaultValueFactory = _ => 16 };
        var delay = new Option<int>("--max-queue-delay-us") { Description = "The batching server's queue delay.", DefaultValueFactory = _ => 0 };
        var instances = new Option<int>("--instances") { Description = "The batching server's engine instances (batches at once, each on threads/instances threads).", DefaultValueFactory = _ => 1 };
        var modes = new Option<string>("--modes") { Description = "batched, single (no dynamic batching), or both.", DefaultValueFactory = _ => "batched,single" };
        var json = CommonOptions.Json();
        var cmd = new Command("serve", "lacuna serve under loopback load, with and without dynamic batching, vs in-process InferenceSession.Run.")
            { model, sparsity, concurrency, duration, maxRequests, warmup, threads, maxBatch, delay, instances, modes, json };
        cmd.SetAction(parse =>
        {
            if (CommonOptions.CheckThreads(parse.GetValue(threads)) is string bad) { Console.Error.WriteLine(bad); return 2; }
            var levels = parse.GetValue(concurrency)!.Split(',', StringSplitOptions.TrimEntries).Select(c => int.TryParse(c, out int n) && n >= 1 ? n : -1).ToArray();
            if (levels.Any(c => c < 1)) { Console.Error.WriteLine($"--concurrency '{parse.GetValue(concurrency)}': expected positive integers, e.g. 1,4,16."); return 2; }
            if (Duration(parse.GetValue(duration)!) is not TimeSpan time) { Console.Error.WriteLine($"--duration '{parse.GetValue(duration)}': expected e.g. 20s or 2m."); return 2; }
            if (Duration(parse.GetValue(warmup)!) is not TimeSpan warm) { Console.Error.WriteLine($"--warmup '{parse.GetValue(warmup)}': expected e.g. 2s."); return 2; }
            var modeList = parse.GetValue(modes)!.Split(',', StringSplitOptions.TrimEntries);
            if (modeList.Length == 0 || modeList.Any(m => m is not ("batched" or "single"))) { Console.Error.WriteLine("--modes: batched, single or both."); return 2; }
            if (parse.GetValue(maxBatch) < 1) { Console.Error.WriteLine("--max-batch must be at least 1."); return 2; }
            if (parse.GetValue(instances) is < 1 or > 64) { Console.Error.WriteLine("--instances must be in [1, 64]."); return 2; }
            return Run(parse.GetValue(model)!, parse.GetValue(sparsity), levels, time, warm, Math.Max(1, parse.GetValue(maxRequests)),
                parse.GetValue(threads), parse.GetValue(maxBatch), parse.GetValue(delay), parse.GetValue(instances), modeList, parse.GetValue(json)).GetAwaiter().GetResult();
        });
        return cmd;
    }

    private static TimeSpan? Duration(string text)
    {
        double scale = text.EndsWith("ms", StringComparison.Ordinal) ? 0.001 : text.EndsWith('m') ? 60 : text.EndsWith('s') ? 1 : 0;
        string number = text.TrimEnd('s', 'm');
        return scale > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? TimeSpan.FromSeconds(v * scale) : null;
    }

    private static async Task<int> Run(string zooName, double sparsity, int[] levels, TimeSpan time, TimeSpan warm, long maxRequests,
        int threads, int maxBatch, int delayUs, int instances, string[] modes, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        string root = Path.Combine(Path.GetTempPath(), "lacuna-bench-serve-" + Guid.NewGuid().ToString("N"));
        try
        {
            Console.Error.WriteLine($"building {zooName} at sparsity {sparsity} ...");
            var zoo = ZooBuilder.Build(zooName, seed: 1, sparsity: sparsity);
            // Preferred: each level's whole concurrency in one batch, and with several instances its share per instance.
            var preferred = levels.Where(c => c <= maxBatch).Concat(levels.Select(c => Math.Min(maxBatch, (c + instances - 1) / instances)))
                .Append(maxBatch).Distinct().Order().ToArray();
            foreach (var mode in modes)
            {
                Directory.CreateDirectory(Path.Combine(root, mode, "1"));
                zoo.Model.Save(Path.Combine(root, mode, "1", "model.onnx"));
                string config = mode == "batched"
                    ? $$"""{ "max_batch_size": {{maxBatch}}, "preferred_batch_sizes": [{{string.Join(", ", preferred)}}], "max_queue_delay_microseconds": {{delayUs}}, "max_queue_size": 4096, "instances": {{instances}} }"""
                    : """{ "max_batch_size": 1, "max_queue_size": 4096 }""";
                File.WriteAllText(Path.Combine(root, mode, "config.json"), config);
            }
            zoo = null;
            await using var server = LacunaServer.Create(new ServerOptions { Host = "127.0.0.1", Port = 0, Threads = threads, LogLevel = LogLevel.None },
                ModelRepository.Discover([], root, new ModelConfig()));
            await server.StartAsync();
            Console.Error.WriteLine("planning (the server plans each model for its batch sizes, then warms it up) ...");
            await server.Loaded;
            foreach (var m in server.Models.All)
            {
                if (m.State != ModelState.Ready) { Console.Error.WriteLine($"model {m.Name}: {m.StateText}"); return 1; }
                Console.Error.WriteLine($"  {m.Name}: planned batch sizes {string.Join(",", m.PlannedBatchSizes)} in {m.PlanningSeconds:F1} s, warm-up {m.WarmupSeconds:F1} s");
            }

            // In process: the very session the server runs, at each batch size the server will run, server idle, on all
            // the threads (one instance: the plans the server made; several: planned here at this thread count first).
            var any = server.Models.All[0];
            var session = any.Session!;
            var input = any.Inputs[0];
            var inProcess = new Dictionary<int, double>();
            var inProcessCpu = new Dictionary<int, double>();
            double InProcess(int b)
            {
                if (inProcess.TryGetValue(b, out double known)) return known;
                WorkerPool.DefaultThreads = threads;
                using var x = Tensor.Random(7, [b, .. input.Shape.AsSpan(1)]);
                var feeds = new Dictionary<string, Tensor> { [input.Name] = x };
                foreach (var y in session.Run(feeds).Values) y.Dispose(); // plans it first where the server has not
                int runs = 0;
                var cpu0 = ThreadCpu.Read("lacuna-");
                var t = Measure.Interleaved(1, 5, [($"batch {b}", () => { foreach (var y in session.Run(feeds).Values) y.Dispose(); runs++; })]);
                // CPU per image (all threads, spinning included) next to the server's CPU per request: unlike throughput,
                // it can be compared on a machine other work is loading.
                double cpuMs = 1000 * (ThreadCpu.Read("lacuna-").TotalSeconds - cpu0.TotalSeconds) / Math.Max(1, runs * b);
                inProcessCpu[b] = cpuMs;
                Console.Error.WriteLine($"  in process, batch {b}, {threads} thread(s): {t[0].MedianMs:F2} ms per run, {b * 1000.0 / t[0].MedianMs:F1} images/s, CPU {cpuMs:F2} ms per image");
                return inProcess[b] = b * 1000.0 / t[0].MedianMs;
            }
            foreach (int b in levels.Select(c => modes.Contains("batched") ? Math.Min(c, maxBatch) : 1).Append(1).Distinct().Order()) InProcess(b);

            // With several engine instances, also the in-process equivalent: as many concurrent Run calls, each on an
            // instance's threads with the server's plans, at the batch the server formed (the server's overhead alone).
            var batchedModel = modes.Contains("batched") ? server.Models.Find("batched", null) : null;
            var inProcessInstances = new Dictionary<int, double>();
            double InProcessInstances(int b)
            {
                if (batchedModel is null || instances == 1) return InProcess(b);
                if (inProcessInstances.TryGetValue(b, out double known)) return known;
                WorkerPool.DefaultThreads = batchedModel.RunThreads;
                const int Runs = 4;
                using var start = new Barrier(instances + 1);
                var workers = Enumerable.Range(0, instances).Select(i => new Thread(() =>
                {
                    using var x = Tensor.Random(7 + (ulong)i, [b, .. input.Shape.AsSpan(1)]);
                    var feeds = new Dictionary<string, Tensor> { [input.Name] = x };
                    foreach (var y in session.Run(feeds).Values) y.Dispose(); // warm
                    start.SignalAndWait();
                    for (int r = 0; r < Runs; r++) foreach (var y in session.Run(feeds).Values) y.Dispose();
                })).ToArray();
                foreach (var w in workers) w.Start();
                start.SignalAndWait();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                foreach (var w in workers) w.Join();
                double rate = instances * Runs * b / clock.Elapsed.TotalSeconds;
                Console.Error.WriteLine($"  in process, {instances} concurrent runs of batch {b} on {batchedModel.RunThreads} thread(s) each: {rate:F1} images/s");
                return inProcessInstances[b] = rate;
            }

            var image = Tensor.Random(3, [1, .. input.Shape.AsSpan(1)]);
            var (body, headerLength) = ServeLoad.Request(input.Name, [1, .. input.Shape.AsSpan(1)], image.ToArray());
            image.Dispose();
            var rows = new List<Row>();
            foreach (var mode in modes)
                foreach (int c in levels)
                {
                    var url = new Uri(server.BaseAddress, $"/v2/models/{mode}/infer");
                    var r = await ServeLoad.RunAsync(url, body, headerLength, c, time, maxRequests, warm, TimeSpan.FromSeconds(1),
                        () => (server.Metrics.Batches(mode), server.Metrics.BatchTotals(mode).Rows, server.Metrics.BatchTotals(mode).ComputeSeconds));
                    int b = mode == "batched" ? Math.Min(c, maxBatch) : 1;
                    // The batch the server actually ran (the planned size nearest its mean rows per batch): a closed loop
                    // of c callers need not form batches of c, and the engine's throughput depends on the batch.
                    var planned = server.Models.Find(mode, null).PlannedBatchSizes;
                    int formed = double.IsNaN(r.MeanBatch) ? b : planned.MinBy(p => (Math.Abs(p - r.MeanBatch), -p));
                    rows.Add(new Row(mode, r, b, inProcess[b], formed, InProcess(formed), mode == "batched" ? InProcessInstances(formed) : InProcess(formed)));
                    Console.Error.WriteLine($"  {mode} c={c}: {r.Requests} requests in {r.Seconds:F1} s, {r.Throughput:F1}/s, p50 {r.P50Ms:F1} ms, p99 {r.P99Ms:F1} ms, {r.Errors} errors, rss {r.RssStartMb:F0}->{r.RssEndMb:F0} MB (max {r.RssMaxMb:F0}), managed heap {r.GcHeapStartMb:F0}->{r.GcHeapEndMb:F0} MB; " +
                        $"{r.MeanBatch:F1} rows per batch, engine busy {r.EngineBusy:P0} of the time; CPU per request {r.CpuMsPerRequest:F2} ms " +
                        $"(engine threads {r.EngineCpuMsPerRequest:F2}, HTTP and the rest {r.OtherCpuMsPerRequest:F2}), {r.Gen2Collections} gen2 collections");
                }
            Report(zooName, sparsity, threads, maxBatch, delayUs, instances, rows, inProcess, inProcessCpu, json);
            return rows.Any(r => r.R.Errors > 0) ? 1 : 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// One load level against two in-process baselines: at the batch of its concurrency (capped by the max batch; the
    /// target's ratio) and at the batch the server actually formed, both one Run at a time on all the threads.
    /// </summary>
    /// With several instances, a third: as many concurrent in-process runs at the formed batch, on an instance's threads.
    private sealed record Row(string Mode, ServeLoad.Result R, int Batch, double Baseline, int FormedBatch, double FormedBaseline, double InstancesBaseline);

    private static void Report(string model, double sparsity, int threads, int maxBatch, int delayUs, int instances,
        List<Row> rows, Dictionary<int, double> inProcess, Dictionary<int, double> inProcessCpu, bool json)
    {
        if (json)
        {
            var arr = new JsonArray();
            foreach (var (mode, r, b, baseline, formed, formedBaseline, instancesBaseline) in rows)
                arr.Add(new JsonObject
                {
                    ["mode"] = mode, ["concurrency"] = r.Concurrency, ["requests"] = r.Requests, ["errors"] = r.Errors,
                    ["seconds"] = BenchJson.Num(r.Seconds), ["throughput_rps"] = BenchJson.Num(r.Throughput),
                    ["p50_ms"] = BenchJson.Num(r.P50Ms), ["p99_ms"] = BenchJson.Num(r.P99Ms),
                    ["in_process_batch"] = b, ["in_process_images_per_s"] = BenchJson.Num(baseline),
                    ["ratio_vs_in_process"] = BenchJson.Num(r.Throughput / baseline),
                    ["in_process_formed_batch"] = formed, ["in_process_formed_images_per_s"] = BenchJson.Num(formedBaseline),
                    ["ratio_vs_in_process_formed"] = BenchJson.Num(r.Throughput / formedBaseline),
                    ["in_process_instances_images_per_s"] = BenchJson.Num(instancesBaseline),
                    ["ratio_vs_in_process_instances"] = BenchJson.Num(r.Throughput / instancesBaseline),
                    ["rss_start_mb"] = BenchJson.Num(r.RssStartMb), ["rss_end_mb"] = BenchJson.Num(r.RssEndMb), ["rss_max_mb"] = BenchJson.Num(r.RssMaxMb),
                    ["gc_heap_start_mb"] = BenchJson.Num(r.GcHeapStartMb), ["gc_heap_end_mb"] = BenchJson.Num(r.GcHeapEndMb),
                    ["mean_batch_rows"] = BenchJson.Num(r.MeanBatch), ["engine_busy_fraction"] = BenchJson.Num(r.EngineBusy),
                    ["cpu_ms_per_request"] = BenchJson.Num(r.CpuMsPerRequest), ["engine_cpu_ms_per_request"] = BenchJson.Num(r.EngineCpuMsPerRequest),
                    ["other_cpu_ms_per_request"] = BenchJson.Num(r.OtherCpuMsPerRequest), ["gen2_collections"] = r.Gen2Collections,
                });
            var baselines = new JsonObject();
            var cpu = new JsonObject();
            foreach (var (b, v) in inProcess.OrderBy(kv => kv.Key)) baselines[$"batch_{b}"] = BenchJson.Num(v);
            foreach (var (b, v) in inProcessCpu.OrderBy(kv => kv.Key)) cpu[$"batch_{b}"] = BenchJson.Num(v);
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["benchmark"] = "serve", ["model"] = model, ["sparsity"] = sparsity, ["threads"] = threads,
                ["max_batch"] = maxBatch, ["max_queue_delay_us"] = delayUs, ["instances"] = instances, ["in_process_images_per_s"] = baselines, ["in_process_cpu_ms_per_image"] = cpu, ["runs"] = arr,
            }));
            return;
        }
        Console.WriteLine($"{model} at sparsity {sparsity}, {threads} engine thread(s), max batch {maxBatch}, queue delay {delayUs} us, {instances} instance(s); one image per request, binary tensors");
        Console.WriteLine($"{"mode",-8} {"conc",5} {"requests",9} {"errors",7} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"in-proc/s",10} {"(batch)",7} {"ratio",6} {"formed",7} {"ratio",6} {"instances",9}");
        foreach (var (mode, r, b, baseline, formed, formedBaseline, instancesBaseline) in rows)
            Console.WriteLine($"{mode,-8} {r.Concurrency,5} {r.Requests,9} {r.Errors,7} {r.Throughput,9:F1} {r.P50Ms,8:F2} {r.P99Ms,8:F2} {baseline,10:F1} {b,7} {r.Throughput / baseline,6:F2} {formed,7} {r.Throughput / formedBaseline,6:F2} {r.Throughput / instancesBaseline,9:F2}");
    }
}
