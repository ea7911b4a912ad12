namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of N-D convolution (ONNX Conv over any number of spatial axes, cross-correlation): plain loops
/// over every output element and every kernel tap, double accumulation, zero padding, groups and dilation.
/// y[n, m, o] = act(bias[m] + Σ_{c, k} w[m, c, k] · x[n, g·Cg + c, o·s − padBegin + k·d]) per spatial axis.
/// </summary>
public static class ReferenceConvNd
{
    /// <param name="input">[N, C, D1..DS]</param>
    /// <param name="weight">[M, C/groups, K1..KS]</param>
    /// <param name="bias">[M] or empty</param>
    /// <param name="output">[N, M, O1..OS], fully overwritten</param>
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvNdParams p, Activation activation = default)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        int s = p.Spatial, n = inputShape[0], c = inputShape[1], m = os[1], cg = c / p.Groups, mg = m / p.Groups;
        int[] inDims = inputShape[2..].ToArray(), outDims = os[2..];
        int inVol = Volume(inDims), outVol = Volume(outDims), kVol = p.KernelVolume;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * inVol, nameof(input), "the input shape");
        ThrowHelper.IfTooShort(weight.Length, (long)m * cg * kVol, nameof(weight), "the weight shape");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * outVol, nameof(output), "the output shape");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");

        Span<int> o = stackalloc int[s], k = stackalloc int[s];
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < m; oc++)
        {
            int g = oc / mg;
            for (int of = 0; of < outVol; of++)
            {
                Unravel(of, outDims, o);
                double acc = bias.IsEmpty ? 0 : bias[oc];
                for (int ic = 0; ic < cg; ic++)
                for (int kf = 0; kf < kVol; kf++)
                {
                    Unravel(kf, p.Kernel, k);
                    // The input element under this tap, or -1 where it falls in the padding.
                    int at = 0;
                    for (int a = 0; a < s && at >= 0; a++)
                    {
                        int i = o[a] * p.Strides[a] - p.PadsBegin[a] + k[a] * p.Dilations[a];
                        at = (uint)i < (uint)inDims[a] ? at * inDims[a] + i : -1;
                    }
                    if (at >= 0) acc += (double)weight[(oc * cg + ic) * kVol + kf] * input[(b * c + g * cg + ic) * inVol + at];
                }
                output[(b * m + oc) * outVol + of] = activation.Apply((float)acc);
            }
        }
    }

    private static int Volume(int[] dims) => dims.Aggregate(1, (a, v) => a * v);

    /// <summary>Row-major multi-index of flat position <paramref name="flat"/> in <paramref name="dims"/>.</summary>
    internal static void Unravel(int flat, int[] dims, Span<int> index)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            index[a] = flat % dims[a];
            flat /= dims[a];
        }
    }
}
