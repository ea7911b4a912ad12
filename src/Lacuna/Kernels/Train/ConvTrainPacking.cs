namespace Lacuna.Kernels.Train;

/// <summary>
/// Weight packing of the row kernels. FWD and BWI are the same computation: an output of O channels from an
/// input of I channels with weights W(o, i, kh, kw); FWD has O = K, I = C, W = w[o][i][kh][kw]; BWI (dx = conv_transpose(dy, w),
/// which for stride 1 and "same" padding is a correlation of dy with the flipped, transposed kernel) has
/// O = C, I = K, W = w[i][o][KS-1-kh][KS-1-kw].
/// Packed layout: [ceil(OB/T) output tiles][IB input blocks][KH][KW][8 input lanes][T output blocks][8 output lanes]
/// (OB = ceil(O/8), IB = ceil(I/8), T the kernel's tile blocks), zero past O and I: for one (input lane, tap) the 8T output
/// channels of a tile are T contiguous vectors, and the KW·8 (tap, lane) rows of a kernel row are contiguous, in the order the
/// sparse operand's lanes lie in memory.
/// </summary>
internal static class ConvTrainPacking
{
    /// <summary>Floats of one (output tile, input block): KS² · 8 · 8T.</summary>
    public static int BlockLength(int taps, int tile) => taps * 8 * tile * 8;

    /// <summary>Floats of the packed weights: ceil(OB/T) · IB · <see cref="BlockLength"/>.</summary>
    public static long RowsLength(ConvTrainShape s, bool transpose, int tile)
    {
        int ob = transpose ? s.InBlocks : s.OutBlocks, ib = transpose ? s.OutBlocks : s.InBlocks;
        return (long)Tiles(ob, tile) * ib * BlockLength(s.Taps, tile);
    }

    public static int Tiles(int outBlocks, int tile) => (outBlocks + tile - 1) / tile;

    /// <param name="weight">[K, C, KS, KS]</param>
    /// <param name="packed"><see cref="RowsLength"/> floats, fully written</param>
    public static unsafe void PackRows(ReadOnlySpan<float> weight, ConvTrainShape s, bool transpose, int tile, Span<float> packed)
    {
        int o = transpose ? s.InChannels : s.OutChannels, inCh = transpose ? s.OutChannels : s.InChannels;
        int ob = (o + 7) / 8, ib = (inCh + 7) / 8, taps = s.Taps, c = s.InChannels;
        int tiles = Tiles(ob, tile), tileChannels = tile * 8, blockLen = BlockLength(taps, tile);
        fixed (float* pw = weight, pp = packed)
            for (int dt = 0; dt < tiles; dt++)
                for (int b = 0; b < ib; b++)
                {
                    float* dst = pp + ((long)dt * ib + b) * blockLen;
                    int lanesOut = Math.Min(tileChannels, o - dt * tileChannels), lanesIn = Math.Min(8, inCh - b * 8);
                    if (lanesOut < tileChannels || lanesIn < 8) new Span<float>(dst, blockLen).Clear();
                    // Source runs of `taps` floats are contiguous; a block's sources (≤ 64 · 8 runs) stay in L1.
                    for (int lo = 0; lo < lanesOut; lo++)
                    {
                        int oc = dt * tileChannels + lo;
                        for (int il = 0; il < lanesIn; il++)
                        {
                            int i = b * 8 + il;
                            float* src = pw + (transpose ? (long)i * c + oc : (long)oc * c + i) * taps;
                            for (int t = 0; t < taps; t++)
                                dst[((transpose ? taps - 1 - t : t) * 8 + il) * tileChannels + lo] = src[t];
                        }
                    }
                }
    }
}
