namespace Lacuna.Training;

/// <summary>
/// A batch of activations or of their gradients in NCHW order: <see cref="Data"/>[0 .. N·C·H·W). A fully connected
/// activation is [N, F, 1, 1]. The array belongs to the layer that produced it and is reused on the next step, so a
/// caller that keeps values across steps copies them.
/// </summary>
public readonly record struct FeatureMap(float[] Data, int N, int C, int H, int W)
{
    public int Length => N * C * H * W;
    public int PerImage => C * H * W;
    public Span<float> Span => Data.AsSpan(0, Length);
    public string ShapeText => $"[{N}, {C}, {H}, {W}]";

    /// <summary>A zero-initialized map, for tests and for callers that own their inputs.</summary>
    public static FeatureMap Zeros(int n, int c, int h, int w) => new(new float[n * c * h * w], n, c, h, w);

    /// <summary>Returns <paramref name="buffer"/> when it holds at least <paramref name="length"/> floats, else a new array.</summary>
    internal static float[] Ensure(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer;
    }
}
