using Lacuna.Pruning;

namespace Lacuna.Training;

/// <summary>
/// Prunes a network's conv and FC weights as matrices W [rows × cols]: rows are output channels or features, cols the
/// rest (cin·kh·kw for a conv, as OIHW flattens; inputs for an FC), so N:M groups run along K and "channel" removes whole
/// filters. The first conv and the last FC are excluded unless asked (they are small and the most sensitive). The method
/// is a <see cref="SparsityPattern"/> spelling, pruned per layer, or "global" (<see cref="GlobalMagnitude"/>, unstructured).
/// Weights already zero count as the smallest, so a weight once pruned stays pruned when a mask is recomputed.
/// </summary>
public sealed class LayerPruning
{
    public const string Global = "global";

    public LayerPruning(Network network, string method, bool includeFirstAndLast = false, double minDensity = GlobalMagnitude.DefaultMinDensity)
    {
        ArgumentNullException.ThrowIfNull(network);
        Method = method;
        Pattern = method == Global ? UnstructuredPattern.Instance : SparsityPattern.Parse(method);
        MinDensity = minDensity;
        var weights = network.Parameters.Where(p => p.Kind == ParameterKind.Weight).ToList();
        Layers = weights.Select((p, i) => new PrunedLayer(p, p.Shape[0], p.Length / Math.Max(1, p.Shape[0]),
            includeFirstAndLast || (i != 0 && i != weights.Count - 1))).ToList();
    }

    public string Method { get; }
    /// <summary>The per-layer pattern ("unstructured" for global).</summary>
    public SparsityPattern Pattern { get; }
    public double MinDensity { get; }
    public IReadOnlyList<PrunedLayer> Layers { get; }

    /// <summary>Prunes every included layer to <paramref name="sparsity"/> (a fixed pattern ignores it) and fixes the masks.</summary>
    public void PruneTo(double sparsity)
    {
        var included = Layers.Where(l => l.Included).ToList();
        if (Method == Global)
            GlobalMagnitude.Prune(included.Select(l => new GlobalLayer(l.Parameter.Name, l.Parameter.Value, l.Rows, l.Cols)).ToList(), sparsity, MinDensity);
        else
            foreach (var l in included) Pattern.Prune(l.Parameter.Value, l.Rows, l.Cols, sparsity);
        foreach (var l in included) l.Parameter.FreezeSparsityPattern();
    }

    /// <summary>The first layer whose weights break the pattern, or null when every included layer satisfies it.</summary>
    public string? Violation()
    {
        foreach (var l in Layers.Where(l => l.Included))
            if (Pattern.Violation(l.Parameter.Value, l.Rows, l.Cols) is { } v) return $"{l.Parameter.Name}: {v}";
        return null;
    }
}

/// <summary>One prunable weight as a matrix, and whether the schedule prunes it.</summary>
public sealed record PrunedLayer(Parameter Parameter, int Rows, int Cols, bool Included)
{
    public string Name => Parameter.Name;
    public double Sparsity => Parameter.Sparsity();
}
