namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the transformer layer functions other than attention (<see cref="ReferenceAttention"/>):
/// LayerNormalization over the last axis with an optional residual add before it, and Gelu
/// (<see cref="ReferenceMath.Gelu"/>, <see cref="ReferenceMath.GeluTanh"/>). All arithmetic in double.
/// </summary>
public static class ReferenceTransformer
{
    /// <summary>
    /// Per row of <paramref name="width"/>: s = x (+ residual); y = (s − mean(s)) / √(var(s) + ε)·gamma + beta. ONNX's
    /// optional outputs: <paramref name="mean"/> and <paramref name="invStdDev"/> [rows] (1/√(var + ε)), or empty.
    /// </summary>
    public static void LayerNorm(ReadOnlySpan<float> x, int width, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        float epsilon = 1e-5f, ReadOnlySpan<float> residual = default, Span<float> mean = default, Span<float> invStdDev = default)
    {
        CheckLayerNorm(x.Length, width, gamma.Length, beta.Length, y.Length, epsilon, residual.Length);
        var s = new double[width];
        for (int r = 0; r < x.Length / Math.Max(1, width); r++)
        {
            double m = 0, variance = 0;
            for (int i = 0; i < width; i++) m += s[i] = x[r * width + i] + (residual.IsEmpty ? 0.0 : residual[r * width + i]);
            m /= width;
            for (int i = 0; i < width; i++) variance += (s[i] - m) * (s[i] - m);
            double rstd = 1 / Math.Sqrt(variance / width + epsilon);
            for (int i = 0; i < width; i++)
                y[r * width + i] = (float)((s[i] - m) * rstd * gamma[i] + (beta.IsEmpty ? 0 : beta[i]));
            if (!mean.IsEmpty) mean[r] = (float)m;
            if (!invStdDev.IsEmpty) invStdDev[r] = (float)rstd;
        }
    }

    /// <summary>y = Gelu(x) elementwise, exact or tanh form.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y, bool tanh = false)
    {
        if (y.Length < x.Length) ThrowHelper.Argument(nameof(y), $"Gelu: output has {y.Length} elements, input {x.Length}.");
        for (int i = 0; i < x.Length; i++) y[i] = (float)(tanh ? ReferenceMath.GeluTanh(x[i]) : ReferenceMath.Gelu(x[i]));
    }

    /// <summary>
    /// A fully connected layer on token rows: y[t, o] = act(Σ_i x[t, i]·w[o, i] + bias[o]), x [tokens × in],
    /// w [out × in], y [tokens × out]; act is applied through <paramref name="activation"/> (null: none).
    /// </summary>
    public static void TokenLinear(ReadOnlySpan<float> x, int tokens, ReadOnlySpan<float> w, int outFeatures, int inFeatures,
        ReadOnlySpan<float> bias, Span<float> y, Func<double, double>? activation = null)
    {
        ThrowHelper.IfTooShort(x.Length, (long)tokens * inFeatures, "x", $"[{tokens} × {inFeatures}]");
        ThrowHelper.IfTooShort(w.Length, (long)outFeatures * inFeatures, "w", $"[{outFeatures} × {inFeatures}]");
        ThrowHelper.IfTooShort(y.Length, (long)tokens * outFeatures, "y", $"[{tokens} × {outFeatures}]");
        for (int t = 0; t < tokens; t++)
            for (int o = 0; o < outFeatures; o++)
            {
                double acc = bias.IsEmpty ? 0 : bias[o];
                for (int i = 0; i < inFeatures; i++) acc += (double)x[t * inFeatures + i] * w[o * inFeatures + i];
                y[t * outFeatures + o] = (float)(activation is null ? acc : activation(acc));
            }
    }

    /// <summary>The checks of <see cref="LayerNorm"/>, shared with the fast kernel.</summary>
    internal static void CheckLayerNorm(int xLength, int width, int gammaLength, int betaLength, int yLength, float epsilon, int residualLength)
    {
        const string op = "LayerNormalization";
        if (width <= 0) ThrowHelper.OutOfRange(nameof(width), width, $"{op}: the normalized width must be positive, got {width}.");
        if (xLength % width != 0) ThrowHelper.Shape("x", $"{op}: input of {xLength} floats is not a whole number of rows of width {width}.");
        if (gammaLength != width) ThrowHelper.Shape("gamma", $"{op}: scale has {gammaLength} elements, the normalized width is {width}.");
        if (betaLength != 0 && betaLength != width) ThrowHelper.Shape("beta", $"{op}: bias has {betaLength} elements, the normalized width is {width}.");
        if (residualLength != 0 && residualLength != xLength) ThrowHelper.Shape("residual", $"{op}: residual has {residualLength} floats, the input {xLength}.");
        if (!(epsilon >= 0)) ThrowHelper.OutOfRange(nameof(epsilon), epsilon, $"{op}: epsilon must be ≥ 0, got {epsilon}.");
        ThrowHelper.IfTooShort(yLength, xLength, "y", "the input's rows");
    }
}
