using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lacuna.Server;

/// <summary>
/// The Open Inference Protocol (KServe v2) REST server on Kestrel. It listens at once (liveness answers while models
/// load), loads and plans the models in the background (readiness answers 503 until all are warmed up), and on
/// shutdown (SIGTERM, Ctrl+C or <see cref="StopAsync"/>) stops accepting, finishes the requests in flight, then stops
/// the batchers.
/// <code>
/// await using var server = LacunaServer.Create(options, ModelRepository.Discover(files, null, new ModelConfig()));
/// await server.StartAsync();
/// await server.WaitForShutdownAsync();
/// </code>
/// </summary>
public sealed class LacunaServer : IAsyncDisposable
{
    public const string LoadingLogCategory = "Lacuna.Server.ModelLoading";

    private readonly WebApplication _app;
    private readonly ModelRepository _models;
    private readonly EngineLane _lane;
    private readonly ILogger _loadLog;
    private readonly ILogger _log;
    private Task _loading = Task.CompletedTask;
    private readonly CancellationTokenSource _stopLoading = new();
    private volatile bool _stopping;
    private int _disposed;

    public ServerMetrics Metrics { get; } = new();
    public ModelRepository Models => _models;

    /// <summary>Tests hold the lane to keep the engine busy (queue-full, shutdown with requests waiting).</summary>
    internal EngineLane Lane => _lane;

    private LacunaServer(WebApplication app, ModelRepository models, EngineLane lane)
    {
        _app = app;
        _models = models;
        _lane = lane;
        _loadLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LoadingLogCategory);
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lacuna.Server");
        app.Lifetime.ApplicationStopping.Register(() => { _stopping = true; _stopLoading.Cancel(); });
        MapRoutes(app);
    }

    public static LacunaServer Create(ServerOptions options, ModelRepository models)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (options.JsonLogs) builder.Logging.AddJsonConsole();
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // Loading and planning are a few lines per model at start-up, and planning time is what an operator waits for.
        if (options.LogLevel != LogLevel.None)
            builder.Logging.AddFilter(LoadingLogCategory, (LogLevel)Math.Min((int)options.LogLevel, (int)LogLevel.Information));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            var address = options.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            k.Listen(address, options.Port);
        });
        return new LacunaServer(builder.Build(), models, new EngineLane(options.Threads));
    }

    /// <summary>The address the server listens on (the real port when 0 was asked).</summary>
    public Uri BaseAddress
    {
        get
        {
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        }
    }

    /// <summary>Starts listening, then loads the models in the background.</summary>
    public async Task StartAsync(CancellationToken cancel = default)
    {
        await _app.StartAsync(cancel);
        _loading = Task.Factory.StartNew(() => _models.LoadAll(_lane, Metrics, _loadLog, _stopLoading.Token), TaskCreationOptions.LongRunning);
    }

    /// <summary>Completes when every model has been loaded (ready or failed).</summary>
    public Task Loaded => _loading;

    /// <summary>Waits for SIGTERM or Ctrl+C (or <see cref="StopAsync"/>), then for the drain.</summary>
    public async Task WaitForShutdownAsync()
    {
        await _app.WaitForShutdownAsync();
        await DisposeAsync();
    }

    /// <summary>Stops accepting, finishes the requests in flight, then stops the batchers and frees the models.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        await _app.StopAsync();
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _stopLoading.Cancel(); // planning stops within one layer instead of finishing the model
        await _app.StopAsync(); // a no-op when already stopped
        await _loading;
        _stopLoading.Dispose();
        _models.Dispose();
        await _app.DisposeAsync();
    }

    private void MapRoutes(WebApplication app)
    {
        app.MapGet("/v2/health/live", ctx => InferResponseWriter.WriteJsonAsync(ctx.Response, w => w.WriteBoolean("live", true)));
        app.MapGet("/v2/health/ready", ctx =>
        {
            bool ready = !_stopping && _models.AllReady;
            return InferResponseWriter.WriteJsonAsync(ctx.Response, w => w.WriteBoolean("ready", ready), ready ? 200 : 503);
        });
        app.MapGet("/v2", ctx => InferResponseWriter.WriteJsonAsync(ctx.Response, w =>
        {
            w.WriteString("name", "lacuna");
            w.WriteString("version", typeof(LacunaServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            w.WriteStartArray("extensions");
            w.WriteStringValue("binary_tensor_data");
            w.WriteEndArray();
        }));
        foreach (string prefix in new[] { "/v2/models/{model}", "/v2/models/{model}/versions/{version}" })
        {
            app.MapGet(prefix, ctx => Guarded(ctx, () => Metadata(ctx)));
            app.MapGet(prefix + "/ready", ctx => Guarded(ctx, () => Ready(ctx)));
            app.MapPost(prefix + "/infer", Infer);
        }
        app.MapGet("/metrics", async ctx =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await ctx.Response.WriteAsync(Metrics.Write(_models.All));
        });
        app.MapFallback(ctx => InferResponseWriter.WriteErrorAsync(ctx.Response, 404, $"no route {ctx.Request.Method} {ctx.Request.Path}; see /v2 and /v2/models/NAME."));
    }

    private static async Task Guarded(HttpContext ctx, Func<Task> handle)
    {
        try { await handle(); }
        catch (ProtocolException e) { await InferResponseWriter.WriteErrorAsync(ctx.Response, e.Status, e.Message); }
    }

    private ServedModel Route(HttpContext ctx) =>
        _models.Find((string)ctx.Request.RouteValues["model"]!, ctx.Request.RouteValues["version"] as string);

    private Task Metadata(HttpContext ctx)
    {
        var m = Route(ctx);
        if (m.State != ModelState.Ready) throw ProtocolException.Unavailable($"model '{m.Name}' version {m.Version} is not ready ({m.StateText}).");
        return InferResponseWriter.WriteJsonAsync(ctx.Response, w =>
        {
            w.WriteString("name", m.Name);
            w.WriteStartArray("versions");
            foreach (var v in _models.Versions(m.Name)) w.WriteStringValue(v);
            w.WriteEndArray();
            w.WriteString("platform", "onnx_onnxv1");
            WriteSpecs(w, "inputs", m.Inputs);
            WriteSpecs(w, "outputs", m.Outputs);
        });
    }

    private static void WriteSpecs(System.Text.Json.Utf8JsonWriter w, string name, IReadOnlyList<TensorSpec> specs)
    {
        w.WriteStartArray(name);
        foreach (var s in specs)
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteString("datatype", s.Datatype);
            w.WriteStartArray("shape");
            foreach (int d in s.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>200 when ready, 503 while loading or after a failed load; the body says which, and what planning took.</summary>
    private Task Ready(HttpContext ctx)
    {
        var m = Route(ctx);
        bool ready = m.State == ModelState.Ready && !_stopping;
        return InferResponseWriter.WriteJsonAsync(ctx.Response, w =>
        {
            w.WriteString("name", m.Name);
            w.WriteString("version", m.Version);
            w.WriteBoolean("ready", ready);
            w.WriteString("state", _stopping ? "shutting down" : m.StateText);
            if (m.State != ModelState.Ready) return;
            w.WriteString("plan", m.Config.Plan.ToString().ToLowerInvariant());
            w.WriteStartArray("planned_batch_sizes");
            foreach (int b in m.PlannedBatchSizes) w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteNumber("max_batch_size", m.Batched ? m.Config.MaxBatchSize : 0);
            w.WriteNumber("instances", m.Config.Instances);
            w.WriteNumber("threads_per_instance", m.RunThreads);
            w.WriteStartObject("run_ms"); // per planned size, from the warm-up: what the batcher weighs padding against trimming with
            foreach (var (b, ms) in m.RunMilliseconds.OrderBy(kv => kv.Key)) w.WriteNumber(b.ToString(System.Globalization.CultureInfo.InvariantCulture), Math.Round(ms, 3));
            w.WriteEndObject();
            w.WriteNumber("planning_seconds", Math.Round(m.PlanningSeconds, 4));
            w.WriteNumber("warmup_seconds", Math.Round(m.WarmupSeconds, 4));
        }, ready ? 200 : 503);
    }

    private async Task Infer(HttpContext ctx)
    {
        long start = Stopwatch.GetTimestamp();
        Metrics.RequestStarted();
        ServedModel? model = null;
        InferRequest? request = null;
        byte[]? rented = null;
        int status = 200;
        try
        {
            model = Route(ctx);
            if (model.State != ModelState.Ready)
                throw ProtocolException.Unavailable($"model '{model.Name}' version {model.Version} is not ready ({model.StateText}).");
            int? headerLength = null;
            if (ctx.Request.Headers.TryGetValue(InferResponseWriter.HeaderLengthName, out var h))
                headerLength = int.TryParse(h.ToString(), out int n) ? n
                    : throw ProtocolException.BadRequest($"{InferResponseWriter.HeaderLengthName} is '{h}'; expected the JSON header's length in bytes.");
            ReadOnlyMemory<byte> body;
            (body, rented) = await ReadBodyAsync(ctx.Request);
            request = InferRequestReader.Read(body, headerLength, model);
            ReturnBody(ref rented);
            var result = await model.Submit(request.Work);
            await InferResponseWriter.WriteAsync(ctx.Response, model, request, result);
        }
        catch (ProtocolException e)
        {
            status = e.Status;
            await InferResponseWriter.WriteErrorAsync(ctx.Response, status, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            status = e.StatusCode; // 413 over the body limit, 400 for a truncated body
            await InferResponseWriter.WriteErrorAsync(ctx.Response, status, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            status = 500;
            _log.LogError(e, "inference on model {Model} failed", model?.Name);
            if (!ctx.Response.HasStarted) await InferResponseWriter.WriteErrorAsync(ctx.Response, 500, $"inference failed: {e.Message}");
        }
        finally
        {
            ReturnBody(ref rented);
            request?.Work.Release(); // after its batch copied it, or when it never reached the queue
            Metrics.RequestEnded();
            if (model is not null) Metrics.ObserveRequest(model.Name, status >= 400, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    private static void ReturnBody(ref byte[]? rented)
    {
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        rented = null;
    }

    /// <summary>The whole body; with a known length, in a pooled buffer (returned by the caller) rather than a fresh array.</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, byte[]? Rented)> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is long known)
        {
            var limit = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            if (known > limit) throw new ProtocolException(413, $"the request body is {known} bytes; this server takes at most {limit}.");
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)known);
            try
            {
                int at = 0;
                while (at < known)
                {
                    int n = await request.Body.ReadAsync(buffer.AsMemory(at, (int)known - at));
                    if (n == 0) throw ProtocolException.BadRequest($"the body ended after {at} of its {known} bytes.");
                    at += n;
                }
                return (buffer.AsMemory(0, (int)known), buffer);
            }
            catch
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy);
        return (copy.GetBuffer().AsMemory(0, (int)copy.Length), null);
    }
}
