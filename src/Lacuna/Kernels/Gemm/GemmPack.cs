using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels;

/// <summary>
/// Packing into micro-panels, the one place transposes and leading dimensions are absorbed. A source
/// matrix is seen as lines × k: X(l, p) = src[l·lineStride + p·kStride] (lines are rows of op(A), or
/// columns of op(B)). A panel of <c>width</c> lines is stored k-major: dst[p·width + i] = X(l0 + i, p),
/// zero for lines past the end, so a register tile never reads garbage.
/// </summary>
internal static unsafe partial class GemmPack
{
    /// <summary>
    /// Packs lines [0, lines) × p ∈ [0, kc) into ceil(lines / width) panels of kc·width floats each,
    /// panel q at dst + q·panelStride (panelStride ≥ kc·width). <paramref name="avx2"/>: the tile is the AVX2 tier's, so
    /// its transposing pack may be used (widths that are 0, 4 or 6 modulo 8: 6, 8, 12, 14, 16, 32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Panels(float* src, nint lineStride, nint kStride, int lines, int kc, int width, float* dst, nint panelStride, bool avx2)
    {
        Debug.Assert(panelStride >= (nint)kc * width);
        for (int l0 = 0; l0 < lines; l0 += width, dst += panelStride)
        {
            int valid = Math.Min(width, lines - l0);
            float* s = src + l0 * lineStride;
            if (lineStride == 1 && valid == width && width == 16 && avx2) ContiguousLines16Avx(s, kStride, kc, dst);
            else if (lineStride == 1 && valid == width && width % 8 == 0 && avx2) ContiguousLinesAvx(s, kStride, kc, width, dst);
            else if (lineStride == 1 && valid == width && (width & 1) == 0 && width >= 4) ContiguousLines(s, kStride, kc, width, dst);
            else if (kStride == 1 && avx2 && (width % 8) is 0 or 4 or 6) ContiguousKAvx2(s, lineStride, kc, width, valid, dst);
            else if (kStride == 1) ContiguousK(s, lineStride, kc, width, valid, dst);
            else General(s, lineStride, kStride, kc, width, valid, dst);
        }
    }

    /// <summary>
    /// The width (even, ≥ 4) lines of a panel are adjacent in memory at each p (e.g. B not transposed): row copies,
    /// the last 4 floats of a row overlapping the previous copy when width is not a multiple of 4 (14-row A panels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContiguousLines(float* s, nint kStride, int kc, int width, float* dst)
    {
        for (int p = 0; p < kc; p++, s += kStride, dst += width)
        {
            for (int i = 0; i + 4 <= width; i += 4)
                Vector128.Store(Vector128.Load(s + i), dst + i);
            if ((width & 3) != 0) Vector128.Store(Vector128.Load(s + width - 4), dst + width - 4);
        }
    }

    /// <summary>Each line is contiguous along k (e.g. A not transposed): a transposing gather, line by line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContiguousK(float* s, nint lineStride, int kc, int width, int valid, float* dst)
    {
        for (int i = 0; i < valid; i++)
        {
            float* line = s + i * lineStride;
            float* d = dst + i;
            for (int p = 0; p < kc; p++) d[p * width] = line[p];
        }
        for (int i = valid; i < width; i++)
            for (int p = 0; p < kc; p++) dst[p * width + i] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void General(float* s, nint lineStride, nint kStride, int kc, int width, int valid, float* dst)
    {
        for (int p = 0; p < kc; p++, dst += width)
        {
            int i = 0;
            for (; i < valid; i++) dst[i] = s[i * lineStride + p * kStride];
            for (; i < width; i++) dst[i] = 0f;
        }
    }
}
