namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the two backward passes of <see cref="ReferenceConv2d"/> (no activation, any stride,
/// padding, dilation and groups), plain loops with double accumulation. With
/// y[n,m,oh,ow] = Σ_{c,kh,kw} w[m,c,kh,kw] · x[n, g·Cg + c, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw]:
/// dx[n, g·Cg + c, ih, iw] = Σ over (m in group g, kh, kw, oh, ow) with ih = oh·sh - pt + kh·dh, iw = ow·sw - pl + kw·dw of w[m,c,kh,kw] · dy[n,m,oh,ow];
/// dw[m,c,kh,kw] = Σ_{n,oh,ow} x[n, g·Cg + c, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw] · dy[n,m,oh,ow] (zero outside the image).
/// </summary>
public static class ReferenceConv2dBackward
{
    /// <param name="outputGradient">dy [N, M, OH, OW]</param>
    /// <param name="weight">[M, C/groups, KH, KW]</param>
    /// <param name="inputGradient">dx [N, C, H, W], fully overwritten</param>
    public static void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        Span<float> inputGradient, ReadOnlySpan<int> inputShape, Conv2dParams p)
    {
        var (n, c, h, w, m, oh, ow, cg, mg) = Dims(inputShape, weightShape, p);
        ThrowHelper.IfTooShort(outputGradient.Length, (long)n * m * oh * ow, nameof(outputGradient), "the output shape");
        ThrowHelper.IfTooShort(weight.Length, (long)m * cg * p.KernelH * p.KernelW, nameof(weight), "the weight shape");
        ThrowHelper.IfTooShort(inputGradient.Length, (long)n * c * h * w, nameof(inputGradient), "the input shape");
        var acc = new double[(long)n * c * h * w];
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < m; oc++)
        {
            int g = oc / mg;
            for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                double d = outputGradient[((b * m + oc) * oh + y) * ow + x];
                for (int ic = 0; ic < cg; ic++)
                for (int kh = 0; kh < p.KernelH; kh++)
                {
                    int iy = y * p.StrideH - p.PadTop + kh * p.DilationH;
                    if ((uint)iy >= (uint)h) continue;
                    for (int kw = 0; kw < p.KernelW; kw++)
                    {
                        int ix = x * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if ((uint)ix >= (uint)w) continue;
                        acc[((b * c + g * cg + ic) * h + iy) * w + ix] += d * weight[((oc * cg + ic) * p.KernelH + kh) * p.KernelW + kw];
                    }
                }
            }
        }
        for (int i = 0; i < acc.Length; i++) inputGradient[i] = (float)acc[i];
    }

    /// <param name="input">x [N, C, H, W]</param>
    /// <param name="outputGradient">dy [N, M, OH, OW]</param>
    /// <param name="weightGradient">dw [M, C/groups, KH, KW], fully overwritten</param>
    public static void BackwardWeights(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> outputGradient,
        Span<float> weightGradient, ReadOnlySpan<int> weightShape, Conv2dParams p)
    {
        var (n, c, h, w, m, oh, ow, cg, mg) = Dims(inputShape, weightShape, p);
        ThrowHelper.IfTooShort(input.Length, (long)n * c * h * w, nameof(input), "the input shape");
        ThrowHelper.IfTooShort(outputGradient.Length, (long)n * m * oh * ow, nameof(outputGradient), "the output shape");
        ThrowHelper.IfTooShort(weightGradient.Length, (long)m * cg * p.KernelH * p.KernelW, nameof(weightGradient), "the weight shape");
        for (int oc = 0; oc < m; oc++)
        {
            int g = oc / mg;
            for (int ic = 0; ic < cg; ic++)
            for (int kh = 0; kh < p.KernelH; kh++)
            for (int kw = 0; kw < p.KernelW; kw++)
            {
                double acc = 0;
                for (int b = 0; b < n; b++)
                for (int y = 0; y < oh; y++)
                {
                    int iy = y * p.StrideH - p.PadTop + kh * p.DilationH;
                    if ((uint)iy >= (uint)h) continue;
                    for (int x = 0; x < ow; x++)
                    {
                        int ix = x * p.StrideW - p.PadLeft + kw * p.DilationW;
                        if ((uint)ix >= (uint)w) continue;
                        acc += (double)input[((b * c + g * cg + ic) * h + iy) * w + ix] * outputGradient[((b * m + oc) * oh + y) * ow + x];
                    }
                }
                weightGradient[((oc * cg + ic) * p.KernelH + kh) * p.KernelW + kw] = (float)acc;
            }
        }
    }

    private static (int N, int C, int H, int W, int M, int OH, int OW, int Cg, int Mg) Dims(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> weightShape, Conv2dParams p)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        int[] os = p.OutputShape(inputShape, weightShape);
        int c = inputShape[1], m = os[1];
        return (inputShape[0], c, inputShape[2], inputShape[3], m, os[2], os[3], c / p.Groups, m / p.Groups);
    }
}
