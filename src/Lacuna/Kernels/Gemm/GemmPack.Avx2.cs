using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

// AVX2 transposing pack for lines contiguous along k (A row-major into 6-, 12- or 14-high panels, or Bᵀ into
// 16- or 32-wide ones): 8 lines × 8 k per step through an in-register 8x8 transpose, so packing a large A costs a fraction
// of a cycle per float (small-N GEMMs use each packed A element only N times).
internal static unsafe partial class GemmPack
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContiguousKAvx2(float* s, nint lineStride, int kc, int width, int valid, float* dst)
    {
        int k8 = kc & ~7;
        for (int i0 = 0; i0 < width; i0 += 8)
        {
            int n = Math.Min(8, width - i0);           // lanes of this group that land in the panel (4, 6 or 8)
            int v = Math.Clamp(valid - i0, 0, n);      // lanes backed by real lines
            float* line = s + i0 * lineStride;
            for (int p = 0; p < k8; p += 8)
            {
                var r0 = Load(line, lineStride, 0, v, p); var r1 = Load(line, lineStride, 1, v, p);
                var r2 = Load(line, lineStride, 2, v, p); var r3 = Load(line, lineStride, 3, v, p);
                var r4 = Load(line, lineStride, 4, v, p); var r5 = Load(line, lineStride, 5, v, p);
                var r6 = Load(line, lineStride, 6, v, p); var r7 = Load(line, lineStride, 7, v, p);
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
                var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
                var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
                var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
                var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
                var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
                float* d = dst + p * width + i0;
                Store(d, n, Avx.Permute2x128(u0, u4, 0x20)); Store(d + width, n, Avx.Permute2x128(u1, u5, 0x20));
                Store(d + 2 * width, n, Avx.Permute2x128(u2, u6, 0x20)); Store(d + 3 * width, n, Avx.Permute2x128(u3, u7, 0x20));
                Store(d + 4 * width, n, Avx.Permute2x128(u0, u4, 0x31)); Store(d + 5 * width, n, Avx.Permute2x128(u1, u5, 0x31));
                Store(d + 6 * width, n, Avx.Permute2x128(u2, u6, 0x31)); Store(d + 7 * width, n, Avx.Permute2x128(u3, u7, 0x31));
            }
            for (int p = k8; p < kc; p++)
                for (int i = 0; i < n; i++) dst[p * width + i0 + i] = i < v ? line[i * lineStride + p] : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* line, nint lineStride, int i, int valid, int p) =>
        i < valid ? Avx.LoadVector256(line + i * lineStride + p) : Vector256<float>.Zero;

    /// <summary>Stores the first n (4, 6 or 8) lanes of v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* d, int n, Vector256<float> v)
    {
        if (n == 8) { Avx.Store(d, v); return; }
        Sse.Store(d, v.GetLower());
        if (n == 6) Sse.StoreLow(d + 4, v.GetUpper());
    }

    /// <summary>Width (a multiple of 8) adjacent lines per p (B not transposed into 32-wide panels): 32-byte copies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContiguousLinesAvx(float* s, nint kStride, int kc, int width, float* dst)
    {
        for (int p = 0; p < kc; p++, s += kStride, dst += width)
        {
            // Rows of B lie a row stride apart, each in its own page for wide B, where the hardware prefetchers
            // do not follow: fetch the row 8 steps ahead (prefetches past the end do not fault).
            Sse.Prefetch0(s + 8 * kStride);
            Sse.Prefetch0(s + 8 * kStride + width - 1);
            for (int i = 0; i < width; i += 8)
                Avx.Store(dst + i, Avx.LoadVector256(s + i));
        }
    }

    /// <summary>16 adjacent lines per p (B not transposed into 16-wide panels): two 32-byte copies per p, two p per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContiguousLines16Avx(float* s, nint kStride, int kc, float* dst)
    {
        int p = 0;
        for (; p + 1 < kc; p += 2, s += 2 * kStride, dst += 32)
        {
            var x0 = Avx.LoadVector256(s); var x1 = Avx.LoadVector256(s + 8);
            var y0 = Avx.LoadVector256(s + kStride); var y1 = Avx.LoadVector256(s + kStride + 8);
            Avx.Store(dst, x0); Avx.Store(dst + 8, x1); Avx.Store(dst + 16, y0); Avx.Store(dst + 24, y1);
        }
        if (p < kc)
        {
            Avx.Store(dst, Avx.LoadVector256(s));
            Avx.Store(dst + 8, Avx.LoadVector256(s + 8));
        }
    }
}
