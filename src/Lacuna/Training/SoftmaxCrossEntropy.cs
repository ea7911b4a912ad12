namespace Lacuna.Training;

/// <summary>
/// Mean softmax cross-entropy over a batch of logits [N, classes]: L = −(1/N) Σ_n log softmax(z_n)[label_n], with
/// dL/dz = (softmax(z) − onehot(label)) / N. Computed with the max subtracted, in double, so large logits do not overflow.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <param name="logits">[N, classes, 1, 1]</param>
    /// <param name="labels">N labels in [0, classes)</param>
    /// <param name="gradient">[N · classes], overwritten with dL/dlogits; empty to skip</param>
    /// <returns>the mean loss and the number of correct arg-max predictions</returns>
    public static (double Loss, int Correct) Compute(FeatureMap logits, ReadOnlySpan<int> labels, Span<float> gradient)
    {
        int n = logits.N, k = logits.PerImage;
        if (labels.Length != n) ThrowHelper.Shape(nameof(labels), $"{labels.Length} labels for a batch of {n} logits.");
        if (!gradient.IsEmpty) ThrowHelper.IfTooShort(gradient.Length, (long)n * k, nameof(gradient), $"[{n}, {k}]");
        double loss = 0;
        int correct = 0;
        for (int b = 0; b < n; b++)
        {
            var z = logits.Data.AsSpan(b * k, k);
            int label = labels[b];
            if ((uint)label >= (uint)k) ThrowHelper.OutOfRange(nameof(labels), label, $"Label {b} is {label}, outside [0, {k}).");
            int arg = 0;
            float max = z[0];
            for (int i = 1; i < k; i++) if (z[i] > max) { max = z[i]; arg = i; }
            if (float.IsNaN(max) || float.IsInfinity(max))
                throw new ArithmeticException($"Logits of image {b} are not finite ({max}): the training diverged (lower the learning rate).");
            if (arg == label) correct++;
            double sum = 0;
            for (int i = 0; i < k; i++) sum += Math.Exp(z[i] - max);
            loss += Math.Log(sum) - (z[label] - max);
            if (gradient.IsEmpty) continue;
            for (int i = 0; i < k; i++)
                gradient[b * k + i] = (float)((Math.Exp(z[i] - max) / sum - (i == label ? 1 : 0)) / n);
        }
        return (loss / n, correct);
    }
}
