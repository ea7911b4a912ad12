using Microsoft.Extensions.Logging;

namespace Lacuna.Server;

/// <summary>How the server listens and runs; the per-model batching defaults are in <see cref="ModelConfig"/>.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on: 0.0.0.0 (all interfaces, what a container needs) or 127.0.0.1 (this machine only).</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>TCP port; 0 picks a free one (tests), read back from <see cref="LacunaServer.BaseAddress"/>.</summary>
    public int Port { get; init; } = 8000;

    /// <summary>The engine thread budget all models share.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Largest request body; a larger one is refused with 413 before it is read.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64L << 20;

    /// <summary>How long shutdown waits for requests in flight before it gives up on them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Least severe log level written (Warning: no per-request lines; model loading is always reported).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>One JSON object per log line (for log collectors) instead of plain text.</summary>
    public bool JsonLogs { get; init; }
}
