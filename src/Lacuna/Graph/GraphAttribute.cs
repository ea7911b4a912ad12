namespace Lacuna.Graph;

public enum GraphAttributeKind { Int, Float, String, Ints, Floats, Tensor, Strings }

/// <summary>One node attribute; <see cref="Kind"/> says which value field is meaningful.</summary>
public sealed record GraphAttribute(string Name, GraphAttributeKind Kind, long Int = 0, float Float = 0f, string String = "",
    long[]? Ints = null, float[]? Floats = null, GraphTensor? Tensor = null, string[]? Strings = null)
{
    public static GraphAttribute Of(string name, long v) => new(name, GraphAttributeKind.Int, Int: v);
    public static GraphAttribute Of(string name, float v) => new(name, GraphAttributeKind.Float, Float: v);
    public static GraphAttribute Of(string name, string v) => new(name, GraphAttributeKind.String, String: v);
    public static GraphAttribute Of(string name, long[] v) => new(name, GraphAttributeKind.Ints, Ints: v);
    public static GraphAttribute Of(string name, float[] v) => new(name, GraphAttributeKind.Floats, Floats: v);
    public static GraphAttribute Of(string name, string[] v) => new(name, GraphAttributeKind.Strings, Strings: v);
    public static GraphAttribute Of(string name, GraphTensor v) => new(name, GraphAttributeKind.Tensor, Tensor: v);

    /// <summary>Value equality including list and tensor contents (records compare arrays by reference).</summary>
    public bool ContentEquals(GraphAttribute other) =>
        Name == other.Name && Kind == other.Kind && Int == other.Int && Float.Equals(other.Float) && String == other.String
        && Seq(Ints, other.Ints) && Seq(Floats, other.Floats) && Seq(Strings, other.Strings)
        && (Tensor is null ? other.Tensor is null : other.Tensor is not null && GraphEquality.TensorsEqual(Tensor, other.Tensor));

    private static bool Seq<T>(T[]? a, T[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
