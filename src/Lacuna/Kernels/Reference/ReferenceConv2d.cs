namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of 2-D convolution (ONNX Conv, cross-correlation): plain loops over every output
/// element, double accumulation, zero padding, groups and dilation.
/// y[n,m,oh,ow] = act(bias[m] + Σ_{c,kh,kw} w[m,c,kh,kw] · x[n, g·Cg + c, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw]).
/// </summary>
public static class ReferenceConv2d
{
    /// <param name="input">[N, C, H, W]</param>
    /// <param name="weight">[M, C/groups, KH, KW]</param>
    /// <param name="bias">[M] or empty</param>
    /// <param name="output">[N, M, OH, OW], fully overwritten</param>
    public static void Compute(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias,
        Span<float> output,
        Conv2dParams p,
        Activation activation = default)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int m = os[1], oh = os[2], ow = os[3];
        int cg = c / p.Groups, mg = m / p.Groups;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * h * w, nameof(input), "the input shape");
        ThrowHelper.IfTooShort(weight.Length, (long)m * cg * p.KernelH * p.KernelW, nameof(weight), "the weight shape");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * oh * ow, nameof(output), "the output shape");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");

        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < m; oc++)
        {
            int g = oc / mg;
            for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                double acc = bias.IsEmpty ? 0 : bias[oc];
                for (int ic = 0; ic < cg; ic++)
                for (int kh = 0; kh < p.KernelH; kh++)
                {
                    int iy = y * p.StrideH - p.PadTop + kh * p.DilationH;
                    if ((uint)iy >= (uint)h) continue;
                    for (int kw = 0; kw < p.KernelW; kw++)
                    {
                        int ix = x * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if ((uint)ix >= (uint)w) continue;
                        double wv = weight[((oc * cg + ic) * p.KernelH + kh) * p.KernelW + kw];
                        double xv = input[((b * c + g * cg + ic) * h + iy) * w + ix];
                        acc += wv * xv;
                    }
                }
                output[((b * m + oc) * oh + y) * ow + x] = activation.Apply((float)acc);
            }
        }
    }
}
