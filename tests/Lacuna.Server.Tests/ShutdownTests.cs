using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Lacuna.Server.Tests;

/// <summary>Graceful shutdown: stop accepting, finish what is in flight (none lost, none half-written), exit 0.</summary>
[Collection(ServerCollection.Name)]
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_with_requests_in_flight_answers_every_one_in_full()
    {
        using var repo = new TestRepository();
        repo.Add("mini", 1, seed: 6, config: """{ "max_batch_size": 2, "max_queue_size": 32 }""");
        var server = await TestServers.StartAsync(repo.Root);
        using var client = TestServers.Client(server);
        var model = server.Models.Find("mini", null);
        var images = Enumerable.Range(0, 8).Select(i => Wire.RandomImages(200 + (ulong)i, 1)).ToArray();
        var expected = new float[images.Length][];
        for (int i = 0; i < images.Length; i++)
            expected[i] = (await Wire.ReadInfer(await client.PostAsync("/v2/models/mini/infer", Wire.Json(Wire.JsonRequest(images[i], 1))))).Logits;

        using var release = new ManualResetEventSlim();
        var hold = Task.Factory.StartNew(() => server.Lane.Run(null, () => release.Wait(TimeSpan.FromSeconds(60))), TaskCreationOptions.LongRunning);
        var inFlight = images.Select(x => client.PostAsync("/v2/models/mini/infer", Wire.Json(Wire.JsonRequest(x, 1)))).ToArray();
        await BatchingTests.WaitUntil(() => server.Metrics.InFlight == images.Length && model.QueueLength >= images.Length - 2);
        var address = server.BaseAddress;
        var stop = server.StopAsync();
        await Task.Delay(200); // the stop has begun: Kestrel no longer accepts, and waits for the requests in flight
        Assert.False(stop.IsCompleted, "the server stopped before its requests in flight finished");
        release.Set();
        await hold;
        for (int i = 0; i < inFlight.Length; i++)
        {
            var response = await inFlight[i];
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Wire.Close(expected[i], (await Wire.ReadInfer(response)).Logits, $"request {i}"); // complete, and its own rows
        }
        await stop;
        using var fresh = new HttpClient { BaseAddress = address };
        await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync("/v2/health/live"));
    }

    /// <summary>
    /// A stop while a model is still planning interrupts the plan (between layers) instead of waiting for it: the model
    /// being planned ends failed with the reason, the one queued behind it is never loaded, and the stop completes.
    /// The first model plans 48 batch sizes of a pruned ResNet (the sparse planner times candidates per layer and
    /// size), many seconds of work, so only an interrupted plan leaves it failed. Models load in name order.
    /// </summary>
    [Fact]
    public async Task Stopping_while_planning_interrupts_the_plan_and_loads_nothing_more()
    {
        using var repo = new TestRepository();
        string sizes = string.Join(", ", Enumerable.Range(1, 48));
        repo.Add("a-slow", 1, seed: 8, config: $$"""{ "max_batch_size": 48, "preferred_batch_sizes": [{{sizes}}] }""", sparsity: 0.9);
        repo.Add("b-queued", 1, seed: 9);
        var server = LacunaServer.Create(new ServerOptions { Host = "127.0.0.1", Port = 0, Threads = 1, LogLevel = Microsoft.Extensions.Logging.LogLevel.None },
            ModelRepository.Discover([], repo.Root, new ModelConfig()));
        await server.StartAsync();
        var slow = server.Models.Find("a-slow", null);
        var queued = server.Models.Find("b-queued", null);
        await Task.Delay(500); // into the first model's planning
        Assert.Equal(ModelState.Loading, slow.State);
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(server.Loaded.IsCompleted);
        Assert.Equal(ModelState.Failed, slow.State);
        Assert.Contains("stopped while", slow.LoadError);
        Assert.Equal(ModelState.Failed, queued.State);
        Assert.Contains("stopped before", queued.LoadError);
        Assert.Equal(0, slow.PlanningSeconds); // the plan never completed
    }

    /// <summary>The CLI's `lacuna serve` in a process of its own: SIGTERM while a request is in flight, exit code 0.</summary>
    [Fact]
    public async Task Lacuna_serve_exits_0_on_sigterm_after_finishing_its_requests()
    {
        using var repo = new TestRepository();
        string model = repo.Add("mini", 1, seed: 7);
        var psi = new ProcessStartInfo("dotnet", [CliDll(), "serve", "--model", $"mini={model}", "--host", "127.0.0.1", "--port", "0", "--threads", "1"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var match = Regex.Match(line ?? "", @"listening on (http://\S+)");
            Assert.True(match.Success, $"unexpected first line: {line}; stderr: {(process.HasExited ? process.StandardError.ReadToEnd() : "")}");
            using var client = new HttpClient { BaseAddress = new Uri(match.Groups[1].Value) };
            await BatchingTests.WaitUntil(() => client.GetAsync("/v2/health/ready").Result.StatusCode == HttpStatusCode.OK);
            var requests = Enumerable.Range(0, 4).Select(i => client.PostAsync("/v2/models/mini/infer", Wire.Json(Wire.JsonRequest(Wire.RandomImages((ulong)i, 1), 1)))).ToArray();
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            foreach (var r in requests)
            {
                HttpResponseMessage response;
                try { response = await r; }
                catch (HttpRequestException) { continue; } // sent after the listener closed: refused, never half-answered
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(10, (await Wire.ReadInfer(response)).Logits.Length);
            }
            Assert.True(process.WaitForExit(30_000), "lacuna serve did not exit within 30 s of SIGTERM");
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("stopped", await process.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    /// <summary>The CLI built next to this test assembly's configuration (Release under scripts/test.sh).</summary>
    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = dir.Parent!.Name; // .../bin/<Configuration>/net10.0/
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Lacuna.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        string dll = Path.Combine(dir!.FullName, "src", "Lacuna.Cli", "bin", configuration, "net10.0", "Lacuna.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        return dll;
    }
}
