using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Train;

// AVX2 + FMA. Row kernels keep the 8 output vectors of one pixel (64 channels) in registers and stream the
// weights as FMA memory operands (18 KB per input block for 3x3: L1-resident across the row): 8 FMAs per
// broadcast input value. The sparse row kernel joins two tap rows (2 × KW·8 ≤ 48 lanes) into one 64-bit mask,
// so the loop exit, the one unpredictable branch, is paid once per two tap rows; bit i is lane i of the
// concatenated rows, so its weight row is simply i. The weight kernels keep 9 slot vectors in registers; the
// sparse one masks 64 consecutive pixels of one channel row at a time (bit i = pixel i, dy at i·8).
internal static unsafe partial class ConvTrain
{
    /// <summary>Bits set where the <paramref name="vectors"/> · 8 floats at <paramref name="p"/> are non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NonZeroMask(float* p, int vectors)
    {
        var zero = Vector256<float>.Zero;
        ulong m = 0;
        for (int v = 0; v < vectors; v++)
            m |= (ulong)(uint)Avx.MoveMask(Avx.CompareNotEqual(Avx.LoadVector256(p + v * 8), zero)) << (v * 8);
        return m;
    }

    [SkipLocalsInit]
    public static void Avx2RowsSparse(ConvTrainRowArgs* a)
    {
        int kh = a->KH, kw = a->KW, seg = kw * 8;
        nint rs = a->RowStride;
        float* acc = a->Acc;
        for (int ow = 0; ow < a->Width; ow++, acc += 64)
        {
            var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8);
            var c2 = Avx.LoadVector256(acc + 16); var c3 = Avx.LoadVector256(acc + 24);
            var c4 = Avx.LoadVector256(acc + 32); var c5 = Avx.LoadVector256(acc + 40);
            var c6 = Avx.LoadVector256(acc + 48); var c7 = Avx.LoadVector256(acc + 56);
            float* x = a->Input + ow * 8;
            float* wr = a->Weights;
            for (int r = 0; r < kh; r += 2, x += 2 * rs, wr += 2 * seg * 64)
            {
                ulong m = NonZeroMask(x, kw);
                nint delta = 0;
                if (r + 1 < kh)
                {
                    m |= NonZeroMask(x + rs, kw) << seg;
                    delta = rs - seg; // bit i ≥ seg is lane i - seg of the next row
                }
                while (m != 0)
                {
                    int i = BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    var b = Avx.BroadcastScalarToVector256(x + i + ((nint)((seg - 1 - i) >> 31) & delta));
                    float* w = wr + i * 64;
                    c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(w), c0);
                    c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 8), c1);
                    c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 16), c2);
                    c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 24), c3);
                    c4 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 32), c4);
                    c5 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 40), c5);
                    c6 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 48), c6);
                    c7 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 56), c7);
                }
            }
            c0.Store(acc); c1.Store(acc + 8); c2.Store(acc + 16); c3.Store(acc + 24);
            c4.Store(acc + 32); c5.Store(acc + 40); c6.Store(acc + 48); c7.Store(acc + 56);
        }
    }

    [SkipLocalsInit]
    public static void Avx2RowsDense(ConvTrainRowArgs* a)
    {
        int kh = a->KH, seg = a->KW * 8;
        nint rs = a->RowStride;
        float* acc = a->Acc;
        for (int ow = 0; ow < a->Width; ow++, acc += 64)
        {
            var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8);
            var c2 = Avx.LoadVector256(acc + 16); var c3 = Avx.LoadVector256(acc + 24);
            var c4 = Avx.LoadVector256(acc + 32); var c5 = Avx.LoadVector256(acc + 40);
            var c6 = Avx.LoadVector256(acc + 48); var c7 = Avx.LoadVector256(acc + 56);
            float* x = a->Input + ow * 8;
            float* w = a->Weights;
            for (int r = 0; r < kh; r++, x += rs)
            {
                for (int i = 0; i < seg; i++, w += 64)
                {
                    var b = Avx.BroadcastScalarToVector256(x + i);
                    c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(w), c0);
                    c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 8), c1);
                    c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 16), c2);
                    c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 24), c3);
                    c4 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 32), c4);
                    c5 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 40), c5);
                    c6 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 48), c6);
                    c7 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 56), c7);
                }
            }
            c0.Store(acc); c1.Store(acc + 8); c2.Store(acc + 16); c3.Store(acc + 24);
            c4.Store(acc + 32); c5.Store(acc + 40); c6.Store(acc + 48); c7.Store(acc + 56);
        }
    }

    [SkipLocalsInit]
    public static void Avx2WeightsSparse(ConvTrainWeightArgs* a)
    {
        float* acc = a->Acc;
        int* o = a->Offsets;
        nint r0 = o[0], r1 = o[1], r2 = o[2], j0 = o[3], j1 = o[4], j2 = o[5];
        var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8); var c2 = Avx.LoadVector256(acc + 16);
        var c3 = Avx.LoadVector256(acc + 24); var c4 = Avx.LoadVector256(acc + 32); var c5 = Avx.LoadVector256(acc + 40);
        var c6 = Avx.LoadVector256(acc + 48); var c7 = Avx.LoadVector256(acc + 56); var c8 = Avx.LoadVector256(acc + 64);
        float* xr = a->X, dr = a->Dy;
        int width = a->Width, wr = (int)a->XRowStride;
        nint ds = a->DyRowStride;
        // A mask covers 64 consecutive floats of x. Wide maps: 64 pixels of one row (bit i is pixel i). Narrow maps
        // (W ≤ 32, wr a power of two): x rows are contiguous at stride wr, so one mask spans 64 / wr rows and the loop
        // exit (the one unpredictable branch) is paid per mask, not per short row; bit i is row i >> shift, pixel
        // i & (wr - 1). Lanes past W are zero, so they never set a bit.
        bool narrow = wr <= 32 && BitOperations.IsPow2(wr);
        int shift = narrow ? BitOperations.Log2((uint)wr) : 6, low = (1 << shift) - 1;
        int rowsPerMask = narrow ? 64 >> shift : 1, chunks = narrow ? 1 : width;
        for (int row = 0; row < a->Rows; row += rowsPerMask, xr += rowsPerMask * wr, dr += rowsPerMask * ds)
        {
            for (int iw0 = 0; iw0 < chunks; iw0 += 64)
            {
                int vectors = narrow ? (Math.Min(rowsPerMask, a->Rows - row) * wr) >> 3 : Math.Min(8, (width - iw0 + 7) >> 3);
                ulong m = NonZeroMask(xr + iw0, vectors);
                float* xs = xr + iw0, dbase = dr + iw0 * 8;
                while (m != 0)
                {
                    int i = BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    var b = Avx.BroadcastScalarToVector256(xs + i);
                    float* d = dbase + (i >> shift) * ds + (i & low) * 8, p0 = d + r0, p1 = d + r1, p2 = d + r2;
                    c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j0), c0);
                    c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j1), c1);
                    c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j2), c2);
                    c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j0), c3);
                    c4 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j1), c4);
                    c5 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j2), c5);
                    c6 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j0), c6);
                    c7 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j1), c7);
                    c8 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j2), c8);
                }
            }
        }
        c0.Store(acc); c1.Store(acc + 8); c2.Store(acc + 16); c3.Store(acc + 24); c4.Store(acc + 32);
        c5.Store(acc + 40); c6.Store(acc + 48); c7.Store(acc + 56); c8.Store(acc + 64);
    }

    [SkipLocalsInit]
    public static void Avx2WeightsDense(ConvTrainWeightArgs* a)
    {
        float* acc = a->Acc;
        int* o = a->Offsets;
        nint r0 = o[0], r1 = o[1], r2 = o[2], j0 = o[3], j1 = o[4], j2 = o[5];
        var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8); var c2 = Avx.LoadVector256(acc + 16);
        var c3 = Avx.LoadVector256(acc + 24); var c4 = Avx.LoadVector256(acc + 32); var c5 = Avx.LoadVector256(acc + 40);
        var c6 = Avx.LoadVector256(acc + 48); var c7 = Avx.LoadVector256(acc + 56); var c8 = Avx.LoadVector256(acc + 64);
        float* xr = a->X, dr = a->Dy;
        int width = a->Width;
        for (int row = 0; row < a->Rows; row++, xr += a->XRowStride, dr += a->DyRowStride)
        {
            float* d = dr;
            for (int iw = 0; iw < width; iw++, d += 8)
            {
                float* p0 = d + r0, p1 = d + r1, p2 = d + r2;
                var b = Avx.BroadcastScalarToVector256(xr + iw);
                c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j0), c0);
                c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j1), c1);
                c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(p0 + j2), c2);
                c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j0), c3);
                c4 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j1), c4);
                c5 = Fma.MultiplyAdd(b, Avx.LoadVector256(p1 + j2), c5);
                c6 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j0), c6);
                c7 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j1), c7);
                c8 = Fma.MultiplyAdd(b, Avx.LoadVector256(p2 + j2), c8);
            }
        }
        c0.Store(acc); c1.Store(acc + 8); c2.Store(acc + 16); c3.Store(acc + 24); c4.Store(acc + 32);
        c5.Store(acc + 40); c6.Store(acc + 48); c7.Store(acc + 56); c8.Store(acc + 64);
    }
}
