namespace Lacuna.Server;

/// <summary>
/// A model input or output as the protocol describes it: name, datatype and shape, <c>-1</c> for a dimension fixed
/// only per request (the batch).
/// </summary>
public sealed record TensorSpec(string Name, string Datatype, int[] Shape)
{
    /// <summary>Elements per batch row: the product of the dimensions after the first (or of all, unbatched).</summary>
    public int RowElements(bool batched)
    {
        int n = 1;
        for (int d = batched ? 1 : 0; d < Shape.Length; d++) n *= Shape[d];
        return n;
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
