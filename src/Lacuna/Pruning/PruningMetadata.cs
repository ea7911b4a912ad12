using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lacuna.Pruning;

/// <summary>
/// The per-layer patterns `lacuna prune` writes into a model's metadata_props under <see cref="Key"/>: a JSON object
/// {node name: pattern spelling}, e.g. {"conv2": "nm:2:4", "conv3": "2:4+1:8", "conv4": "channel"}. The session
/// reads it back (<see cref="Read"/>) and offers each named layer its pattern's kernel as its one structured
/// candidate, as a `--pattern` model gets it (<see cref="Graph.PatternPlanning.Layers"/>). Spellings that are not a kernel pattern ("dense", "channel": a shrunk
/// layer is dense) are kept in the file for tools and skipped by the planner.
/// </summary>
public static class PruningMetadata
{
    public const string Key = "lacuna.pruning";

    /// <summary>Writes {layer: pattern} under <see cref="Key"/>.</summary>
    public static void Write(IDictionary<string, string> metadata, IEnumerable<KeyValuePair<string, string>> layerPatterns)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(layerPatterns);
        var o = new JsonObject();
        foreach (var (layer, pattern) in layerPatterns) o[layer] = pattern;
        metadata[Key] = o.ToJsonString();
    }

    /// <summary>
    /// The kernel patterns named under <see cref="Key"/> (null when the key is absent). Malformed JSON or a value that
    /// is not a string is a <see cref="LacunaFormatException"/>; an unknown spelling is skipped (not a kernel pattern).
    /// </summary>
    public static IReadOnlyDictionary<string, SparsityPattern>? Read(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(Key, out var text)) return null;
        JsonObject o;
        try
        {
            o = JsonNode.Parse(text) as JsonObject ?? throw new LacunaFormatException($"metadata '{Key}'", "is not a JSON object of layer → pattern.");
        }
        catch (JsonException e)
        {
            throw new LacunaFormatException($"metadata '{Key}'", $"is not valid JSON ({e.Message}).");
        }
        var layers = new Dictionary<string, SparsityPattern>(StringComparer.Ordinal);
        foreach (var (layer, value) in o)
        {
            if (value is not JsonValue v || !v.TryGetValue(out string? spelling))
                throw new LacunaFormatException($"metadata '{Key}'", $"layer '{layer}' has no pattern string.");
            if (spelling is "dense" or "channel") continue;
            try { layers[layer] = SparsityPattern.Parse(spelling); }
            catch (ArgumentException) { /* a spelling for tools only: the planner times its usual candidates */ }
        }
        return layers;
    }
}
