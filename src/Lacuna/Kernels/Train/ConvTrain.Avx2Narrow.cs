using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Train;

// AVX2 + FMA row kernels with a 32-channel tile (4 output blocks), for layers of at most 32 output channels.
// Four accumulators alone would leave FMA latency exposed (each broadcast value feeds one FMA per accumulator, and
// Zen 3 needs 8 independent chains to keep both FMA pipes busy), so consecutive non-zero inputs alternate between
// two accumulator sets (c, d) that are summed once per pixel.
internal static unsafe partial class ConvTrain
{
    [SkipLocalsInit]
    public static void Avx2RowsSparse4(ConvTrainRowArgs* a)
    {
        int kh = a->KH, kw = a->KW, seg = kw * 8;
        nint rs = a->RowStride;
        float* acc = a->Acc;
        for (int ow = 0; ow < a->Width; ow++, acc += 32)
        {
            var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8);
            var c2 = Avx.LoadVector256(acc + 16); var c3 = Avx.LoadVector256(acc + 24);
            var d0 = Vector256<float>.Zero; var d1 = Vector256<float>.Zero;
            var d2 = Vector256<float>.Zero; var d3 = Vector256<float>.Zero;
            float* x = a->Input + ow * 8;
            float* wr = a->Weights;
            for (int r = 0; r < kh; r += 2, x += 2 * rs, wr += 2 * seg * 32)
            {
                ulong m = NonZeroMask(x, kw);
                nint delta = 0;
                if (r + 1 < kh)
                {
                    m |= NonZeroMask(x + rs, kw) << seg;
                    delta = rs - seg;
                }
                while (m != 0)
                {
                    int i = BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    var b = Avx.BroadcastScalarToVector256(x + i + ((nint)((seg - 1 - i) >> 31) & delta));
                    float* w = wr + i * 32;
                    c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(w), c0);
                    c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 8), c1);
                    c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 16), c2);
                    c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 24), c3);
                    if (m == 0) break;
                    i = BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    b = Avx.BroadcastScalarToVector256(x + i + ((nint)((seg - 1 - i) >> 31) & delta));
                    w = wr + i * 32;
                    d0 = Fma.MultiplyAdd(b, Avx.LoadVector256(w), d0);
                    d1 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 8), d1);
                    d2 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 16), d2);
                    d3 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 24), d3);
                }
            }
            Avx.Add(c0, d0).Store(acc); Avx.Add(c1, d1).Store(acc + 8);
            Avx.Add(c2, d2).Store(acc + 16); Avx.Add(c3, d3).Store(acc + 24);
        }
    }

    [SkipLocalsInit]
    public static void Avx2RowsDense4(ConvTrainRowArgs* a)
    {
        int kh = a->KH, seg = a->KW * 8; // seg is a multiple of 8: the pair loop has no tail
        nint rs = a->RowStride;
        float* acc = a->Acc;
        for (int ow = 0; ow < a->Width; ow++, acc += 32)
        {
            var c0 = Avx.LoadVector256(acc); var c1 = Avx.LoadVector256(acc + 8);
            var c2 = Avx.LoadVector256(acc + 16); var c3 = Avx.LoadVector256(acc + 24);
            var d0 = Vector256<float>.Zero; var d1 = Vector256<float>.Zero;
            var d2 = Vector256<float>.Zero; var d3 = Vector256<float>.Zero;
            float* x = a->Input + ow * 8;
            float* w = a->Weights;
            for (int r = 0; r < kh; r++, x += rs)
            {
                for (int i = 0; i < seg; i += 2, w += 64)
                {
                    var b = Avx.BroadcastScalarToVector256(x + i);
                    c0 = Fma.MultiplyAdd(b, Avx.LoadVector256(w), c0);
                    c1 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 8), c1);
                    c2 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 16), c2);
                    c3 = Fma.MultiplyAdd(b, Avx.LoadVector256(w + 24), c3);
                    var e = Avx.BroadcastScalarToVector256(x + i + 1);
                    d0 = Fma.MultiplyAdd(e, Avx.LoadVector256(w + 32), d0);
                    d1 = Fma.MultiplyAdd(e, Avx.LoadVector256(w + 40), d1);
                    d2 = Fma.MultiplyAdd(e, Avx.LoadVector256(w + 48), d2);
                    d3 = Fma.MultiplyAdd(e, Avx.LoadVector256(w + 56), d3);
                }
            }
            Avx.Add(c0, d0).Store(acc); Avx.Add(c1, d1).Store(acc + 8);
            Avx.Add(c2, d2).Store(acc + 16); Avx.Add(c3, d3).Store(acc + 24);
        }
    }
}
