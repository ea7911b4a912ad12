namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX BatchNormalization (inference), InstanceNormalization, LRN and Softmax/LogSoftmax (opset 13: one axis).
/// Inputs are [N, C, D1, ..., Dk] where a channel axis is involved; all arithmetic in double.
/// </summary>
public static class ReferenceNormalization
{
    /// <summary>
    /// y[n,c,...] = scale[c] · (x[n,c,...] - mean[c]) / sqrt(var[c] + epsilon) + bias[c].
    /// </summary>
    /// <param name="input">[N, C, D...] (rank ≥ 2); output has the same shape and length</param>
    /// <param name="scale">[C]</param><param name="bias">[C] (ONNX input B)</param>
    /// <param name="mean">[C]</param><param name="variance">[C], each var + epsilon must be &gt; 0</param>
    public static void BatchNormalization(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        Span<float> output, float epsilon = 1e-5f)
    {
        CheckBatchNormalization(input.Length, inputShape, scale, bias, mean, variance, output.Length, epsilon);
        int n = inputShape[0];
        int c = inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        {
            double inv = 1.0 / Math.Sqrt((double)variance[ch] + epsilon);
            for (int i = 0; i < spatial; i++)
            {
                int at = (b * c + ch) * spatial + i;
                output[at] = (float)(scale[ch] * ((input[at] - (double)mean[ch]) * inv) + bias[ch]);
            }
        }
    }

    /// <summary>The checks of <see cref="BatchNormalization"/>, shared with the fast kernel.</summary>
    internal static void CheckBatchNormalization(int inputLength, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int outputLength, float epsilon)
    {
        const string op = "BatchNormalization";
        ReferenceCheck.Data(inputLength, inputShape, "input", op);
        if (inputShape.Length < 2)
            ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 2 (N, C, ...); got [{string.Join(", ", inputShape.ToArray())}].");
        int c = inputShape[1];
        CheckChannelVector(scale.Length, c, nameof(scale), inputShape);
        CheckChannelVector(bias.Length, c, nameof(bias), inputShape);
        CheckChannelVector(mean.Length, c, nameof(mean), inputShape);
        CheckChannelVector(variance.Length, c, nameof(variance), inputShape);
        if (!(epsilon >= 0f)) ThrowHelper.OutOfRange(nameof(epsilon), epsilon, $"{op}: epsilon must be non-negative.");
        ThrowHelper.IfTooShort(outputLength, inputLength, "output", "the input shape");
        for (int ch = 0; ch < c; ch++)
            if (!((double)variance[ch] + epsilon > 0))
                ThrowHelper.Argument(nameof(variance), $"{op}: variance[{ch}] + epsilon = {(double)variance[ch] + epsilon} is not positive.");
    }

    private static void CheckChannelVector(int length, int channels, string name, ReadOnlySpan<int> inputShape)
    {
        if (length != channels)
            ThrowHelper.Shape(name, $"BatchNormalization: '{name}' has {length} elements but input [{string.Join(", ", inputShape.ToArray())}] has {channels} channels.");
    }

    /// <summary>
    /// Local response normalization across channels (ONNX LRN):
    /// square_sum[n,c,...] = Σ x[n,i,...]² for i in [max(0, c - floor((size-1)/2)), min(C-1, c + ceil((size-1)/2))];
    /// y = x / (bias + alpha / size · square_sum)^beta.
    /// </summary>
    /// <param name="input">[N, C, D...] (rank ≥ 3); output has the same shape and length</param>
    public static void Lrn(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output,
        int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f)
    {
        CheckLrn(input.Length, inputShape, output.Length, size);

        int n = inputShape[0], c = inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        int before = (size - 1) / 2, after = size - 1 - before; // floor and ceil of (size-1)/2
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < spatial; i++)
        {
            double squares = 0;
            for (int k = Math.Max(0, ch - before); k <= Math.Min(c - 1, ch + after); k++)
            {
                double v = input[(b * c + k) * spatial + i];
                squares += v * v;
            }
            int at = (b * c + ch) * spatial + i;
            output[at] = (float)(input[at] / Math.Pow(bias + (double)alpha / size * squares, beta));
        }
    }

    /// <summary>The checks of <see cref="Lrn"/>, shared with the fast kernel.</summary>
    internal static void CheckLrn(int inputLength, ReadOnlySpan<int> inputShape, int outputLength, int size)
    {
        const string op = "LRN";
        ReferenceCheck.Data(inputLength, inputShape, "input", op);
        if (inputShape.Length < 3)
            ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 3 (N, C, spatial...); got [{string.Join(", ", inputShape.ToArray())}].");
        if (size < 1) ThrowHelper.OutOfRange(nameof(size), size, $"{op}: size must be at least 1.");
        ThrowHelper.IfTooShort(outputLength, inputLength, "output", "the input shape");
    }

    /// <summary>
    /// Softmax along one axis (ONNX opset 13): y = exp(x - max) / Σ exp(x - max) over that axis, every other index fixed.
    /// </summary>
    /// <param name="input">rank ≥ 1; output has the same shape and length</param>
    /// <param name="axis">in [-rank, rank - 1]; default -1</param>
    public static void Softmax(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis = -1) =>
        SoftmaxCore(input, inputShape, output, axis, log: false);

    /// <summary>
    /// LogSoftmax along one axis (ONNX opset 13): y = x - max - log Σ exp(x - max) over that axis, every other index fixed.
    /// </summary>
    public static void LogSoftmax(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis = -1) =>
        SoftmaxCore(input, inputShape, output, axis, log: true);

    private static void SoftmaxCore(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, int axis, bool log)
    {
        int a = CheckSoftmax(input.Length, inputShape, output.Length, axis, log ? "LogSoftmax" : "Softmax");

        int outer = ReferenceCheck.Product(inputShape[..a]);
        int length = inputShape[a];
        int inner = ReferenceCheck.Product(inputShape[(a + 1)..]);
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int start = o * length * inner + i; // element j of this slice is at start + j·inner
            double max = double.NegativeInfinity;
            for (int j = 0; j < length; j++) max = Math.Max(max, input[start + j * inner]);
            double sum = 0;
            for (int j = 0; j < length; j++) sum += Math.Exp(input[start + j * inner] - max);
            double logSum = Math.Log(sum);
            for (int j = 0; j < length; j++)
            {
                double shifted = input[start + j * inner] - max;
                output[start + j * inner] = (float)(log ? shifted - logSum : Math.Exp(shifted) / sum);
            }
        }
    }

    /// <summary>The checks of Softmax and LogSoftmax, shared with the fast kernels; returns the axis in [0, rank).</summary>
    internal static int CheckSoftmax(int inputLength, ReadOnlySpan<int> inputShape, int outputLength, int axis, string op)
    {
        ReferenceCheck.Data(inputLength, inputShape, "input", op);
        if (inputShape.Length < 1) ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 1; got a scalar.");
        int a = ReferenceCheck.Axis(axis, inputShape.Length, nameof(axis), op);
        ThrowHelper.IfTooShort(outputLength, inputLength, "output", "the input shape");
        return a;
    }

    /// <summary>
    /// ONNX InstanceNormalization: per (n, c), mean and (population) variance over the spatial positions;
    /// y = scale[c] · (x - mean) / sqrt(var + epsilon) + bias[c].
    /// </summary>
    /// <param name="input">[N, C, D1, ..., Dk] (rank ≥ 3); output has the same shape and length</param>
    /// <param name="scale">[C]</param><param name="bias">[C] (ONNX input B)</param>
    public static void InstanceNormalization(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        Span<float> output, float epsilon = 1e-5f)
    {
        CheckInstanceNormalization(input.Length, inputShape, scale.Length, bias.Length, output.Length, epsilon);
        int planes = inputShape[0] * inputShape[1], c = inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        for (int plane = 0; plane < planes; plane++)
        {
            var x = input.Slice(plane * spatial, spatial);
            double mean = 0, variance = 0;
            foreach (float v in x) mean += v;
            mean /= spatial;
            foreach (float v in x) variance += (v - mean) * (v - mean);
            variance /= spatial;
            double inv = 1.0 / Math.Sqrt(variance + epsilon);
            int ch = plane % c;
            for (int i = 0; i < spatial; i++)
                output[plane * spatial + i] = (float)(scale[ch] * ((x[i] - mean) * inv) + bias[ch]);
        }
    }

    /// <summary>The checks of <see cref="InstanceNormalization"/>, shared with the fast kernel.</summary>
    internal static void CheckInstanceNormalization(int inputLength, ReadOnlySpan<int> inputShape, int scaleLength, int biasLength, int outputLength, float epsilon)
    {
        const string op = "InstanceNormalization";
        ReferenceCheck.Data(inputLength, inputShape, "input", op);
        if (inputShape.Length < 3)
            ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 3 (N, C, spatial...); got [{string.Join(", ", inputShape.ToArray())}].");
        int c = inputShape[1];
        if (scaleLength != c) ThrowHelper.Shape("scale", $"{op}: 'scale' has {scaleLength} elements but input [{string.Join(", ", inputShape.ToArray())}] has {c} channels.");
        if (biasLength != c) ThrowHelper.Shape("bias", $"{op}: 'bias' has {biasLength} elements but input [{string.Join(", ", inputShape.ToArray())}] has {c} channels.");
        if (!(epsilon >= 0f)) ThrowHelper.OutOfRange(nameof(epsilon), epsilon, $"{op}: epsilon must be non-negative.");
        ThrowHelper.IfTooShort(outputLength, inputLength, "output", "the input shape");
    }
}
