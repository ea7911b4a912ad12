using System.Buffers;
using Lacuna.Threading;

namespace Lacuna.Kernels.ConvTranspose;

/// <summary>
/// ConvTranspose as the adjoint of im2col: per image and group, one GEMM Col [Mg·KH·KW × H·W] = Wgᵀ · Xg (Wg the
/// group's [Cg × Mg·KH·KW] weight rows, read transposed; Xg [Cg × H·W]), then col2im adds every column row into the
/// output at its kernel offset, over a bias-filled output. The GEMM is the repo's (every tier, threaded); col2im is a
/// sequence of contiguous row adds where the stride is 1 and a strided scatter otherwise. Same contract as
/// <see cref="Reference.ReferenceConvTranspose2d"/>.
/// </summary>
public static class ConvTranspose2d
{
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvTranspose2dParams p, int threads = 0)
    {
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int m = os[1], oh = os[2], ow = os[3], cg = c / p.Groups, mg = m / p.Groups;
        int kk = p.KernelH * p.KernelW, rows = mg * kk, hw = h * w, ohw = oh * ow;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * hw, nameof(input), "X [N, C, H, W]");
        ThrowHelper.IfTooShort(weight.Length, (long)c * rows, nameof(weight), "W [C, M/groups, KH, KW]");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * ohw, nameof(output), "Y [N, M, OH, OW]");
        if (!bias.IsEmpty && bias.Length != m) ThrowHelper.Shape(nameof(bias), $"ConvTranspose bias has {bias.Length} values; M = {m}.");
        var col = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * hw));
        try
        {
            for (int b = 0; b < n; b++)
                for (int g = 0; g < p.Groups; g++)
                {
                    if (hw > 0 && cg > 0)
                        Gemm.Compute(rows, hw, cg, weight.Slice(g * cg * rows, cg * rows), rows, true,
                            input.Slice((b * c + g * cg) * hw, cg * hw), hw, false, col, hw, threads: threads);
                    else Array.Clear(col, 0, rows * hw);
                    for (int mm = 0; mm < mg; mm++)
                    {
                        int oc = g * mg + mm;
                        var y = output.Slice((b * m + oc) * ohw, ohw);
                        y.Fill(bias.IsEmpty ? 0f : bias[oc]);
                        Col2Im(col.AsSpan(mm * kk * hw, kk * hw), h, w, y, oh, ow, p);
                    }
                }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
        }
    }

    /// <summary>Adds one output channel's KH·KW column rows [kk × H·W] into its plane y [OH × OW].</summary>
    private static void Col2Im(ReadOnlySpan<float> col, int h, int w, Span<float> y, int oh, int ow, ConvTranspose2dParams p)
    {
        for (int ky = 0; ky < p.KernelH; ky++)
            for (int kx = 0; kx < p.KernelW; kx++)
            {
                var row = col.Slice((ky * p.KernelW + kx) * h * w, h * w);
                int dx = kx * p.DilationW - p.PadLeft;
                // Input columns ix whose output column ix·SW + dx lies in [0, OW).
                int ix0 = dx >= 0 ? 0 : (-dx + p.StrideW - 1) / p.StrideW;
                int ix1 = Math.Min(w, (ow - 1 - dx) / p.StrideW + 1);
                if (ow - 1 - dx < 0 || ix0 >= ix1) continue;
                for (int iy = 0; iy < h; iy++)
                {
                    int oy = iy * p.StrideH - p.PadTop + ky * p.DilationH;
                    if ((uint)oy >= (uint)oh) continue;
                    var src = row.Slice(iy * w, w);
                    var dst = y.Slice(oy * ow, ow);
                    if (p.StrideW == 1)
                        System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(ix0 + dx, ix1 - ix0), src[ix0..ix1], dst.Slice(ix0 + dx, ix1 - ix0));
                    else
                        for (int ix = ix0; ix < ix1; ix++) dst[ix * p.StrideW + dx] += src[ix];
                }
            }
    }
}
