using Microsoft.Extensions.Logging;

namespace Lacuna.Server;

/// <summary>
/// The models a server serves: single files given as <c>NAME=PATH</c> (version 1) and a repository folder laid out as
/// Triton's, <c>NAME/VERSION/model.onnx</c> with an optional <c>NAME/config.json</c>. The default version of a model
/// (the one <c>/v2/models/NAME</c> means) is its highest.
/// </summary>
public sealed class ModelRepository : IDisposable
{
    private readonly Dictionary<string, ServedModel[]> _byName; // versions in ascending order

    private ModelRepository(Dictionary<string, ServedModel[]> byName)
    {
        _byName = byName;
        All = byName.Values.SelectMany(v => v).ToArray();
    }

    public IReadOnlyList<ServedModel> All { get; }
    public bool AllReady => All.All(m => m.State == ModelState.Ready);

    /// <summary>Finds the models without loading them; a missing file, a bad name or a bad config.json throws naming it.</summary>
    public static ModelRepository Discover(IReadOnlyList<(string Name, string Path)> files, string? repository, ModelConfig defaults)
    {
        var byName = new Dictionary<string, ServedModel[]>(StringComparer.Ordinal);
        foreach (var (name, path) in files)
        {
            CheckName(name, $"--model {name}={path}");
            if (!File.Exists(path)) throw new FileNotFoundException($"--model {name}={path}: no such file.");
            if (!byName.TryAdd(name, [new ServedModel(name, "1", path, defaults)]))
                throw new ArgumentException($"model '{name}' is given twice.");
        }
        if (repository is not null)
        {
            if (!Directory.Exists(repository)) throw new DirectoryNotFoundException($"--model-repository {repository}: no such folder.");
            foreach (var dir in Directory.GetDirectories(repository).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(dir);
                CheckName(name, dir);
                string configPath = Path.Combine(dir, "config.json");
                var config = File.Exists(configPath) ? ModelConfig.Read(configPath, defaults) : defaults;
                var versions = Directory.GetDirectories(dir)
                    .Select(v => (Dir: v, Number: long.TryParse(Path.GetFileName(v), out long n) && n >= 1 ? n : -1))
                    .Where(v => v.Number > 0 && File.Exists(Path.Combine(v.Dir, "model.onnx")))
                    .OrderBy(v => v.Number)
                    .Select(v => new ServedModel(name, v.Number.ToString(), Path.Combine(v.Dir, "model.onnx"), config))
                    .ToArray();
                if (versions.Length == 0)
                    throw new FileNotFoundException($"{dir}: no version folder with a model.onnx (expected {dir}/1/model.onnx).");
                if (!byName.TryAdd(name, versions)) throw new ArgumentException($"model '{name}' is given twice.");
            }
        }
        if (byName.Count == 0) throw new ArgumentException("no models: give --model NAME=PATH or --model-repository DIR.");
        return new ModelRepository(byName);
    }

    private static void CheckName(string name, string where)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"{where}: model name '{name}' must be letters, digits, '-', '_' or '.'.");
    }

    /// <summary>Loads, plans and warms every model, one after another (planning wants the engine to itself).</summary>
    /// <remarks>Once <paramref name="stop"/> is set, the model being planned stops and the rest are not loaded.</remarks>
    public void LoadAll(EngineLane lane, ServerMetrics metrics, ILogger log, CancellationToken stop = default)
    {
        foreach (var m in All)
        {
            if (stop.IsCancellationRequested) { m.MarkNotLoaded("the server stopped before this model was loaded."); continue; }
            m.Load(lane, metrics, log, stop);
        }
    }

    /// <summary>The model version a route names; 404 naming the model (and the versions it has) when unknown.</summary>
    public ServedModel Find(string name, string? version)
    {
        if (!_byName.TryGetValue(name, out var versions))
            throw ProtocolException.NotFound($"unknown model '{name}'; served: {string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))}.");
        if (version is null or "") return versions[^1];
        return versions.FirstOrDefault(v => v.Version == version)
            ?? throw ProtocolException.NotFound($"model '{name}' has no version '{version}'; versions: {string.Join(", ", versions.Select(v => v.Version))}.");
    }

    public IReadOnlyList<string> Versions(string name) => _byName[name].Select(v => v.Version).ToArray();

    public void Dispose()
    {
        foreach (var m in All) m.Dispose();
    }
}
