namespace Lacuna.Graph;

/// <summary>
/// A named graph input or output. <see cref="Shape"/> dims are ≥ 0, or <see cref="Symbolic"/> for a dimension fixed
/// only at run time (the batch); null when the shape is unknown.
/// </summary>
public sealed record GraphValue(string Name, int[]? Shape, string? BatchParam = null)
{
    public const int Symbolic = -1;

    public string ShapeText => Shape is null ? "[?]" : "[" + string.Join(", ", Shape.Select(d => d == Symbolic ? BatchParam ?? "?" : d.ToString())) + "]";
}
