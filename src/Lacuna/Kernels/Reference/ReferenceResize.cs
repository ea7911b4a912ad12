using Lacuna.Kernels.Resize;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX Resize evaluated directly: every output element is Σ over the product of each axis's taps
/// (<see cref="ResizeSpec.Taps"/>: the specification's coordinate transforms, rounding and cubic coefficients) of the
/// weights' product times the input there, in double; the extrapolation value where any axis falls outside
/// (tf_crop_and_resize).
/// </summary>
public static class ReferenceResize
{
    public static void Compute(ResizeSpec spec, ReadOnlySpan<float> x, Span<float> y)
    {
        int rank = spec.InputShape.Length;
        var taps = Enumerable.Range(0, rank).Select(a => Enumerable.Range(0, spec.OutputShape[a]).Select(o => spec.Taps(a, o)).ToArray()).ToArray();
        var inStrides = new long[rank];
        for (int a = rank - 1, s = 1; a >= 0; s *= spec.InputShape[a], a--) inStrides[a] = s;
        long count = spec.OutputShape.Aggregate(1L, (a, d) => a * d);
        var at = new int[rank];
        for (long i = 0; i < count; i++)
        {
            long rest = i;
            for (int a = rank - 1; a >= 0; a--) { at[a] = (int)(rest % spec.OutputShape[a]); rest /= spec.OutputShape[a]; }
            y[(int)i] = (float)Sum(spec, x, taps, inStrides, at, 0, 0, 1.0);
        }
    }

    private static double Sum(ResizeSpec spec, ReadOnlySpan<float> x, (int[] Index, float[] Weight)[][] taps, long[] strides, int[] at, int axis, long offset, double weight)
    {
        if (axis == at.Length) return weight * x[(int)offset];
        var (index, w) = taps[axis][at[axis]];
        if (index[0] < 0) return weight * spec.Extrapolation;
        double sum = 0;
        for (int t = 0; t < index.Length; t++)
            sum += Sum(spec, x, taps, strides, at, axis + 1, offset + index[t] * strides[axis], weight * w[t]);
        return sum;
    }
}
