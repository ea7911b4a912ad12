using System.Buffers;
using Lacuna.Kernels;

namespace Lacuna.Graph.Ops;

/// <summary>
/// A 1x1 convolution with stride s > 1 and no padding (ResNet's downsample shortcuts) reads only every s-th row
/// and column: gathering those into a dense [C, OH·OW] image first turns it into a stride-1 pointwise product, which
/// the pointwise GEMM and CSR SpMM run far better than the stride-phase-split direct kernels do (DLMC 0.95,
/// batch 1: layer2.0.downsample 1.36 ms in direct sparse conv, where its 1/20 of 205 MFLOP should take ~0.2 ms).
/// </summary>
internal static class StridedPointwise
{
    public static bool Applies(int[] weightShape, Conv2dParams p) =>
        weightShape[2] == 1 && weightShape[3] == 1 && (p.StrideH > 1 || p.StrideW > 1) && p.Groups == 1
        && p.DilationH == 1 && p.DilationW == 1 && p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0;

    /// <summary>
    /// Wraps <paramref name="inner"/>, a stride-1 pointwise kernel over [n, C, OH, OW] inputs, so it takes the
    /// [n, C, H, W] input of the strided conv.
    /// </summary>
    public static Action<ReadOnlySpan<float>, Span<float>, int> Wrap(int c, int h, int w, Conv2dParams p,
        Action<ReadOnlySpan<float>, Span<float>, int> inner)
    {
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w), sh = p.StrideH, sw = p.StrideW;
        int inImage = c * h * w, outImage = c * oh * ow;
        return (x, y, n) =>
        {
            var gathered = ArrayPool<float>.Shared.Rent(n * outImage);
            try
            {
                var g = gathered.AsSpan(0, n * outImage);
                for (int i = 0; i < n; i++) Gather(x.Slice(i * inImage, inImage), c, h, w, sh, sw, oh, ow, g.Slice(i * outImage, outImage));
                inner(g, y, n);
            }
            finally { ArrayPool<float>.Shared.Return(gathered); }
        };
    }

    /// <summary>dst[ch, oy, ox] = x[ch, oy·sh, ox·sw].</summary>
    private static void Gather(ReadOnlySpan<float> x, int c, int h, int w, int sh, int sw, int oh, int ow, Span<float> dst)
    {
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
            {
                var row = x.Slice(ch * h * w + oy * sh * w, w);
                var outRow = dst.Slice((ch * oh + oy) * ow, ow);
                for (int ox = 0; ox < outRow.Length; ox++) outRow[ox] = row[ox * sw];
            }
    }
}
