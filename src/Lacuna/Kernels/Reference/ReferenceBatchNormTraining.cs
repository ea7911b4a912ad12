namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX BatchNormalization in training mode (opset 14+, training_mode = 1): per channel c the
/// batch statistics over every axis but 1, mean[c] = Σ x / count and var[c] = Σ (x − mean[c])² / count (population
/// variance); y = scale[c] · (x − mean[c]) / sqrt(var[c] + ε) + B[c]; running_mean = input_mean · momentum +
/// mean · (1 − momentum), likewise running_var from input_var and var. All arithmetic in double.
/// </summary>
public static class ReferenceBatchNormTraining
{
    /// <param name="input">[N, C, D...] (rank ≥ 2)</param>
    /// <param name="mean">the running mean read (ONNX input_mean), [C]</param><param name="variance">the running variance read (input_var), [C]</param>
    /// <param name="output">[N, C, D...]</param><param name="runningMean">[C], or empty when not wanted</param><param name="runningVar">[C], or empty</param>
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        Span<float> output, Span<float> runningMean, Span<float> runningVar, float epsilon = 1e-5f, float momentum = 0.9f)
    {
        ReferenceNormalization.CheckBatchNormalization(input.Length, inputShape, scale, bias, mean, variance, output.Length, epsilon);
        int n = inputShape[0], c = inputShape[1], spatial = ReferenceCheck.Product(inputShape[2..]);
        CheckStatistics(runningMean.Length, runningVar.Length, c);
        double count = (double)n * spatial;
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0, squares = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < spatial; i++) sum += input[(b * c + ch) * spatial + i];
            double mu = sum / count;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < spatial; i++) { double d = input[(b * c + ch) * spatial + i] - mu; squares += d * d; }
            double v = squares / count, inv = 1.0 / Math.Sqrt(v + epsilon);
            for (int b = 0; b < n; b++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * c + ch) * spatial + i;
                    output[at] = (float)(scale[ch] * ((input[at] - mu) * inv) + bias[ch]);
                }
            if (!runningMean.IsEmpty) runningMean[ch] = (float)(mean[ch] * (double)momentum + mu * (1.0 - momentum));
            if (!runningVar.IsEmpty) runningVar[ch] = (float)(variance[ch] * (double)momentum + v * (1.0 - momentum));
        }
    }

    /// <summary>The statistics outputs are [C] each, or empty (not wanted); shared with the fast kernel.</summary>
    internal static void CheckStatistics(int meanLength, int varLength, int channels)
    {
        if (meanLength != 0 && meanLength != channels)
            ThrowHelper.Shape("runningMean", $"BatchNormalization: running_mean has {meanLength} elements; the input has {channels} channels.");
        if (varLength != 0 && varLength != channels)
            ThrowHelper.Shape("runningVar", $"BatchNormalization: running_var has {varLength} elements; the input has {channels} channels.");
    }
}
