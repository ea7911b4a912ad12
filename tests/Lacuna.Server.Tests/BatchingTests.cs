using System.Net;

namespace Lacuna.Server.Tests;

/// <summary>Dynamic batching, the bounded queue and model loading, each on a server of its own.</summary>
[Collection(ServerCollection.Name)]
public sealed class BatchingTests
{
    private const string Path = "/v2/models/mini/infer";

    [Fact]
    public async Task Concurrent_requests_are_merged_and_each_caller_gets_exactly_its_own_rows()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 3, sparsity: 0.7,
            config: """{ "max_batch_size": 8, "preferred_batch_sizes": [8], "max_queue_delay_microseconds": 20000, "max_queue_size": 64 }""");
        await using var server = await TestServers.StartAsync(repo.Root);
        using var client = TestServers.Client(server);
        // Requests of 1, 2 or 3 rows, answered one at a time first (each runs as its own batch, padded to a planned size)...
        var requests = Enumerable.Range(0, 24).Select(i => (Rows: 1 + i % 3, Images: Wire.RandomImages(100 + (ulong)i, 1 + i % 3))).ToArray();
        var alone = new float[requests.Length][];
        for (int i = 0; i < requests.Length; i++)
            alone[i] = (await Wire.ReadInfer(await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(requests[i].Images, requests[i].Rows))))).Logits;
        long batchesBefore = server.Metrics.Batches("mini");
        // ...then all at once (JSON and binary alternating), so the batcher merges them into shared runs.
        var concurrent = await Task.WhenAll(requests.Select(async (r, i) =>
        {
            var bytes = Wire.Fp32Bytes(r.Images);
            var content = i % 2 == 0 ? (HttpContent)Wire.Json(Wire.JsonRequest(r.Images, r.Rows))
                : Wire.Binary(Wire.BinaryInputHeader("FP32", r.Rows, bytes.Length, binaryOutput: true), bytes);
            return (await Wire.ReadInfer(await client.PostAsync(Path, content))).Logits;
        }));
        long batches = server.Metrics.Batches("mini") - batchesBefore;
        Assert.True(batches < requests.Length, $"{requests.Length} concurrent requests ran as {batches} batches: none were merged.");
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(10 * requests[i].Rows, concurrent[i].Length);
            Wire.Close(alone[i], concurrent[i], $"request {i} (batched vs alone)");
        }
    }

    [Fact]
    public async Task Two_engine_instances_run_batches_of_one_queue_and_each_caller_still_gets_exactly_its_own_rows()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 9, sparsity: 0.7,
            config: """{ "max_batch_size": 4, "preferred_batch_sizes": [4], "max_queue_delay_microseconds": 5000, "max_queue_size": 64, "instances": 2 }""");
        await using var server = await TestServers.StartAsync(repo.Root);
        using var client = TestServers.Client(server);
        var ready = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/v2/models/mini/ready"))!;
        Assert.Equal(2, ready["instances"]!.GetValue<int>());
        Assert.Equal(1, ready["threads_per_instance"]!.GetValue<int>()); // the test server's budget of 2, split in two
        var requests = Enumerable.Range(0, 20).Select(i => (Rows: 1 + i % 2, Images: Wire.RandomImages(200 + (ulong)i, 1 + i % 2))).ToArray();
        var alone = new float[requests.Length][];
        for (int i = 0; i < requests.Length; i++)
            alone[i] = (await Wire.ReadInfer(await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(requests[i].Images, requests[i].Rows))))).Logits;
        long batchesBefore = server.Metrics.Batches("mini");
        var concurrent = await Task.WhenAll(requests.Select(async r =>
        {
            var bytes = Wire.Fp32Bytes(r.Images);
            return (await Wire.ReadInfer(await client.PostAsync(Path, Wire.Binary(Wire.BinaryInputHeader("FP32", r.Rows, bytes.Length, binaryOutput: true), bytes)))).Logits;
        }));
        Assert.True(server.Metrics.Batches("mini") - batchesBefore < requests.Length, "no requests were merged");
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(10 * requests[i].Rows, concurrent[i].Length);
            Wire.Close(alone[i], concurrent[i], $"request {i} (two instances, batched vs alone)");
        }
    }

    [Fact]
    public async Task A_trimmed_batch_puts_its_tail_back_at_the_front_of_the_queue_in_order()
    {
        var ran = new List<int[]>();
        using var go = new ManualResetEventSlim();
        var works = Enumerable.Range(0, 5).Select(_ => new BatchWork([], [], 1)).ToArray();
        var ids = works.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i);
        // Every size is preferred, so a batch goes as soon as the queue is empty, never waiting out the delay.
        var config = new ModelConfig { MaxBatchSize = 8, MaxQueueDelayMicroseconds = 10_000_000, PreferredBatchSizes = [1, 2, 3, 4, 5] };
        using (var batcher = new DynamicBatcher("t", config, (batch, _) =>
        {
            go.Wait(TimeSpan.FromSeconds(30));
            lock (ran) ran.Add(batch.Select(w => ids[w]).ToArray());
            foreach (var w in batch) w.Completion.TrySetResult(new BatchResult([], batch.Count, 0, 0));
        }, cumulative => Math.Min(cumulative.Count, 2)))
        {
            foreach (var w in works) Assert.True(batcher.TryEnqueue(w));
            go.Set();
            await Task.WhenAll(works.Select(w => w.Completion.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(Enumerable.Range(0, 5), ran.SelectMany(b => b));
        Assert.All(ran, b => Assert.True(b.Length <= 2, $"a batch of {b.Length} requests; the take function keeps at most 2"));
    }

    [Fact]
    public async Task A_full_queue_answers_503_at_once_and_the_queued_requests_still_finish()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 4, config: """{ "max_batch_size": 1, "max_queue_size": 2 }""");
        await using var server = await TestServers.StartAsync(repo.Root);
        using var client = TestServers.Client(server);
        var model = server.Models.Find("mini", null);
        using var release = new ManualResetEventSlim();
        // Hold the engine: the batcher takes the first request and waits for the lane; two more fill the queue.
        var hold = Task.Factory.StartNew(() => server.Lane.Run(null, () => release.Wait(TimeSpan.FromSeconds(60))), TaskCreationOptions.LongRunning);
        var first = client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(1, 1), 1)));
        await WaitUntil(() => server.Metrics.InFlight == 1 && model.QueueLength == 0);
        var queued = new[] { 2UL, 3UL }.Select(s => client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(s, 1), 1)))).ToArray();
        await WaitUntil(() => model.QueueLength == 2);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var (status, error) = await Wire.ReadError(await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(4, 1), 1))));
        Assert.Equal(503, status);
        Assert.Contains("queue is full", error);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), "the 503 waited for the engine");
        release.Set();
        await hold;
        foreach (var r in queued.Prepend(first)) Assert.Equal(HttpStatusCode.OK, (await r).StatusCode);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("lacuna_inference_failures_total{model=\"mini\"} 1\n", metrics);
        Assert.Contains("lacuna_inference_requests_total{model=\"mini\"} 4\n", metrics);
    }

    [Fact]
    public async Task Until_planned_and_warmed_up_the_server_is_live_but_not_ready()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 5);
        await using var server = LacunaServer.Create(new ServerOptions { Host = "127.0.0.1", Port = 0, Threads = 1, LogLevel = Microsoft.Extensions.Logging.LogLevel.None },
            ModelRepository.Discover([], repo.Root, new ModelConfig()));
        using var release = new ManualResetEventSlim();
        var hold = Task.Factory.StartNew(() => server.Lane.Run(null, () => release.Wait(TimeSpan.FromSeconds(60))), TaskCreationOptions.LongRunning);
        await WaitUntil(() => hold.Status == TaskStatus.Running);
        await server.StartAsync();
        using var client = TestServers.Client(server);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/v2/health/ready")).StatusCode);
        var ready = await client.GetAsync("/v2/models/mini/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("loading and planning", await ready.Content.ReadAsStringAsync());
        var (status, error) = await Wire.ReadError(await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(1, 1), 1))));
        Assert.Equal(503, status);
        Assert.Contains("not ready", error);
        release.Set();
        await hold;
        await server.Loaded;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(1, 1), 1)))).StatusCode);
    }

    [Fact]
    public async Task A_model_that_fails_to_load_says_why_and_keeps_readiness_at_503_while_the_others_serve()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 8);
        Directory.CreateDirectory(System.IO.Path.Combine(repo.Root, "broken", "1"));
        File.WriteAllBytes(System.IO.Path.Combine(repo.Root, "broken", "1", "model.onnx"), [0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]);
        await using var server = await TestServers.StartAsync(repo.Root);
        using var client = TestServers.Client(server);
        Assert.Equal(ModelState.Failed, server.Models.Find("broken", null).State);
        var ready = await client.GetAsync("/v2/models/broken/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("failed to load", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(Path, Wire.Json(Wire.JsonRequest(Wire.RandomImages(1, 1), 1)))).StatusCode);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached in 30 s");
            await Task.Delay(5);
        }
    }
}
