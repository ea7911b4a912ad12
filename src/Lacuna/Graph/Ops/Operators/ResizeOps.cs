using Lacuna.Kernels.Resize;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Resize (opsets 10-21) and Upsample (7-9) through <see cref="Resize"/>; scales, sizes and roi must be constants (or
/// fold to constants at planning, as exporters' shape arithmetic does), since they fix the output shape.
/// </summary>
internal static class ResizeOps
{
    private static readonly string[] Attributes11 = ["coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "mode", "nearest_mode"];

    public static IEnumerable<OpDef> Defs =>
    [
        new("Upsample", new(7, 9), OpTraits.None, c => [Spec(c).OutputShape], Compile)
        { Attributes = ["mode", "scales"], Kernels = Kernel, ConformanceCases = ["test_upsample"], ConstantInputs = [1] },
        new("Resize", new(10, 10), OpTraits.None, c => [Spec(c).OutputShape], Compile)
        { Attributes = ["mode"], Kernels = Kernel, ConformanceCases = ["test_resize"], ConstantInputs = [1] },
        new("Resize", new(11, 17), OpTraits.None, c => [Spec(c).OutputShape], Compile)
        { Attributes = Attributes11, Kernels = Kernel, ConformanceCases = ["test_resize"], ConstantInputs = [1, 2, 3] },
        new("Resize", new(18, 21), OpTraits.None, c => [Spec(c).OutputShape], Compile)
        { Attributes = [.. Attributes11, "antialias", "axes", "keep_aspect_ratio_policy"], Kernels = Kernel, ConformanceCases = ["test_resize"], ConstantInputs = [1, 2, 3] },
    ];

    private const string Kernel = "Resize (separable passes; nearest, linear, cubic)";

    private static NodeKernel Compile(OpContext c, int[][] o)
    {
        var spec = Spec(c);
        return c.Lambda(o, (k, f) => Resize.Compute(spec, k.Input(f, 0), k.Output(f)), "Resize");
    }

    /// <summary>The node's resize with every size known: output shape, per-axis scales, modes and region.</summary>
    internal static ResizeSpec Spec(OpContext c)
    {
        var n = c.Node;
        int[] x = c.X;
        int rank = x.Length;
        bool upsample = n.OpType == "Upsample";
        float[]? Input(int i) => c.Has(i) ? c.NeedConstant(i, $"input {i} ('{n.Inputs[i]}')").AsFloats() is { Length: > 0 } v ? v : null : null;
        float[]? scales, roi = null;
        long[]? sizes = null;
        if (upsample && n.Opset < 9) scales = n.Floats("scales");
        else if (upsample || n.Opset == 10) scales = Input(1);
        else
        {
            roi = Input(1);
            scales = Input(2);
            sizes = c.Has(3) ? c.NeedConstant(3, "sizes").AsInt64s() is { Length: > 0 } s ? s : null : null;
        }
        if ((scales is null) == (sizes is null)) throw c.Unsupported("exactly one of scales and sizes must be given.");
        if (n.Int("antialias", 0) != 0) throw c.Unsupported("antialias=1 is not supported.");

        int[] axes = n.Ints("axes")?.Select(a => (int)(a < 0 ? a + rank : a)).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        if (axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length) throw c.Unsupported($"axes [{string.Join(", ", axes)}] are not distinct axes of a rank-{rank} input.");
        int given = (scales ?? (object)sizes!) is float[] f ? f.Length : sizes!.Length;
        if (given != axes.Length) throw c.Unsupported($"{(scales is null ? "sizes" : "scales")} has {given} values; {axes.Length} expected (one per resized axis).");
        if (roi is not null && roi.Length != 2 * axes.Length) throw c.Unsupported($"roi has {roi.Length} values; {2 * axes.Length} expected.");

        var transform = upsample || n.Opset == 10 ? CoordinateTransform.Asymmetric : n.String("coordinate_transformation_mode", "half_pixel") switch
        {
            "half_pixel" => CoordinateTransform.HalfPixel,
            "half_pixel_symmetric" => CoordinateTransform.HalfPixelSymmetric,
            "pytorch_half_pixel" => CoordinateTransform.PytorchHalfPixel,
            "align_corners" => CoordinateTransform.AlignCorners,
            "asymmetric" => CoordinateTransform.Asymmetric,
            "tf_half_pixel_for_nn" => CoordinateTransform.TfHalfPixelForNn,
            "tf_crop_and_resize" => CoordinateTransform.TfCropAndResize,
            var other => throw c.Unsupported($"coordinate_transformation_mode '{other}' is not supported."),
        };
        var mode = n.String("mode", "nearest") switch
        {
            "nearest" => ResizeMode.Nearest,
            "linear" or "bilinear" => ResizeMode.Linear,
            "cubic" => ResizeMode.Cubic,
            var other => throw c.Unsupported($"mode '{other}' is not one of nearest, linear, cubic."),
        };
        // Before opset 11 nearest took the floor of the asymmetric coordinate (Upsample's definition).
        var rounding = upsample || n.Opset == 10 ? NearestRounding.Floor : n.String("nearest_mode", "round_prefer_floor") switch
        {
            "round_prefer_floor" => NearestRounding.RoundPreferFloor,
            "round_prefer_ceil" => NearestRounding.RoundPreferCeil,
            "floor" => NearestRounding.Floor,
            "ceil" => NearestRounding.Ceil,
            var other => throw c.Unsupported($"nearest_mode '{other}' is not supported."),
        };

        // Per axis of the input: scale and output length (unlisted axes keep theirs).
        var allScales = Enumerable.Repeat(1f, rank).ToArray();
        var output = (int[])x.Clone();
        var fullRoi = new float[2 * rank];
        for (int a = 0; a < rank; a++) fullRoi[rank + a] = 1f;
        for (int i = 0; i < axes.Length; i++)
            if (roi is not null) { fullRoi[axes[i]] = roi[i]; fullRoi[rank + axes[i]] = roi[axes.Length + i]; }
        bool crop = transform == CoordinateTransform.TfCropAndResize;
        if (scales is not null)
        {
            for (int i = 0; i < axes.Length; i++)
            {
                int a = axes[i];
                if (!(scales[i] > 0)) throw c.Unsupported($"scale {scales[i]} of axis {a} must be positive.");
                allScales[a] = scales[i];
                double span = crop ? fullRoi[rank + a] - fullRoi[a] : 1.0;
                output[a] = (int)Math.Floor(x[a] * span * scales[i]);
            }
        }
        else
        {
            string policy = n.String("keep_aspect_ratio_policy", "stretch");
            double common = policy switch
            {
                "stretch" => double.NaN,
                "not_larger" => axes.Select((a, i) => (double)sizes![i] / x[a]).Min(),
                "not_smaller" => axes.Select((a, i) => (double)sizes![i] / x[a]).Max(),
                _ => throw c.Unsupported($"keep_aspect_ratio_policy '{policy}' is not supported."),
            };
            for (int i = 0; i < axes.Length; i++)
            {
                int a = axes[i];
                if (double.IsNaN(common))
                {
                    output[a] = checked((int)sizes![i]);
                    allScales[a] = (float)output[a] / x[a];
                }
                else
                {
                    output[a] = (int)Math.Round(common * x[a], MidpointRounding.ToEven);
                    allScales[a] = (float)common;
                }
            }
        }
        if (output.Any(d => d < 1) && x.All(d => d > 0)) throw c.Unsupported($"the output shape [{string.Join(", ", output)}] has an empty axis.");
        return new ResizeSpec(x, output, allScales, mode, transform, rounding, n.Float("cubic_coeff_a", -0.75f), n.Int("exclude_outside", 0) != 0,
            crop ? fullRoi : null, n.Float("extrapolation_value", 0f));
    }
}
