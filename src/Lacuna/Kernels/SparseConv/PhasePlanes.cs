using Lacuna.Threading;

namespace Lacuna.Kernels.SparseConv;

/// <summary>
/// The zero-padded input of one image, split into stride phases so every tap of every output pixel is a
/// contiguous read. Padded input row r = sh·i + qh, column s = sw·j + qw goes to plane (c, qh, qw) at [i, j];
/// a plane is [Hq × Wq] with Hq = ceil(Hp/sh), Wq = ceil(Wp/sw). Output pixel (oy, ox) and tap (kh, kw) read
/// plane (c, (kh·dh) mod sh, (kw·dw) mod sw) at [oy + kh·dh div sh, ox + kw·dw div sw], so over the flattened
/// output grid g = oy·Wq + ox the read address is g + (a per-tap constant): the kernels' column offsets.
/// Grid points with ox ≥ OW are computed and dropped. Length: C·sh·sw·Hq·Wq + <see cref="Slack"/>.
/// </summary>
internal sealed class PhasePlanes
{
    /// <summary>Floats after the last plane that vector reads of dropped grid points may touch (kept zero).</summary>
    public readonly int Slack;

    public readonly int C, H, W, SH, SW, PT, PL, Hq, Wq;

    /// <summary>Plane rows a block of output rows reads beyond its own count (the kernel's height in plane rows).</summary>
    public readonly int ExtraRows;

    public PhasePlanes(int c, int h, int w, Conv2dParams p, int outputH)
    {
        C = c; H = h; W = w; SH = p.StrideH; SW = p.StrideW; PT = p.PadTop; PL = p.PadLeft;
        int hp = h + p.PadTop + p.PadBottom, wp = w + p.PadLeft + p.PadRight;
        Hq = (hp + SH - 1) / SH;
        Wq = (wp + SW - 1) / SW;
        // Make sure the deepest tap of the last output row stays inside its plane (Hq can be short when
        // the bottom pad is asymmetric), then allow one row plus a full register tile of overrun.
        int maxA = (p.KernelH - 1) * p.DilationH / SH;
        ExtraRows = maxA;
        Hq = Math.Max(Hq, outputH + maxA);
        Slack = Wq + 64;
    }

    public int PlaneSize => Hq * Wq;

    /// <summary>Bytes of planes one block of output rows should touch: most of a 512 KiB L2.</summary>
    private const int BlockBytes = 320 * 1024;

    /// <summary>
    /// Output rows per block when a direct conv runs output rows in blocks with its channels inside: every output
    /// channel reads the same few input rows of every plane, so a block's window stays in L2 across channels instead of
    /// each channel streaming the whole image from L3 or memory (VGG-16 64@224 has 13 MB of planes). At least ~512
    /// grid points per block, so the 64-point tiles are not dominated by partial passes.
    /// </summary>
    public int RowsPerBlock(int outputRows)
    {
        long rowBytes = (long)C * SH * SW * Wq * sizeof(float);
        long fitRows = BlockBytes / Math.Max(1, rowBytes) - ExtraRows;
        return (int)Math.Clamp(Math.Max(fitRows, (512 + Wq - 1) / Wq), 1, outputRows);
    }
    public long Length => (long)C * SH * SW * PlaneSize + Slack;

    /// <summary>Offset of tap (c, kh, kw) relative to grid point 0.</summary>
    public int TapOffset(int c, int kh, int kw, int dh, int dw)
    {
        int rh = kh * dh, rw = kw * dw;
        int plane = (c * SH + rh % SH) * SW + rw % SW;
        return plane * PlaneSize + rh / SH * Wq + rw / SW;
    }

    /// <summary>
    /// Fills <paramref name="dst"/> (length ≥ <see cref="Length"/>) from one image [C, H, W], channels split over
    /// <paramref name="threads"/> parts of the pool: a serial fill was the part of every direct sparse conv that
    /// did not speed up with a second thread (ResNet-50 at 0.95, batch 1: 3x3/2 layers 0.89 ms on 1 thread, 0.86 on 2).
    /// </summary>
    public unsafe void Fill(float* image, float* dst, int threads = 1)
    {
        // Below ~64 K floats a second thread's wake-up costs more than the copy it takes over, and so does a part of
        // fewer than 8 channels: the stem's 3-channel fill took 111 µs on 2 threads, 63 µs on 1.
        int parts = Math.Min(Math.Max(1, threads), C / 8);
        if (parts <= 1 || Length < (1 << 16)) { FillChannels(image, dst, 0, C); return; }
        float* img = image, d = dst;
        WorkerPool.Shared.Run(parts, part =>
        {
            var (c0, c1) = WorkerPool.Range(C, parts, part);
            FillChannels(img, d, c0, c1);
        });
    }

    /// <summary>Clears and fills the planes of channels [c0, c1) (and the slack after the last plane with the last channel).</summary>
    private unsafe void FillChannels(float* image, float* dst, int c0, int c1)
    {
        long perChannel = (long)SH * SW * PlaneSize;
        long start = c0 * perChannel, end = c1 == C ? Length : c1 * perChannel;
        new Span<float>(dst + start, checked((int)(end - start))).Clear();
        for (int c = c0; c < c1; c++)
            for (int y = 0; y < H; y++)
            {
                int r = y + PT;
                int qh = r % SH, i = r / SH;
                float* src = image + ((long)c * H + y) * W;
                if (SW == 2)
                {
                    float* row = dst + (long)(c * SH + qh) * SW * PlaneSize + (long)i * Wq;
                    // Even input columns x = 2j sit at padded column 2j + PL: phase PL % 2, index j + PL / 2.
                    float* even = row + (PL % 2) * PlaneSize + PL / 2, odd = row + ((PL + 1) % 2) * PlaneSize + (PL + 1) / 2;
                    Deinterleave.EvenOdd(src, W, even, odd);
                    continue;
                }
                for (int qw = 0; qw < SW; qw++)
                {
                    // Input column x lands at padded column x + PL; it belongs to phase qw when (x + PL) % SW == qw.
                    int x0 = ((qw - PL) % SW + SW) % SW;
                    float* plane = dst + ((long)(c * SH + qh) * SW + qw) * PlaneSize + (long)i * Wq;
                    if (SW == 1)
                    {
                        new ReadOnlySpan<float>(src, W).CopyTo(new Span<float>(plane + PL, W));
                        continue;
                    }
                    // Consecutive elements of a phase are SW apart in the input and adjacent in the plane
                    // (no division per element: it cost more than the whole sparse conv on stride-2 layers).
                    float* d = plane + (x0 + PL) / SW;
                    for (int x = x0; x < W; x += SW) *d++ = src[x];
                }
            }
    }
}
