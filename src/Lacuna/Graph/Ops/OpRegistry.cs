using Lacuna.Graph.Ops.Operators;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Every operator the engine implements, one <see cref="OpDef"/> per (name, opset range); the one list the compiler,
/// the importer (known attributes), `lacuna ops` and the conformance tests read. Families are listed explicitly.
/// </summary>
public static class OpRegistry
{
    private static readonly Lazy<IReadOnlyList<OpDef>> _all = new(() =>
        [.. ElementwiseOps.Defs, .. ActivationOps.Defs, .. NormalizationOps.Defs, .. PoolingOps.Defs, .. ShapeOps.Defs, .. ConvOps.Defs, .. GemmOps.Defs, .. TransformerOps.Defs, .. AttentionOps.Defs, .. ReduceOps.Defs, .. IndexingOps.Defs, .. LogicalOps.Defs, .. SelectionOps.Defs, .. RecurrentOps.Defs, .. ResizeOps.Defs]);

    private static readonly Lazy<Dictionary<string, OpDef[]>> _byName = new(() =>
        All.GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(d => d.Opsets.From).ToArray(), StringComparer.Ordinal));

    public static IReadOnlyList<OpDef> All => _all.Value;

    /// <summary>The definitions registered for <paramref name="opType"/>, oldest range first (empty when none).</summary>
    public static IReadOnlyList<OpDef> Named(string opType) => _byName.Value.GetValueOrDefault(opType) ?? [];

    /// <summary>The attributes any definition of <paramref name="opType"/> reads; null when the operator is unknown
    /// (or <see cref="OpTraits.Internal"/>, which a model file cannot name).</summary>
    public static IReadOnlySet<string>? AttributesOf(string opType)
    {
        var defs = Named(opType);
        return defs.Count == 0 || defs.All(d => d.Traits.HasFlag(OpTraits.Internal)) ? null : defs.SelectMany(d => d.Attributes).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The definition for the node's operator and opset, or an error naming node, operator, opset and the supported ranges.</summary>
    public static OpDef Resolve(GraphNode n)
    {
        var defs = Named(n.OpType);
        if (defs.Count == 0) throw UnsupportedOperatorException.For(n, "operator is not supported.");
        foreach (var d in defs)
        {
            if (!d.Opsets.Contains(n.Opset)) continue;
            // The importer accepts any attribute of any of the operator's ranges; this range must read it.
            if (n.Attributes.FirstOrDefault(a => !d.Attributes.Contains(a.Name)) is { } extra)
                throw UnsupportedOperatorException.For(n, $"attribute '{extra.Name}' is not supported at opset {n.Opset} ({d} reads {(d.Attributes.Count == 0 ? "none" : string.Join(", ", d.Attributes))}).");
            return d;
        }
        throw UnsupportedOperatorException.For(n,
            $"opset {n.Opset} is not supported; Lacuna implements {n.OpType} at opsets {string.Join(", ", defs.Select(d => $"[{d.Opsets}]"))}.");
    }

    /// <summary>Definitions of one name whose ranges overlap (the registry test requires none).</summary>
    public static IEnumerable<(OpDef A, OpDef B)> Overlaps(IEnumerable<OpDef> defs) =>
        defs.GroupBy(d => d.Name, StringComparer.Ordinal).Select(g => g.ToArray())
            .SelectMany(g => g.SelectMany((a, i) => g.Skip(i + 1).Where(b => a.Opsets.Overlaps(b.Opsets)).Select(b => (a, b))));
}
