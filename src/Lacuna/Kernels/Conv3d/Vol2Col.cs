namespace Lacuna.Kernels.Conv3d;

/// <summary>
/// The 3-D im2col: for one image and group, the column block Col [Cg·KD·KH·KW × rows·OW] of output rows
/// [row0, row0 + rows) (an output row is one (od, oh) pair, OW pixels): row r = ((ic·KD + kd)·KH + kh)·KW + kw holds,
/// per output pixel, the input element under that tap, or 0 in the padding. Rows of taps are independent, so a caller
/// may fill any range of them on its own thread. Each output row splits into a zero head, an in-volume run and a zero
/// tail computed once per tap; the run is a copy at stride 1, the even elements (<see cref="Deinterleave.Evens"/>) at
/// stride 2 and a gather otherwise. The (od, oh) walk steps without a division per row: with rows of a few dozen
/// pixels the per-row bookkeeping, not the copying, was most of the time (a 32x16x3x3x3 layer on 8x28x28: 1.56 ms of
/// vol2col beside a 1.79 ms GEMM, before).
/// </summary>
internal static unsafe class Vol2Col
{
    /// <summary>Input and output extents of one 3-D convolution: D, H, W in; OD, OH, OW out.</summary>
    internal readonly record struct Extents(int D, int H, int W, int OD, int OH, int OW);

    /// <param name="x">The group's input channels [Cg, D, H, W].</param>
    /// <param name="col">The column block, [tapRows of the whole group × rows·OW]; rows [tap0, tap1) are written.</param>
    public static void Fill(float* x, Extents e, ConvNdParams p, int row0, int rows, float* col, int tap0, int tap1)
    {
        int kd = p.Kernel[0], kh = p.Kernel[1], kw = p.Kernel[2], ow = e.OW, cols = rows * ow, plane = e.H * e.W;
        int sd = p.Strides[0], sh = p.Strides[1], sw = p.Strides[2];
        for (int tap = tap0; tap < tap1; tap++)
        {
            int t = tap, dx = t % kw; t /= kw;
            int dy = t % kh; t /= kh;
            int dz = t % kd, ic = t / kd;
            float* channel = x + (long)ic * e.D * plane, dst = col + (long)tap * cols;
            int offD = dz * p.Dilations[0] - p.PadsBegin[0], offH = dy * p.Dilations[1] - p.PadsBegin[1], offW = dx * p.Dilations[2] - p.PadsBegin[2];
            // Output columns whose input column ow·SW + offW lies in [0, W): [ow0, ow1).
            int ow0 = Math.Min(ow, offW >= 0 ? 0 : (-offW + sw - 1) / sw);
            int ow1 = Math.Max(ow0, e.W - 1 - offW < 0 ? 0 : Math.Min(ow, (e.W - 1 - offW) / sw + 1));
            int run = ow1 - ow0;
            int od = row0 / e.OH, oh = row0 % e.OH;
            for (int r = 0; r < rows; r++, dst += ow)
            {
                int id = od * sd + offD, ih = oh * sh + offH;
                if (++oh == e.OH) { oh = 0; od++; }
                if ((uint)id >= (uint)e.D || (uint)ih >= (uint)e.H || run == 0) { new Span<float>(dst, ow).Clear(); continue; }
                float* src = channel + (long)id * plane + (long)ih * e.W + offW + (long)ow0 * sw;
                for (int i = 0; i < ow0; i++) dst[i] = 0f;
                if (sw == 1) Buffer.MemoryCopy(src, dst + ow0, (long)run * sizeof(float), (long)run * sizeof(float));
                else if (sw == 2) Deinterleave.Evens(src, 2 * run - 1, dst + ow0);
                else for (int i = 0; i < run; i++) dst[ow0 + i] = src[(long)i * sw];
                for (int i = ow1; i < ow; i++) dst[i] = 0f;
            }
        }
    }
}
