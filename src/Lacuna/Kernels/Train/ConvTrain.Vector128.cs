using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Train;

// Vector128 tier (SSE / AdvSIMD): 4 lanes, multiply then add. Simpler than AVX2: the accumulators stay in the
// (L1-resident) accumulator buffer instead of registers; the sparse kernels find zeros the same way, one
// 8-lane mask per pixel (rows) or per 8 pixels (weights) from two 4-lane compares.
internal static unsafe partial class ConvTrain
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NonZeroMask8(float* p) =>
        (~Vector128.Equals(Vector128.Load(p), Vector128<float>.Zero)).ExtractMostSignificantBits()
        | (~Vector128.Equals(Vector128.Load(p + 4), Vector128<float>.Zero)).ExtractMostSignificantBits() << 4;

    /// <summary>acc[0..n) += b · w[0..n), n a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled128(float* acc, float* w, Vector128<float> b, int n)
    {
        for (int q = 0; q < n; q += 4)
            Vector128.Store(Vector128.Load(acc + q) + b * Vector128.Load(w + q), acc + q);
    }

    public static void Vector128RowsSparse(ConvTrainRowArgs* a)
    {
        int seg = a->KW * 8;
        for (int ow = 0; ow < a->Width; ow++)
        {
            float* acc = a->Acc + ow * 64;
            for (int r = 0; r < a->KH; r++)
            {
                float* x = a->Input + r * a->RowStride + ow * 8;
                float* w = a->Weights + r * seg * 64;
                for (int v = 0; v < seg; v += 8)
                {
                    uint m = NonZeroMask8(x + v);
                    while (m != 0)
                    {
                        int j = v + BitOperations.TrailingZeroCount(m);
                        m &= m - 1;
                        AddScaled128(acc, w + j * 64, Vector128.Create(x[j]), 64);
                    }
                }
            }
        }
    }

    public static void Vector128RowsDense(ConvTrainRowArgs* a)
    {
        int seg = a->KW * 8;
        for (int ow = 0; ow < a->Width; ow++)
        {
            float* acc = a->Acc + ow * 64;
            for (int r = 0; r < a->KH; r++)
            {
                float* x = a->Input + r * a->RowStride + ow * 8;
                float* w = a->Weights + r * seg * 64;
                for (int j = 0; j < seg; j++) AddScaled128(acc, w + j * 64, Vector128.Create(x[j]), 64);
            }
        }
    }

    public static void Vector128WeightsSparse(ConvTrainWeightArgs* a)
    {
        for (int row = 0; row < a->Rows; row++)
        {
            float* xr = a->X + row * a->XRowStride, dr = a->Dy + row * a->DyRowStride;
            for (int iw0 = 0; iw0 < a->Width; iw0 += 8)
            {
                uint m = NonZeroMask8(xr + iw0);
                while (m != 0)
                {
                    int iw = iw0 + BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    Slots128(a, dr + iw * 8, Vector128.Create(xr[iw]));
                }
            }
        }
    }

    public static void Vector128WeightsDense(ConvTrainWeightArgs* a)
    {
        for (int row = 0; row < a->Rows; row++)
        {
            float* xr = a->X + row * a->XRowStride, dr = a->Dy + row * a->DyRowStride;
            for (int iw = 0; iw < a->Width; iw++) Slots128(a, dr + iw * 8, Vector128.Create(xr[iw]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Slots128(ConvTrainWeightArgs* a, float* d, Vector128<float> b)
    {
        for (int s = 0; s < 9; s++) AddScaled128(a->Acc + s * 8, d + a->Offsets[s / 3] + a->Offsets[3 + s % 3], b, 8);
    }
}
