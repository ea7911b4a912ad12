using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.BlockConv;

internal static unsafe partial class BlockConv
{
    /// <summary>
    /// Vector128 tier: TRows (≤ 4) channels × 2 vectors (8 grid points) per pass, 8 accumulators; the remainder
    /// (&lt; 8 points) on the scalar tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128<TRows>(BlockConvArgs* a) where TRows : struct, IBlockRows
    {
        int rows = TRows.Rows, count = a->Count, g = a->Start, end = a->End;
        int* offs = a->Offsets;
        float* bias = a->Bias;
        bool clamp = a->Activation != ActivationKind.None;
        var lo = System.Runtime.Intrinsics.Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = System.Runtime.Intrinsics.Vector128.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
        for (; g + 8 <= end; g += 8)
        {
            float* planes = a->Planes + g;
            Vector128<float> a00 = System.Runtime.Intrinsics.Vector128.Create(bias[0]), a01 = a00;
            Vector128<float> a10 = rows > 1 ? System.Runtime.Intrinsics.Vector128.Create(bias[1]) : default, a11 = a10;
            Vector128<float> a20 = rows > 2 ? System.Runtime.Intrinsics.Vector128.Create(bias[2]) : default, a21 = a20;
            Vector128<float> a30 = rows > 3 ? System.Runtime.Intrinsics.Vector128.Create(bias[3]) : default, a31 = a30;
            float* w = a->Weights;
            for (int i = 0; i < count; i++, w += rows)
            {
                float* p = planes + offs[i];
                var x0 = System.Runtime.Intrinsics.Vector128.Load(p);
                var x1 = System.Runtime.Intrinsics.Vector128.Load(p + 4);
                var w0 = System.Runtime.Intrinsics.Vector128.Create(w[0]); a00 += w0 * x0; a01 += w0 * x1;
                if (rows > 1) { var w1 = System.Runtime.Intrinsics.Vector128.Create(w[1]); a10 += w1 * x0; a11 += w1 * x1; }
                if (rows > 2) { var w2 = System.Runtime.Intrinsics.Vector128.Create(w[2]); a20 += w2 * x0; a21 += w2 * x1; }
                if (rows > 3) { var w3 = System.Runtime.Intrinsics.Vector128.Create(w[3]); a30 += w3 * x0; a31 += w3 * x1; }
            }
            Put128(a->Grid + g, a00, a01, clamp, lo, hi);
            if (rows > 1) Put128(a->Grid + a->GridStride + g, a10, a11, clamp, lo, hi);
            if (rows > 2) Put128(a->Grid + 2 * a->GridStride + g, a20, a21, clamp, lo, hi);
            if (rows > 3) Put128(a->Grid + 3 * a->GridStride + g, a30, a31, clamp, lo, hi);
        }
        if (g < end) ScalarPoints<TRows>(a, g, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put128(float* dst, Vector128<float> s0, Vector128<float> s1, bool clamp, Vector128<float> lo, Vector128<float> hi)
    {
        if (clamp)
        {
            s0 = System.Runtime.Intrinsics.Vector128.Min(System.Runtime.Intrinsics.Vector128.Max(s0, lo), hi);
            s1 = System.Runtime.Intrinsics.Vector128.Min(System.Runtime.Intrinsics.Vector128.Max(s1, lo), hi);
        }
        s0.Store(dst);
        s1.Store(dst + 4);
    }
}
