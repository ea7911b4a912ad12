using System.CommandLine;
using Lacuna.Server;
using Lacuna.Threading;
using Microsoft.Extensions.Logging;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna serve</c>: the Open Inference Protocol (KServe v2) REST server with dynamic batching, until SIGTERM or
/// Ctrl+C (then it finishes the requests in flight and exits 0).
/// </summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var model = new Option<string[]>("--model", "-m") { Description = "NAME=PATH of an .onnx file to serve as version 1 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var repository = new Option<string?>("--model-repository") { Description = "A folder of NAME/VERSION/model.onnx with optional NAME/config.json." };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0: all interfaces; 127.0.0.1: this machine only).", DefaultValueFactory = _ => "0.0.0.0" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port.", DefaultValueFactory = _ => 8000 };
        var threads = new Option<int>("--threads", "-t") { Description = "Engine threads, one budget shared by all models.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most rows merged into one engine run (1: no dynamic batching); config.json overrides per model.", DefaultValueFactory = _ => 8 };
        var delay = new Option<int>("--max-queue-delay-us") { Description = "How long a request may wait for others to join its batch (microseconds).", DefaultValueFactory = _ => 0 };
        var queue = new Option<int>("--max-queue") { Description = "Requests waiting per model at most; more are answered 503 at once.", DefaultValueFactory = _ => 128 };
        var instances = new Option<int>("--instances") { Description = "Engine instances per model: batches run at once, each on threads/instances threads (config.json overrides per model).", DefaultValueFactory = _ => 1 };
        var plan = new Option<string>("--plan") { Description = "sparse (each layer's fastest kernel, timed at load) or dense.", DefaultValueFactory = _ => "sparse" };
        var bodyMb = new Option<int>("--max-body-mb") { Description = "Largest request body in MiB (larger: 413).", DefaultValueFactory = _ => 64 };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log level (Warning: no per-request lines; model loading always shows).", DefaultValueFactory = _ => LogLevel.Warning };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "One JSON object per log line." };
        var cmd = new Command("serve", "Serve models over the Open Inference Protocol (KServe v2 REST) with dynamic batching.")
            { model, repository, host, port, threads, maxBatch, delay, queue, instances, plan, bodyMb, logLevel, jsonLogs };
        cmd.SetAction(parse =>
        {
            if (CommonOptions.CheckThreads(parse.GetValue(threads)) is string bad) { Console.Error.WriteLine(bad); return 2; }
            if (ModelConfig.ParsePlan(parse.GetValue(plan)) is not PlanKind planKind) { Console.Error.WriteLine($"--plan must be sparse or dense (got '{parse.GetValue(plan)}')."); return 2; }
            var defaults = new ModelConfig
            {
                MaxBatchSize = parse.GetValue(maxBatch), MaxQueueDelayMicroseconds = parse.GetValue(delay),
                MaxQueueSize = parse.GetValue(queue), Instances = parse.GetValue(instances), Plan = planKind,
            };
            if (defaults.Problem() is string problem) { Console.Error.WriteLine(problem); return 2; }
            var files = new List<(string, string)>();
            foreach (var m in parse.GetValue(model) ?? [])
            {
                int eq = m.IndexOf('=');
                if (eq <= 0) { Console.Error.WriteLine($"--model '{m}': expected NAME=PATH."); return 2; }
                files.Add((m[..eq], m[(eq + 1)..]));
            }
            if (parse.GetValue(port) is < 0 or > 65535) { Console.Error.WriteLine($"--port must be in [0, 65535] (got {parse.GetValue(port)})."); return 2; }
            if (!System.Net.IPAddress.TryParse(parse.GetValue(host), out _) && parse.GetValue(host) != "localhost")
            { Console.Error.WriteLine($"--host '{parse.GetValue(host)}' is not an IP address."); return 2; }
            WorkerPool.DefaultThreads = parse.GetValue(threads);
            var repo = ModelRepository.Discover(files, parse.GetValue(repository), defaults);
            var server = LacunaServer.Create(new ServerOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), Threads = parse.GetValue(threads),
                MaxRequestBodyBytes = (long)parse.GetValue(bodyMb) << 20, LogLevel = parse.GetValue(logLevel), JsonLogs = parse.GetValue(jsonLogs),
            }, repo);
            server.StartAsync().GetAwaiter().GetResult();
            Console.WriteLine($"lacuna serve: listening on {server.BaseAddress} ({repo.All.Count} model version(s) loading; GET /v2/health/ready says when they are planned)");
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            Console.WriteLine("lacuna serve: stopped (requests in flight finished).");
            return 0;
        });
        return cmd;
    }
}
