namespace Lacuna.Tests.TestUtil;

/// <summary>Sizes and thread counts shared by the layer-kernel tests (normalization, pooling, layout).</summary>
public static class LayerCases
{
    /// <summary>Both thread counts every kernel runs with; 2 only splits work on the large cases (≥ 64K elements).</summary>
    public static readonly int[] Threads = { 1, 2 };

    /// <summary>Lengths just below, at and above 4, 8, 16, 32 and 64 (the vector widths and their unrolls).</summary>
    public static readonly int[] VectorEdges = { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65 };

    public static int Count(int[] shape) => shape.Aggregate(1, (a, d) => a * d);

    /// <summary>Random values in [-1, 1] with NaN, +Inf and -Inf planted at the given indices.</summary>
    public static float[] WithSpecials(float[] data, params (int Index, float Value)[] specials)
    {
        foreach (var (i, v) in specials)
            if (i >= 0 && i < data.Length) data[i] = v;
        return data;
    }
}
