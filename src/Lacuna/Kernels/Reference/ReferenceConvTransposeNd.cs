using Lacuna.Kernels.ConvTranspose;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX ConvTranspose over any number of spatial axes, as a scatter: y[n, g·Mg + m, i·S − padBegin
/// + k·Dil] += x[n, g·Cg + c, i] · w[g·Cg + c, m, k] per axis, then + bias[m]; positions outside the output are
/// dropped. Sums in double.
/// </summary>
public static class ReferenceConvTransposeNd
{
    /// <param name="input">[N, C, D1..DS]</param><param name="weight">[C, M/groups, K1..KS]</param>
    /// <param name="bias">[M] or empty</param><param name="output">[N, M, O1..OS], fully overwritten</param>
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvTransposeNdParams p)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        int s = p.Spatial, n = inputShape[0], c = inputShape[1], m = os[1], cg = c / p.Groups, mg = m / p.Groups;
        int[] inDims = inputShape[2..].ToArray(), outDims = os[2..];
        int inVol = Volume(inDims), outVol = Volume(outDims), kVol = p.KernelVolume;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * inVol, nameof(input), "X [N, C, D1..DS]");
        ThrowHelper.IfTooShort(weight.Length, (long)c * mg * kVol, nameof(weight), "W [C, M/groups, K1..KS]");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * outVol, nameof(output), "Y [N, M, O1..OS]");
        if (!bias.IsEmpty && bias.Length != m) ThrowHelper.Shape(nameof(bias), $"ConvTranspose bias has {bias.Length} values; M = {m}.");
        var acc = new double[outVol];
        Span<int> i = stackalloc int[s], k = stackalloc int[s];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
            {
                int g = oc / mg, mm = oc % mg;
                Array.Fill(acc, bias.IsEmpty ? 0.0 : bias[oc]);
                for (int ic = g * cg; ic < (g + 1) * cg; ic++)
                    for (int inf = 0; inf < inVol; inf++)
                    {
                        ReferenceConvNd.Unravel(inf, inDims, i);
                        double xv = input[(b * c + ic) * inVol + inf];
                        for (int kf = 0; kf < kVol; kf++)
                        {
                            ReferenceConvNd.Unravel(kf, p.Kernel, k);
                            int at = 0; // the output element this tap reaches, or -1 outside the output
                            for (int a = 0; a < s && at >= 0; a++)
                            {
                                int o = i[a] * p.Strides[a] - p.PadsBegin[a] + k[a] * p.Dilations[a];
                                at = (uint)o < (uint)outDims[a] ? at * outDims[a] + o : -1;
                            }
                            if (at >= 0) acc[at] += xv * weight[(ic * mg + mm) * kVol + kf];
                        }
                    }
                for (int e = 0; e < outVol; e++) output[(b * m + oc) * outVol + e] = (float)acc[e];
            }
    }

    private static int Volume(int[] dims) => dims.Aggregate(1, (a, v) => a * v);
}
