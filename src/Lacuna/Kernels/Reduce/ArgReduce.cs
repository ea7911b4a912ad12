using System.Numerics;

namespace Lacuna.Kernels.Reduce;

/// <summary>
/// ArgMax / ArgMin over the middle axis of x[outer, r, inner], indices written as exact floats. Across columns
/// (inner ≥ a vector) the running extreme and its index are kept per lane with <see cref="Vector{T}"/>; a row
/// (inner = 1) and the column tail are scanned. Ties take the first index, or the last with select_last_index; a NaN
/// is the extreme and stays (the first NaN, as NumPy). Reference: <see cref="Reference.ReferenceIndexing.ArgExtreme"/>.
/// </summary>
public static class ArgReduce
{
    public static void Run(ReadOnlySpan<float> x, int outer, int r, int inner, bool max, bool last, Span<float> y)
    {
        if (r < 1) ThrowHelper.Argument(nameof(r), $"Arg{(max ? "Max" : "Min")}: the reduced axis is empty.");
        int w = Vector<float>.Count;
        for (int o = 0; o < outer; o++)
        {
            var xo = x.Slice(o * r * inner, r * inner);
            var yo = y.Slice(o * inner, inner);
            int i = 0;
            if (Vector.IsHardwareAccelerated)
                for (; i <= inner - w; i += w)
                {
                    var best = new Vector<float>(xo.Slice(i));
                    var at = Vector<float>.Zero;
                    for (int j = 1; j < r; j++)
                    {
                        var v = new Vector<float>(xo.Slice(j * inner + i));
                        var better = (max ? Vector.GreaterThan(v, best) : Vector.LessThan(v, best))
                            | (Vector.OnesComplement(Vector.Equals(v, v)) & Vector.Equals(best, best)); // v NaN, best not yet
                        if (last) better |= Vector.Equals(v, best);
                        best = Vector.ConditionalSelect(better, v, best);
                        at = Vector.ConditionalSelect(better, new Vector<float>(j), at);
                    }
                    at.CopyTo(yo.Slice(i));
                }
            for (; i < inner; i++)
            {
                float best = xo[i];
                int at = 0;
                for (int j = 1; j < r && !float.IsNaN(best); j++)
                {
                    float v = xo[j * inner + i];
                    if (float.IsNaN(v) || (max ? v > best : v < best) || (last && v == best)) { best = v; at = j; }
                }
                yo[i] = at;
            }
        }
    }
}
