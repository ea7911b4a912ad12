using Lacuna.Kernels.ConvTranspose;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX ConvTranspose in 2-D, as a scatter: y[n, g·Mg + m, iy·SH − PadTop + ky·DH, ix·SW − PadLeft +
/// kx·DW] += x[n, g·Cg + c, iy, ix] · w[g·Cg + c, m, ky, kx], then + bias[m]; positions outside the output are dropped.
/// Sums in double.
/// </summary>
public static class ReferenceConvTranspose2d
{
    /// <param name="input">[N, C, H, W]</param><param name="weight">[C, M/groups, KH, KW]</param>
    /// <param name="bias">[M] or empty</param><param name="output">[N, M, OH, OW], fully overwritten</param>
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvTranspose2dParams p)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int m = os[1], oh = os[2], ow = os[3], cg = c / p.Groups, mg = m / p.Groups;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * h * w, nameof(input), "X [N, C, H, W]");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * oh * ow, nameof(output), "Y [N, M, OH, OW]");
        if (!bias.IsEmpty && bias.Length != m) ThrowHelper.Shape(nameof(bias), $"ConvTranspose bias has {bias.Length} values; M = {m}.");
        var acc = new double[oh * ow];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
            {
                int g = oc / mg, mm = oc % mg;
                Array.Fill(acc, bias.IsEmpty ? 0.0 : bias[oc]);
                for (int ic = g * cg; ic < (g + 1) * cg; ic++)
                    for (int iy = 0; iy < h; iy++)
                        for (int ix = 0; ix < w; ix++)
                        {
                            double xv = input[((b * c + ic) * h + iy) * w + ix];
                            for (int ky = 0; ky < p.KernelH; ky++)
                            {
                                int oy = iy * p.StrideH - p.PadTop + ky * p.DilationH;
                                if ((uint)oy >= (uint)oh) continue;
                                for (int kx = 0; kx < p.KernelW; kx++)
                                {
                                    int ox = ix * p.StrideW - p.PadLeft + kx * p.DilationW;
                                    if ((uint)ox >= (uint)ow) continue;
                                    acc[oy * ow + ox] += xv * weight[((ic * mg + mm) * p.KernelH + ky) * p.KernelW + kx];
                                }
                            }
                        }
                for (int i = 0; i < acc.Length; i++) output[(b * m + oc) * oh * ow + i] = (float)acc[i];
            }
    }
}
