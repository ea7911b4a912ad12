using Lacuna.Onnx.Zoo;
using Microsoft.Extensions.Logging;

namespace Lacuna.Server.Tests;

/// <summary>
/// Server tests start real servers and hold the engine lane, whose thread setting is process-wide: they run one
/// class at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCollection
{
    public const string Name = "Server";
}

/// <summary>A model repository in a temporary folder, built from the zoo's resnet-mini (32x32 input, 10 classes).</summary>
public sealed class TestRepository : IDisposable
{
    public TestRepository()
    {
        Root = Path.Combine(Path.GetTempPath(), "lacuna-serve-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Writes NAME/VERSION/model.onnx (resnet-mini with <paramref name="seed"/>) and, if given, NAME/config.json.</summary>
    public string Add(string name, int version, ulong seed, string? config = null, double sparsity = 0)
    {
        string dir = Path.Combine(Root, name, version.ToString());
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "model.onnx");
        ZooBuilder.Build("resnet-mini", seed, sparsity).Model.Save(path);
        if (config is not null) File.WriteAllText(Path.Combine(Root, name, "config.json"), config);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Starts a server on a free loopback port and waits until its models are loaded.</summary>
public static class TestServers
{
    public static async Task<LacunaServer> StartAsync(string repository, ServerOptions? options = null, ModelConfig? defaults = null)
    {
        var server = LacunaServer.Create((options ?? new ServerOptions()) with { Host = "127.0.0.1", Port = 0, Threads = Math.Min(2, Environment.ProcessorCount), LogLevel = LogLevel.None },
            ModelRepository.Discover([], repository, defaults ?? new ModelConfig()));
        await server.StartAsync();
        await server.Loaded;
        return server;
    }

    public static HttpClient Client(LacunaServer server) => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
}
