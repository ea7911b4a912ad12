namespace Lacuna.Kernels.Train;

/// <summary>
/// Weight packing of the row kernels. FWD and BWI are the same computation: an output of O channels from an
/// input of I channels with weights W(o, i, kh, kw); FWD has O = K, I = C, W = w[o][i][kh][kw]; BWI (dx = conv_transpose(dy, w),
/// which for stride 1 and "same" padding is a correlation of dy with the flipped, transposed kernel) has
/// O = C, I = K, W = w[i][o][KS-1-kh][KS-1-kw].
/// Packed layout: [ceil(OB/8) output tiles][IB input blocks][KH][KW][8 input lanes][8 output blocks][8 output lanes]
/// (OB = ceil(O/8), IB = ceil(I/8)), zero past O and I: for one (input lane, tap) the 64 output channels of a tile are
/// 8 contiguous vectors, and the KW·8 (tap, lane) rows of a kernel row are contiguous, in the order the
/// sparse operand's lanes lie in memory.
/// </summary>
internal static class ConvTrainPacking
{
    /// <summary>Floats of one (output tile, input block): KS² · 8 · 64.</summary>
    public static int BlockLength(int taps) => taps * 8 * ConvTrainDriver.Tile * 8;

    /// <summary>Floats of the packed weights: ceil(OB/8) · IB · <see cref="BlockLength"/>.</summary>
    public static long RowsLength(ConvTrainShape s, bool transpose)
    {
        int ob = transpose ? s.InBlocks : s.OutBlocks, ib = transpose ? s.OutBlocks : s.InBlocks;
        return (long)Tiles(ob) * ib * BlockLength(s.Taps);
    }

    public static int Tiles(int outBlocks) => (outBlocks + ConvTrainDriver.Tile - 1) / ConvTrainDriver.Tile;

    /// <param name="weight">[K, C, KS, KS]</param>
    /// <param name="packed"><see cref="RowsLength"/> floats, fully written</param>
    public static void PackRows(ReadOnlySpan<float> weight, ConvTrainShape s, bool transpose, Span<float> packed)
    {
        int o = transpose ? s.InChannels : s.OutChannels, inCh = transpose ? s.OutChannels : s.InChannels;
        int ob = (o + 7) / 8, ib = (inCh + 7) / 8, ks = s.Kernel, taps = s.Taps;
        int tiles = Tiles(ob), tile = ConvTrainDriver.Tile;
        long p = 0;
        for (int dt = 0; dt < tiles; dt++)
            for (int b = 0; b < ib; b++)
                for (int kh = 0; kh < ks; kh++)
                    for (int kw = 0; kw < ks; kw++)
                        for (int il = 0; il < 8; il++)
                        {
                            int i = b * 8 + il;
                            for (int r = 0; r < tile; r++)
                                for (int ol = 0; ol < 8; ol++, p++)
                                {
                                    int oc = (dt * tile + r) * 8 + ol;
                                    packed[(int)p] = oc >= o || i >= inCh ? 0f
                                        : transpose ? weight[(i * s.InChannels + oc) * taps + (ks - 1 - kh) * ks + (ks - 1 - kw)]
                                        : weight[(oc * s.InChannels + i) * taps + kh * ks + kw];
                                }
                        }
    }
}
