using Lacuna.Kernels;
using Lacuna.Threading;

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
            var g = Gathered(n * outImage);
            for (int i = 0; i < n; i++) Gather(x.Slice(i * inImage, inImage), c, h, w, sh, sw, oh, ow, g.Slice(i * outImage, outImage));
            inner(g, y, n);
        };
    }

    /// <summary>
    /// The caller thread's gather buffer, 64-byte aligned: the SpMM reads it in place with 512-bit loads, which an
    /// ArrayPool array (8-byte aligned) made split cache lines.
    /// </summary>
    private static unsafe Span<float> Gathered(int length) =>
        new(AlignedScratch.Get(AlignedScratch.StridedGather, length), length);

    /// <summary>
    /// dst[ch, oy, ox] = x[ch, oy·sh, ox·sw], channels split over the pool when large, stride-2 rows through
    /// <see cref="Deinterleave.Evens"/>. Against the scalar, single-threaded gather into an ArrayPool array, ResNet-50's
    /// downsample shortcuts (DLMC 0.9, batch 1, `run --profile`) went from 2.11 to 1.99 ms on 1 thread and from 1.25
    /// to 1.06 ms on 2 (layer2.0's: 0.61 -> 0.47 and 0.41 -> 0.25 ms).
    /// </summary>
    private static unsafe void Gather(ReadOnlySpan<float> x, int c, int h, int w, int sh, int sw, int oh, int ow, Span<float> dst)
    {
        int threads = WorkerPool.Resolve(0);
        int parts = (long)c * oh * ow < ParallelFrom ? 1 : Math.Min(threads, c);
        fixed (float* px = x, pd = dst)
        {
            float* xs = px, ds = pd;
            if (parts <= 1) { Channels(xs, 0, c, h, w, sh, sw, oh, ow, ds); return; }
            WorkerPool.Shared.Run(parts, part =>
            {
                var (c0, c1) = WorkerPool.Range(c, parts, part);
                Channels(xs, c0, c1, h, w, sh, sw, oh, ow, ds);
            });
        }
    }

    /// <summary>Gathered floats from which a second thread pays for its wake-up.</summary>
    private const int ParallelFrom = 1 << 16;

    private static unsafe void Channels(float* x, int c0, int c1, int h, int w, int sh, int sw, int oh, int ow, float* dst)
    {
        for (int ch = c0; ch < c1; ch++)
            for (int oy = 0; oy < oh; oy++)
            {
                float* row = x + ((long)ch * h + (long)oy * sh) * w, outRow = dst + ((long)ch * oh + oy) * ow;
                if (sw == 2)
                {
                    // Without padding ow = ⌈w/2⌉, so the evens of the first 2·ow - 1 floats are the row's ow outputs.
                    Deinterleave.Evens(row, 2 * ow - 1, outRow);
                    continue;
                }
                for (int ox = 0; ox < ow; ox++) outRow[ox] = row[(long)ox * sw];
            }
    }
}
