namespace Lacuna.Graph;

/// <summary>
/// A named graph input or output. <see cref="Shape"/> dims are ≥ 0, or <see cref="Symbolic"/> for a dimension fixed
/// only at run time (the batch, a sequence length); null when the shape is unknown. <see cref="ElementType"/> is what
/// the model declares: float, or int64/bool (token ids, masks), which the run time carries as exact float values
/// (<see cref="InferenceSession.Run"/> checks them at the boundary).
/// </summary>
public sealed record GraphValue(string Name, int[]? Shape, string? BatchParam = null)
{
    public const int Symbolic = -1;

    /// <summary>The declared element type (float unless the model says int64 or bool).</summary>
    public GraphElementType ElementType { get; init; } = GraphElementType.Float;

    /// <summary>Names of the symbolic dimensions, one per dimension (null entries for fixed ones); null when unnamed.</summary>
    public string?[]? DimParams { get; init; }

    public string ShapeText => Shape is null ? "[?]" : "[" + string.Join(", ", Shape.Select((d, i) =>
        d == Symbolic ? (DimParams is { } p && i < p.Length && p[i] is { } name ? name : i == 0 ? BatchParam ?? "?" : "?") : d.ToString())) + "]";
}
