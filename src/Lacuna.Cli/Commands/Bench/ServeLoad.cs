using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Lacuna.Bench.Harness;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// A closed-loop load generator for <c>bench serve</c>: <c>concurrency</c> callers on loopback, each sending its next
/// binary-tensor inference request as soon as the last is answered, for a fixed time or count, whichever comes first.
/// </summary>
public static class ServeLoad
{
    /// <summary>
    /// One load level; GcHeap* are the managed heap after the warm-up and at the end (what RSS growth is made of);
    /// MeanBatch is rows per engine batch and EngineBusy the fraction of the level's time the engine was computing
    /// (from the server's metrics, NaN without them): a batched server below its in-process throughput is either
    /// running small batches or leaving the engine idle between them. CpuMsPerRequest is this process's CPU time per
    /// request, EngineCpuMsPerRequest the engine threads' share (workers and batchers, spinning included): the rest is
    /// the HTTP path of server and load generator, which takes the engine's cores when they are shared. Gen2Collections
    /// counts full collections during the level.
    /// </summary>
    public sealed record Result(int Concurrency, long Requests, long Errors, double Seconds, double P50Ms, double P99Ms, double RssStartMb, double RssEndMb, double RssMaxMb,
        double GcHeapStartMb, double GcHeapEndMb, double MeanBatch, double EngineBusy, double CpuMsPerRequest, double EngineCpuMsPerRequest, int Gen2Collections)
    {
        public double Throughput => Requests / Seconds;
        public double OtherCpuMsPerRequest => CpuMsPerRequest - EngineCpuMsPerRequest;
    }

    /// <summary>The engine's threads are named lacuna-worker-N and lacuna-batcher-MODEL.</summary>
    private const string EngineThreadPrefix = "lacuna-";

    /// <summary>The request body: JSON header naming one FP32 input sent as binary, binary output asked for.</summary>
    public static (byte[] Body, int HeaderLength) Request(string input, int[] shape, float[] data)
    {
        string header = new System.Text.Json.Nodes.JsonObject
        {
            ["inputs"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = input, ["datatype"] = "FP32", ["shape"] = new System.Text.Json.Nodes.JsonArray(shape.Select(d => (System.Text.Json.Nodes.JsonNode)d).ToArray()),
                ["parameters"] = new System.Text.Json.Nodes.JsonObject { ["binary_data_size"] = 4 * data.Length },
            }),
            ["parameters"] = new System.Text.Json.Nodes.JsonObject { ["binary_data_output"] = true },
        }.ToJsonString();
        var json = Encoding.UTF8.GetBytes(header);
        var body = new byte[json.Length + 4 * data.Length];
        json.CopyTo(body, 0);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(body.AsSpan(json.Length));
        return (body, json.Length);
    }

    public static async Task<Result> RunAsync(Uri url, byte[] body, int headerLength, int concurrency, TimeSpan duration, long maxRequests, TimeSpan warmup, TimeSpan rssEvery,
        Func<(long Batches, double Rows, double ComputeSeconds)>? engine = null)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(120) };
        async Task<bool> Send()
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", headerLength.ToString(CultureInfo.InvariantCulture));
            try
            {
                using var response = await client.PostAsync(url, content);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                return response.IsSuccessStatusCode && bytes.Length > 0;
            }
            catch (HttpRequestException) { return false; }
        }
        // Warm-up: the connections open and the batcher sees this load before anything is timed.
        var warm = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ => { while (warm.Elapsed < warmup) await Send(); }));

        var latencies = new LatencyHistogram();
        long issued = 0, errors = 0;
        double gcStart = GcHeapMb();
        var engineStart = engine?.Invoke();
        double rssStart = ResidentMemory.Read().RssMb, rssMax = rssStart;
        var cpuStart = ThreadCpu.Read(EngineThreadPrefix);
        int gen2Start = GC.CollectionCount(2);
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            try { while (true) { await Task.Delay(rssEvery, stop.Token); rssMax = Math.Max(rssMax, ResidentMemory.Read().RssMb); } }
            catch (OperationCanceledException) { }
        });
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            while (clock.Elapsed < duration && Interlocked.Increment(ref issued) <= maxRequests)
            {
                long t0 = Stopwatch.GetTimestamp();
                bool ok = await Send();
                latencies.Record(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (!ok) Interlocked.Increment(ref errors);
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        var cpuEnd = ThreadCpu.Read(EngineThreadPrefix);
        int gen2 = GC.CollectionCount(2) - gen2Start;
        stop.Cancel();
        await sampler;
        double rssEnd = ResidentMemory.Read().RssMb;
        double meanBatch = double.NaN, busy = double.NaN;
        if (engine is not null && engineStart is { } e0)
        {
            var e1 = engine();
            meanBatch = (e1.Rows - e0.Rows) / Math.Max(1, e1.Batches - e0.Batches);
            busy = (e1.ComputeSeconds - e0.ComputeSeconds) / seconds;
        }
        return new Result(concurrency, latencies.Count, errors, seconds, latencies.Quantile(0.50), latencies.Quantile(0.99), rssStart, rssEnd, Math.Max(rssMax, rssEnd),
            gcStart, GcHeapMb(), meanBatch, busy, 1000 * (cpuEnd.TotalSeconds - cpuStart.TotalSeconds) / Math.Max(1, latencies.Count),
            1000 * (cpuEnd.NamedSeconds - cpuStart.NamedSeconds) / Math.Max(1, latencies.Count), gen2);
    }

    private static double GcHeapMb() => GC.GetGCMemoryInfo().HeapSizeBytes / (1024.0 * 1024.0);
}
