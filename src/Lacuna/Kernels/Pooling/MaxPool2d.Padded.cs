using System.Buffers;

namespace Lacuna.Kernels.Pooling;

// Stride-1 max pools (Inception's 3x3/1 "same" pools) as one flat pass over a plane padded with -inf
// (PaddedPlaneWindows), so no window is clipped: the whole-plane passes of the row path still took edge columns tap by
// tap and the first and last rows through some eight short vector loops each.
public static partial class MaxPool2d
{
    private static bool UsesPaddedPlanes(Pool2dParams p, int h, int w, int oh, int ow) =>
        p.StrideH == 1 && p.StrideW == 1 && PoolPlanes.PaddedSize(p, h, w, oh, ow) is not null;

    /// <summary>
    /// Planes [p0, p1): each copied into the -inf padded plane, every window's maximum in one pass
    /// (<see cref="PaddedPlaneWindows.Max"/>: kernel rows first, then columns; padding never wins, NaN propagates), and
    /// output row oy copied out from acc[oy·Wp].
    /// </summary>
    private static unsafe void PaddedPlanes(ReadOnlySpan<float> x, Span<float> y, int p0, int p1, Pool2dParams p, int h, int w, int oh, int ow)
    {
        var (hp, wp) = PoolPlanes.PaddedSize(p, h, w, oh, ow)!.Value;
        int n = (oh - 1) * wp + ow;
        var pool = ArrayPool<float>.Shared;
        float[] padded = pool.Rent(hp * wp), acc = pool.Rent(n);
        try
        {
            padded.AsSpan(0, hp * wp).Fill(float.NegativeInfinity); // the border stays: only the interior is rewritten per plane
            fixed (float* ps = x, pd = y, pp = padded, pa = acc)
                for (int c = p0; c < p1; c++)
                {
                    float* src = ps + (long)c * h * w, dst = pd + (long)c * oh * ow;
                    for (int r = 0; r < h; r++) PaddedPlaneWindows.CopyRow(src + r * w, pp + (r + p.PadTop) * wp + p.PadLeft, w);
                    PaddedPlaneWindows.Run<PaddedPlaneWindows.Max>(pp, wp, n, p.KernelH, p.KernelW, p.DilationH, p.DilationW, pa);
                    for (int oy = 0; oy < oh; oy++) PaddedPlaneWindows.CopyRow(pa + oy * wp, dst + oy * ow, ow);
                }
        }
        finally
        {
            pool.Return(padded);
            pool.Return(acc);
        }
    }
}
