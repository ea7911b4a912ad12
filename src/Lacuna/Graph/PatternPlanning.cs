using Lacuna.Pruning;

namespace Lacuna.Graph;

/// <summary>
/// Which structured sparsity patterns the planner offers as candidates for a layer's weights W [M × C·kh·kw] (a conv
/// as OIHW flattened, a fully connected layer as [out × in]). By default every pattern
/// <see cref="SparsityPattern.Detect(ReadOnlySpan{float}, int, int)"/> finds, timed against the dense and CSR
/// kernels like any candidate; <see cref="Patterns"/> restricts the search to the given patterns (those not in the
/// detection list included), and <see cref="Force"/> makes a layer that satisfies one of them run on it untimed,
/// to compare patterns across a whole model.
/// </summary>
public sealed record PatternPlanning
{
    /// <summary>Null: detect. Else only these, in order of preference (a layer satisfying none gets no structured candidate).</summary>
    public IReadOnlyList<SparsityPattern>? Patterns { get; init; }

    /// <summary>A layer that satisfies one of <see cref="Patterns"/> runs on that pattern's plan without timing the others.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Per-layer patterns by node name, as a pruned model's "lacuna.pruning" metadata names them
    /// (<see cref="PruningMetadata"/>): such a layer is planned as <see cref="Only"/> its pattern, as a `--pattern` model
    /// is: the pattern's plan is a candidate timed against the dense and CSR kernels (untimed with <see cref="ForceLayers"/>).
    /// </summary>
    public IReadOnlyDictionary<string, SparsityPattern>? Layers { get; init; }

    /// <summary>A layer named in <see cref="Layers"/> runs its pattern's plan untimed whenever its weights satisfy it.</summary>
    public bool ForceLayers { get; init; }

    /// <summary>The setting for one layer: only its own pattern from <see cref="Layers"/>, or this setting.</summary>
    public PatternPlanning ForLayer(string layer) =>
        Layers is not null && Layers.TryGetValue(layer, out var p) ? Only([p], ForceLayers || Force) : this;

    /// <summary>Every detectable pattern, timed (the default).</summary>
    public static PatternPlanning Detect { get; } = new();

    /// <summary>No structured candidates at all (only dense and CSR kernels).</summary>
    public static PatternPlanning None { get; } = new() { Patterns = [] };

    /// <summary>Only <paramref name="patterns"/>; <paramref name="force"/>: untimed where they apply.</summary>
    public static PatternPlanning Only(IEnumerable<SparsityPattern> patterns, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        return new() { Patterns = patterns.Where(p => p is not UnstructuredPattern).ToArray(), Force = force };
    }

    /// <summary>The patterns W [rows × cols] satisfies among the ones this setting allows (a chosen list: all of them, in its order).</summary>
    public IReadOnlyList<SparsityPattern> For(ReadOnlySpan<float> weights, int rows, int cols) =>
        Patterns is null ? SparsityPattern.Detect(weights, rows, cols)
        : Patterns.Count == 0 ? []
        : SparsityPattern.Detect(weights, rows, cols, Patterns, firstPerFamily: false);

    public override string ToString() =>
        Patterns is null ? "detect" : Patterns.Count == 0 ? "none" : string.Join(",", Patterns) + (Force ? " (forced)" : "");
}
