using Lacuna.Threading;

namespace Lacuna.Kernels.Train;

/// <summary>
/// Runs the registry's kernels over a layer: copies the sparse operand into a spatially padded buffer (so the
/// kernels never branch on borders: padding is zeros, which the sparse kernels skip), then splits the work over
/// the <see cref="WorkerPool"/> into parts that write disjoint outputs (no reduction between threads).
/// </summary>
internal static unsafe class ConvTrainDriver
{
    /// <summary>Rows of a BWW strip: the dy rows of a strip stay in L1/L2 across the channels of a chunk.</summary>
    private const int StripRows = 8;

    /// <summary>Output pixels per row-kernel work item (accumulators 256 B each).</summary>
    private const int PixelsPerItem = 96;

    /// <summary>Channels per BWW work item.</summary>
    private const int ChannelChunk = 16;

    /// <summary>
    /// FWD (transpose false): y = conv(x, w), src = x blocked, dst = y blocked. BWI (transpose true):
    /// dx = conv_transpose(dy, w), src = dy blocked, dst = dx blocked. packed from <see cref="ConvTrainPacking.PackRows"/>.
    /// </summary>
    public static void RunRows(ConvTrainKernel k, ConvTrainShape s, bool transpose, float* src, float* packed, float* dst, int threads)
    {
        int ib = transpose ? s.OutBlocks : s.InBlocks, ob = transpose ? s.InBlocks : s.OutBlocks;
        int h = s.Height, w = s.Width, pad = s.Pad, hp = h + 2 * pad, wp = w + 2 * pad, ks = s.Kernel, n = s.Batch;
        int tile = k.TileBlocks, tc = tile * 8;
        int tiles = ConvTrainPacking.Tiles(ob, tile), blockLen = ConvTrainPacking.BlockLength(s.Taps, tile);
        float[] padded = ConvTrainScratch.Get(ConvTrainScratch.Padded, (long)n * ib * hp * wp * 8);
        fixed (float* pp = padded)
        {
            nint ppad = (nint)pp, psrc = (nint)src, pdst = (nint)dst, pw = (nint)packed;
            PadPlanes(psrc, ppad, n * ib, h, w, pad, threads);
            // A work item is a block of output rows: each input block's weights (18 KB for 3x3, L1) then serve
            // ~PixelsPerItem pixels before the next block's, instead of one row (512@7 re-read 9 MB of weights per row).
            int rowsPerItem = Math.Clamp((PixelsPerItem + w - 1) / w, 1, h);
            int rowBlocks = (h + rowsPerItem - 1) / rowsPerItem;
            int items = n * tiles * rowBlocks;
            int parts = Math.Min(threads, items);
            WorkerPool.Shared.Run(parts, part =>
            {
                var (start, end) = WorkerPool.Range(items, parts, part);
                var acc = GC.AllocateUninitializedArray<float>(rowsPerItem * w * tc, pinned: true);
                fixed (float* pacc = acc)
                {
                    ConvTrainRowArgs a = default;
                    a.RowStride = wp * 8;
                    a.Width = w;
                    a.KH = ks;
                    a.KW = ks;
                    for (int item = start; item < end; item++)
                    {
                        int rb = item % rowBlocks, dt = item / rowBlocks % tiles, img = item / rowBlocks / tiles;
                        int oh0 = rb * rowsPerItem, rows = Math.Min(rowsPerItem, h - oh0);
                        new Span<float>(pacc, rows * w * tc).Clear();
                        for (int b = 0; b < ib; b++)
                        {
                            a.Weights = (float*)pw + ((long)dt * ib + b) * blockLen;
                            for (int r = 0; r < rows; r++)
                            {
                                a.Input = (float*)ppad + (((long)img * ib + b) * hp + oh0 + r) * wp * 8;
                                a.Acc = pacc + r * w * tc;
                                k.Rows(&a);
                            }
                        }
                        int blocks = Math.Min(tile, ob - dt * tile);
                        for (int r = 0; r < rows; r++)
                            for (int blk = 0; blk < blocks; blk++)
                            {
                                float* o = (float*)pdst + (((long)img * ob + dt * tile + blk) * h + oh0 + r) * w * 8;
                                float* ar = pacc + r * w * tc + blk * 8;
                                for (int x = 0; x < w; x++)
                                    new ReadOnlySpan<float>(ar + x * tc, 8).CopyTo(new Span<float>(o + x * 8, 8));
                            }
                    }
                }
            });
        }
    }

    /// <summary>dw [K, C, KS, KS] = Σ_n Σ_pixels x ⊗ dy, x and dy blocked.</summary>
    public static void RunWeights(ConvTrainKernel k, ConvTrainShape s, float* x, float* dy, float* dw, int threads)
    {
        int n = s.Batch, c = s.InChannels, kb = s.OutBlocks, h = s.Height, w = s.Width, pad = s.Pad;
        int hp = h + 2 * pad, wp = w + 2 * pad, wr = (w + 7) & ~7, taps = s.Taps;
        long plane = (long)hp * wp * 8;
        // 8 spare planes: a 1x1 group with fewer than 9 blocks still reads (and drops) all 9 slots.
        float[] padded = ConvTrainScratch.Get(ConvTrainScratch.Padded, (n * kb + 8) * plane);
        float[] rows = ConvTrainScratch.Get(ConvTrainScratch.Second, (long)n * c * h * wr);
        // 3x3: a group is one output block, its 9 slots the taps. 1x1: a group is 9 output blocks, one slot each.
        int groups = taps == 9 ? kb : (kb + 8) / 9;
        int chunks = (c + ChannelChunk - 1) / ChannelChunk;
        fixed (float* pp = padded, pr = rows)
        {
            nint ppad = (nint)pp, prows = (nint)pr, px = (nint)x, pdy = (nint)dy, pdw = (nint)dw;
            PadPlanes(pdy, ppad, n * kb, h, w, pad, threads);
            ToRows(px, prows, n, c, h, w, wr, threads);
            int items = groups * chunks;
            int parts = Math.Min(threads, items);
            WorkerPool.Shared.Run(parts, part =>
            {
                var (start, end) = WorkerPool.Range(items, parts, part);
                var acc = GC.AllocateUninitializedArray<float>(ChannelChunk * 9 * 8, pinned: true);
                int* offsets = stackalloc int[6];
                fixed (float* pacc = acc)
                {
                    ConvTrainWeightArgs a = default;
                    a.XRowStride = wr;
                    a.DyRowStride = wp * 8;
                    a.Offsets = offsets;
                    a.Width = w;
                    for (int item = start; item < end; item++)
                    {
                        int g = item / chunks, c0 = item % chunks * ChannelChunk, c1 = Math.Min(c, c0 + ChannelChunk);
                        int slots = taps == 9 ? 9 : Math.Min(9, kb - g * 9);
                        // Slot 3·i + j reads Dy + offsets[i] + offsets[3 + j]: 3x3 tap (kh, kw) = (i, j) is dy row
                        // 2·pad - kh and column 2·pad - kw from the pixel; 1x1 slot s is block s (3·plane, plane steps).
                        for (int t = 0; t < 3; t++)
                        {
                            offsets[t] = taps == 9 ? (2 * pad - t) * wp * 8 : (int)(3 * t * plane);
                            offsets[3 + t] = taps == 9 ? (2 * pad - t) * 8 : (int)(t * plane);
                        }
                        new Span<float>(pacc, acc.Length).Clear();
                        int firstBlock = taps == 9 ? g : g * 9;
                        for (int img = 0; img < n; img++)
                            for (int r0 = 0; r0 < h; r0 += StripRows)
                            {
                                a.Rows = Math.Min(StripRows, h - r0);
                                a.Dy = (float*)ppad + ((long)img * kb + firstBlock) * plane + (long)r0 * wp * 8;
                                for (int ch = c0; ch < c1; ch++)
                                {
                                    a.X = (float*)prows + (((long)img * c + ch) * h + r0) * wr;
                                    a.Acc = pacc + (ch - c0) * 72;
                                    k.Weights(&a);
                                }
                            }
                        for (int ch = c0; ch < c1; ch++)
                        {
                            float* accs = pacc + (ch - c0) * 72;
                            for (int slot = 0; slot < slots; slot++)
                                for (int l = 0; l < 8; l++)
                                {
                                    int oc = (taps == 9 ? g : g * 9 + slot) * 8 + l;
                                    if (oc >= s.OutChannels) break;
                                    ((float*)pdw)[((long)oc * c + ch) * taps + (taps == 9 ? slot : 0)] = accs[slot * 8 + l];
                                }
                        }
                    }
                }
            });
        }
    }

    /// <summary>Blocked planes [planes][H][W][8] → [planes][H+2p][W+2p][8], zero border.</summary>
    private static void PadPlanes(nint src, nint dst, int planes, int h, int w, int pad, int threads)
    {
        int hp = h + 2 * pad, wp = w + 2 * pad;
        int parts = Math.Min(threads, planes);
        WorkerPool.Shared.Run(parts, part =>
        {
            var (start, end) = WorkerPool.Range(planes, parts, part);
            for (int p = start; p < end; p++)
            {
                float* s = (float*)src + (long)p * h * w * 8, d = (float*)dst + (long)p * hp * wp * 8;
                if (pad > 0)
                {
                    new Span<float>(d, pad * wp * 8).Clear();
                    new Span<float>(d + (long)(hp - pad) * wp * 8, pad * wp * 8).Clear();
                }
                for (int y = 0; y < h; y++)
                {
                    float* row = d + (long)(y + pad) * wp * 8;
                    if (pad > 0)
                    {
                        new Span<float>(row, pad * 8).Clear();
                        new Span<float>(row + (pad + w) * 8, pad * 8).Clear();
                    }
                    new ReadOnlySpan<float>(s + (long)y * w * 8, w * 8).CopyTo(new Span<float>(row + pad * 8, w * 8));
                }
            }
        });
    }

    /// <summary>Blocked x [N][ceil(C/8)][H][W][8] → row layout [N][C][H][Wr] (Wr = W rounded up to 8, zero tail).</summary>
    private static void ToRows(nint src, nint dst, int n, int c, int h, int w, int wr, int threads)
    {
        int cb = (c + 7) / 8, planes = n * cb;
        int parts = Math.Min(threads, planes);
        WorkerPool.Shared.Run(parts, part =>
        {
            var (start, end) = WorkerPool.Range(planes, parts, part);
            for (int p = start; p < end; p++)
            {
                int img = p / cb, b = p % cb, lanes = Math.Min(8, c - b * 8);
                float* s = (float*)src + (long)p * h * w * 8;
                for (int l = 0; l < lanes; l++)
                {
                    float* d = (float*)dst + ((long)img * c + b * 8 + l) * h * wr;
                    for (int y = 0; y < h; y++, d += wr)
                    {
                        float* sr = s + (long)y * w * 8 + l;
                        for (int xx = 0; xx < w; xx++) d[xx] = sr[xx * 8];
                        for (int xx = w; xx < wr; xx++) d[xx] = 0f;
                    }
                }
            }
        });
    }
}
