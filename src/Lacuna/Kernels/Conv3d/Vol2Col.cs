namespace Lacuna.Kernels.Conv3d;

/// <summary>
/// The 3-D im2col: for one image and group, the column block Col [Cg·KD·KH·KW × rows·OW] of output rows
/// [row0, row0 + rows) (an output row is one (od, oh) pair, OW pixels): row r = ((ic·KD + kd)·KH + kh)·KW + kw holds,
/// per output pixel, the input element under that tap, or 0 in the padding. Rows of taps are independent, so a caller
/// may fill any range of them on its own thread.
/// </summary>
internal static class Vol2Col
{
    /// <summary>Input and output extents of one 3-D convolution: D, H, W in; OD, OH, OW out.</summary>
    internal readonly record struct Extents(int D, int H, int W, int OD, int OH, int OW);

    /// <param name="x">The group's input channels [Cg, D, H, W].</param>
    /// <param name="col">The column block, [tapRows of the whole group × rows·OW]; rows [tap0, tap1) are written.</param>
    public static void Fill(ReadOnlySpan<float> x, Extents e, ConvNdParams p, int row0, int rows, Span<float> col, int tap0, int tap1)
    {
        int kd = p.Kernel[0], kh = p.Kernel[1], kw = p.Kernel[2], cols = rows * e.OW, plane = e.H * e.W;
        for (int tap = tap0; tap < tap1; tap++)
        {
            int t = tap, dx = t % kw; t /= kw;
            int dy = t % kh; t /= kh;
            int dz = t % kd, ic = t / kd;
            var channel = x.Slice(ic * e.D * plane, e.D * plane);
            var dst = col.Slice(tap * cols, cols);
            int offW = dx * p.Dilations[2] - p.PadsBegin[2], sw = p.Strides[2];
            // Output columns whose input column ow·SW + offW lies in [0, W): [ow0, ow1).
            int ow0 = offW >= 0 ? 0 : (-offW + sw - 1) / sw;
            int ow1 = e.W - 1 - offW < 0 ? 0 : Math.Min(e.OW, (e.W - 1 - offW) / sw + 1);
            ow1 = Math.Max(ow0, ow1);
            for (int r = 0; r < rows; r++)
            {
                int q = row0 + r, od = q / e.OH, oh = q % e.OH;
                int id = od * p.Strides[0] - p.PadsBegin[0] + dz * p.Dilations[0];
                int ih = oh * p.Strides[1] - p.PadsBegin[1] + dy * p.Dilations[1];
                var d = dst.Slice(r * e.OW, e.OW);
                if ((uint)id >= (uint)e.D || (uint)ih >= (uint)e.H || ow0 == ow1) { d.Clear(); continue; }
                var src = channel.Slice(id * plane + ih * e.W, e.W);
                d[..ow0].Clear();
                if (sw == 1) src.Slice(ow0 + offW, ow1 - ow0).CopyTo(d[ow0..ow1]);
                else for (int ow = ow0; ow < ow1; ow++) d[ow] = src[ow * sw + offW];
                d[ow1..].Clear();
            }
        }
    }
}
