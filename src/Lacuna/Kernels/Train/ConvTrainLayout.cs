using System.Numerics;

namespace Lacuna.Kernels.Train;

/// <summary>
/// The channel-blocked activation layout of the training kernels: [N][ceil(C/8)][H][W][8], channel c of a
/// pixel at block c/8, lane c%8, lanes past C zero. A pixel's 8 channels are one Vector256, so a kernel loads
/// a vector of the sparse operand, compares it with zero and walks the non-zero lanes; and (kw, lane) over
/// KW consecutive pixels of a row are KW·8 consecutive floats, which is what lets a 3x3 tap row be one mask.
/// </summary>
public static class ConvTrainLayout
{
    /// <summary>Floats of the blocked form of [n, c, h, w].</summary>
    public static long BlockedLength(int n, int c, int h, int w) => (long)n * ((c + 7) / 8) * h * w * 8;

    /// <summary>nchw [n, c, h, w] → blocked [n][ceil(c/8)][h][w][8], zero lanes past c.</summary>
    public static void ToBlocked(ReadOnlySpan<float> nchw, Span<float> blocked, int n, int c, int h, int w)
    {
        Check(nchw.Length, blocked.Length, n, c, h, w, nameof(nchw), nameof(blocked));
        int cb = (c + 7) / 8, hw = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < cb; k++)
            {
                var dst = blocked.Slice((int)(((long)b * cb + k) * hw * 8), hw * 8);
                int lanes = Math.Min(8, c - k * 8);
                if (lanes < 8) dst.Clear();
                for (int l = 0; l < lanes; l++)
                {
                    var src = nchw.Slice(((b * c) + k * 8 + l) * hw, hw);
                    for (int p = 0; p < hw; p++) dst[p * 8 + l] = src[p];
                }
            }
    }

    /// <summary>blocked [n][ceil(c/8)][h][w][8] → nchw [n, c, h, w] (padding lanes dropped).</summary>
    public static void ToNchw(ReadOnlySpan<float> blocked, Span<float> nchw, int n, int c, int h, int w)
    {
        Check(nchw.Length, blocked.Length, n, c, h, w, nameof(nchw), nameof(blocked));
        int cb = (c + 7) / 8, hw = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < cb; k++)
            {
                var src = blocked.Slice((int)(((long)b * cb + k) * hw * 8), hw * 8);
                int lanes = Math.Min(8, c - k * 8);
                for (int l = 0; l < lanes; l++)
                {
                    var dst = nchw.Slice(((b * c) + k * 8 + l) * hw, hw);
                    for (int p = 0; p < hw; p++) dst[p] = src[p * 8 + l];
                }
            }
    }

    private static void Check(int nchwLength, int blockedLength, int n, int c, int h, int w, string nchwName, string blockedName)
    {
        if (n < 1 || c < 1 || h < 1 || w < 1)
            ThrowHelper.OutOfRange(nameof(n), $"[{n}, {c}, {h}, {w}]", "Every dimension must be at least 1.");
        ThrowHelper.IfTooShort(nchwLength, (long)n * c * h * w, nchwName, $"[{n}, {c}, {h}, {w}]");
        ThrowHelper.IfTooShort(blockedLength, BlockedLength(n, c, h, w), blockedName, $"blocked [{n}][{(c + 7) / 8}][{h}][{w}][8]");
    }

    /// <summary>
    /// Fraction of exact zeros in <paramref name="data"/> (the dispatcher's measure of the sparse operand;
    /// padding lanes count, as the kernels skip them too).
    /// </summary>
    public static double ZeroFraction(ReadOnlySpan<float> data)
    {
        if (data.IsEmpty) return 0;
        return (double)CountZeros(data) / data.Length;
    }

    private static int CountZeros(ReadOnlySpan<float> data)
    {
        int zeros = 0;
        int i = 0, vw = Vector<float>.Count;
        for (; i + vw <= data.Length; i += vw)
            zeros -= Vector.Sum(Vector.AsVectorInt32(Vector.Equals(new Vector<float>(data.Slice(i, vw)), Vector<float>.Zero)));
        for (; i < data.Length; i++) if (data[i] == 0f) zeros++;
        return zeros;
    }
}
