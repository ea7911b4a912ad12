using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// im2col for one image and group: col[(c·KH + kh)·KW + kw, oy·OW + ox] = x[c, oy·SH - PT + kh·DH, ox·SW - PL + kw·DW]
/// (zero outside the image), so the conv is W[Mg × Cg·KH·KW] · col[Cg·KH·KW × OH·OW].
/// Each output row splits into a zero head, an in-image run and a zero tail, computed once per row; with
/// stride 1 the run is one contiguous copy (vectorized memmove), otherwise a strided gather.
/// </summary>
internal static unsafe class Im2Col
{
    /// <param name="image">The group's first input channel: [Cg, H, W].</param>
    /// <param name="col">[Cg·KH·KW, OH·OW]; rows [rowStart, rowEnd) are written.</param>
    public static void Fill(ConvGeometry g, float* image, float* col, int rowStart, int rowEnd)
    {
        int ow = g.OW;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int kw = row % g.KW, kh = row / g.KW % g.KH, c = row / g.Taps;
            float* src = image + (long)c * g.H * g.W;
            float* dst = col + (long)row * g.OutputPixels;
            // Columns ox whose input column ix = ox·SW - d lies in [0, W).
            int d = g.PL - kw * g.DW;
            int lo = d <= 0 ? 0 : (d + g.SW - 1) / g.SW;
            int hi = g.W + d <= 0 ? 0 : (g.W + d + g.SW - 1) / g.SW;
            lo = Math.Min(lo, ow); hi = Math.Clamp(hi, lo, ow);
            for (int oy = 0; oy < g.OH; oy++, dst += ow)
            {
                int iy = oy * g.SH - g.PT + kh * g.DH;
                var outRow = new Span<float>(dst, ow);
                if ((uint)iy >= (uint)g.H) { outRow.Clear(); continue; }
                float* s = src + (long)iy * g.W;
                outRow[..lo].Clear();
                if (g.SW == 1)
                    new ReadOnlySpan<float>(s + lo - d, hi - lo).CopyTo(outRow[lo..]);
                else
                    for (int ox = lo; ox < hi; ox++) dst[ox] = s[ox * g.SW - d];
                outRow[hi..].Clear();
            }
        }
    }

    /// <summary>
    /// All Cg·KH·KW rows of one image and group, split over <paramref name="threads"/> only when each part copies a
    /// fair amount (16K floats).
    /// </summary>
    public static void FillAll(ConvGeometry g, float* image, float* col, int threads)
    {
        int k = g.K;
        int parts = Math.Max(1, Math.Min(threads, (int)Math.Min(k, (long)k * g.OutputPixels / 16384)));
        if (parts == 1) { Fill(g, image, col, 0, k); return; }
        nint pimage = (nint)image, pcol = (nint)col;
        WorkerPool.Shared.Run(parts, part =>
        {
            var (s, e) = WorkerPool.Range(k, parts, part);
            Fill(g, (float*)pimage, (float*)pcol, s, e);
        });
    }
}
