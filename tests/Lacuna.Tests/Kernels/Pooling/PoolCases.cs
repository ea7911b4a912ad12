using Lacuna.Kernels;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Pooling;

/// <summary>The attribute grid the 2-D pool kernels are checked over: every kernel/stride/pad/dilation/ceil combination that is valid for the size.</summary>
public static class PoolCases
{
    public static IEnumerable<Pool2dParams> Grid(bool countIncludePad)
    {
        foreach (int k in new[] { 1, 2, 3, 5 })
        foreach (int s in new[] { 1, 2, 3 })
        foreach (var pads in new[] { (0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 2, 1), (2, 2, 0, 1) })
        foreach (int d in new[] { 1, 2 })
        foreach (bool ceil in new[] { false, true })
        {
            if (pads.Item1 >= k * d && pads.Item3 >= k * d) continue; // padding wider than any window: rejected, checked elsewhere
            yield return new Pool2dParams(k, k == 5 ? 3 : k, s, s == 3 ? 1 : s, pads.Item1, pads.Item2, pads.Item3, pads.Item4, d, d == 2 ? 1 : d, ceil, countIncludePad);
        }
    }

    /// <summary>Whether the reference accepts this geometry for the shape (windows over padding only are refused).</summary>
    public static bool Valid(Pool2dParams p, int[] shape)
    {
        try { p.OutputShape(shape); return true; }
        catch (ShapeMismatchException) { return false; }
    }

    /// <summary>Widths around the vector widths, and heights small and odd.</summary>
    public static readonly int[] Widths = { 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65 };
    public static readonly int[] Heights = { 3, 6 };
}
