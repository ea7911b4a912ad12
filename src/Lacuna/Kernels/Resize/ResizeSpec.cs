namespace Lacuna.Kernels.Resize;

public enum ResizeMode { Nearest, Linear, Cubic }

public enum NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil }

public enum CoordinateTransform { HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, TfCropAndResize }

/// <summary>
/// An ONNX Resize (and Upsample) with its sizes known: per axis the input and output lengths and the scale, plus the
/// interpolation, the coordinate transformation, nearest rounding, cubic's A and exclude_outside, and
/// tf_crop_and_resize's region (roi, start then end per axis) and extrapolation value.
/// </summary>
public sealed record ResizeSpec(int[] InputShape, int[] OutputShape, float[] Scales, ResizeMode Mode, CoordinateTransform Transform,
    NearestRounding Rounding = NearestRounding.RoundPreferFloor, float CubicA = -0.75f, bool ExcludeOutside = false,
    float[]? Roi = null, float Extrapolation = 0f)
{
    /// <summary>
    /// Output index → source coordinate along <paramref name="axis"/>, the ONNX specification's formulas in double, with
    /// the resized length taken as scale · input length (not the floored output length), as its reference implementation
    /// computes it: a 4-wide axis at scale 0.6 has 2 outputs, aligned as if there were 2.4.
    /// </summary>
    public double SourceCoordinate(int axis, int outIndex)
    {
        double x = outIndex, scale = Scales[axis];
        int lengthIn = InputShape[axis];
        double lengthOut = scale * lengthIn;
        switch (Transform)
        {
            case CoordinateTransform.HalfPixel: return (x + 0.5) / scale - 0.5;
            case CoordinateTransform.HalfPixelSymmetric:
            {
                double adjustment = OutputShape[axis] / lengthOut;
                double center = lengthIn / 2.0;
                return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
            }
            case CoordinateTransform.PytorchHalfPixel: return lengthOut > 1 ? (x + 0.5) / scale - 0.5 : 0;
            case CoordinateTransform.AlignCorners: return lengthOut == 1 ? 0 : x * (lengthIn - 1) / (lengthOut - 1);
            case CoordinateTransform.Asymmetric: return x / scale;
            case CoordinateTransform.TfHalfPixelForNn: return (x + 0.5) / scale;
            default:
            {
                int rank = InputShape.Length;
                double start = Roi![axis], end = Roi[rank + axis];
                return lengthOut > 1
                    ? start * (lengthIn - 1) + x * (end - start) * (lengthIn - 1) / (lengthOut - 1)
                    : 0.5 * (start + end) * (lengthIn - 1);
            }
        }
    }

    /// <summary>
    /// Output index → (source indices, weights) along one axis; a tap of index −1 stands for the extrapolation value
    /// (tf_crop_and_resize outside the input). Nearest has one tap, linear two, cubic four (edge indices clamped, or
    /// dropped and the rest renormalized with exclude_outside).
    /// </summary>
    public (int[] Index, float[] Weight) Taps(int axis, int outIndex)
    {
        int n = InputShape[axis];
        double x = SourceCoordinate(axis, outIndex);
        if (Transform == CoordinateTransform.TfCropAndResize && (x < 0 || x > n - 1)) return ([-1], [1f]);
        switch (Mode)
        {
            case ResizeMode.Nearest:
            {
                double r = Rounding switch
                {
                    NearestRounding.RoundPreferFloor => x == Math.Floor(x) + 0.5 ? Math.Floor(x) : Math.Round(x),
                    NearestRounding.RoundPreferCeil => x == Math.Floor(x) + 0.5 ? Math.Ceiling(x) : Math.Round(x),
                    NearestRounding.Floor => Math.Floor(x),
                    _ => Math.Ceiling(x),
                };
                return ([Clamp((long)r, n)], [1f]);
            }
            case ResizeMode.Linear:
            {
                double x0 = Math.Floor(x), t = x - x0;
                return ([Clamp((long)x0, n), Clamp((long)x0 + 1, n)], [(float)(1 - t), (float)t]);
            }
            default:
            {
                double x0 = Math.Floor(x), t = x - x0, a = CubicA;
                double[] w =
                [
                    ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                    ((a + 2) * t - (a + 3)) * t * t + 1,
                    ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                    ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
                ];
                long[] at = [(long)x0 - 1, (long)x0, (long)x0 + 1, (long)x0 + 2];
                if (ExcludeOutside)
                {
                    double sum = 0;
                    for (int i = 0; i < 4; i++) { if (at[i] < 0 || at[i] >= n) w[i] = 0; sum += w[i]; }
                    for (int i = 0; i < 4; i++) w[i] /= sum;
                }
                return (at.Select(i => Clamp(i, n)).ToArray(), w.Select(v => (float)v).ToArray());
            }
        }
    }

    private static int Clamp(long i, int n) => (int)Math.Clamp(i, 0, n - 1);
}
