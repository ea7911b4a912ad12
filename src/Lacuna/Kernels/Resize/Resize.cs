using System.Numerics.Tensors;

namespace Lacuna.Kernels.Resize;

/// <summary>
/// ONNX Resize as one 1-D resampling pass per resized axis (nearest, linear and cubic interpolation are separable, so
/// the passes compose to the n-D result; tf_crop_and_resize's extrapolation survives them because a row of
/// extrapolated values interpolates to itself). Each pass precomputes every output position's taps once and, for every
/// axis but the last, adds whole contiguous rows (TensorPrimitives, every tier); the last axis gathers per element.
/// Axes whose length and scale are unchanged (and which are not cropped) are skipped. Buffers: x the input's elements,
/// y the output's, fully overwritten.
/// </summary>
public static class Resize
{
    public static void Compute(ResizeSpec spec, ReadOnlySpan<float> x, Span<float> y)
    {
        int rank = spec.InputShape.Length;
        long inCount = spec.InputShape.Aggregate(1L, (a, d) => a * d), outCount = spec.OutputShape.Aggregate(1L, (a, d) => a * d);
        ThrowHelper.IfTooShort(x.Length, inCount, nameof(x), "X");
        ThrowHelper.IfTooShort(y.Length, outCount, nameof(y), "Y");
        var axes = Enumerable.Range(0, rank).Where(a => !Identity(spec, a)).ToArray();
        if (axes.Length == 0) { x[..(int)inCount].CopyTo(y); return; }
        var shape = (int[])spec.InputShape.Clone();
        float[]? current = null;
        ReadOnlySpan<float> source = x[..(int)inCount];
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = axes[i];
            int[] next = (int[])shape.Clone();
            next[axis] = spec.OutputShape[axis];
            bool last = i == axes.Length - 1;
            float[]? buffer = last ? null : new float[next.Aggregate(1L, (a, d) => a * d)];
            Span<float> target = last ? y[..(int)outCount] : buffer;
            Pass(spec, axis, shape, source, next, target);
            current = buffer;
            source = current;
            shape = next;
        }
    }

    private static bool Identity(ResizeSpec s, int axis) =>
        s.InputShape[axis] == s.OutputShape[axis] && s.Scales[axis] == 1f
        && s.Transform is CoordinateTransform.HalfPixel or CoordinateTransform.PytorchHalfPixel or CoordinateTransform.AlignCorners or CoordinateTransform.Asymmetric;

    /// <summary>Resamples <paramref name="axis"/> of x [outer, in, inner] into y [outer, out, inner].</summary>
    private static void Pass(ResizeSpec spec, int axis, int[] inShape, ReadOnlySpan<float> x, int[] outShape, Span<float> y)
    {
        int outer = inShape[..axis].Aggregate(1, (a, d) => a * d), inner = inShape[(axis + 1)..].Aggregate(1, (a, d) => a * d);
        int lengthIn = inShape[axis], lengthOut = outShape[axis];
        var taps = Enumerable.Range(0, lengthOut).Select(o => spec.Taps(axis, o)).ToArray();
        for (int b = 0; b < outer; b++)
        {
            var xs = x.Slice(b * lengthIn * inner, lengthIn * inner);
            var ys = y.Slice(b * lengthOut * inner, lengthOut * inner);
            for (int o = 0; o < lengthOut; o++)
            {
                var (index, weight) = taps[o];
                var row = ys.Slice(o * inner, inner);
                if (index[0] < 0) { row.Fill(spec.Extrapolation); continue; }
                if (index.Length == 1) { xs.Slice(index[0] * inner, inner).CopyTo(row); continue; }
                if (inner == 1)
                {
                    float v = 0f;
                    for (int t = 0; t < index.Length; t++) v += weight[t] * xs[index[t]];
                    row[0] = v;
                    continue;
                }
                TensorPrimitives.Multiply(xs.Slice(index[0] * inner, inner), weight[0], row);
                for (int t = 1; t < index.Length; t++)
                    TensorPrimitives.MultiplyAdd(xs.Slice(index[t] * inner, inner), weight[t], row, row);
            }
        }
    }
}
