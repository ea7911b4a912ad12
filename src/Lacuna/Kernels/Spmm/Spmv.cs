using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// N = 1 (a fully connected layer at batch 1): y[m] = act(bias[m] + Σ_i values[i] · x[cols[i]]). A 64-column
/// tile would waste 63 of 64 lanes (`lacuna bench spmm` on DLMC final_dense at 0.9: 0.51x of OpenBLAS sgemm),
/// so the vector runs along the row's non-zeros instead: gather 8 x values, FMA with 8 weights, reduce once.
/// </summary>
internal static unsafe class Spmv
{
    public static void Rows(int m0, int m1, int[] rowOffsets, int* cols, float* values, float* bias, float* x, float* y,
        Activation act, IsaTier tier)
    {
        for (int m = m0; m < m1; m++)
        {
            int i = rowOffsets[m], end = rowOffsets[m + 1];
            float sum = 0f;
            if (tier == IsaTier.Avx2Fma && end - i >= 8)
            {
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    acc0 = Fma.MultiplyAdd(Avx.LoadVector256(values + i), Avx2.GatherVector256(x, Avx.LoadVector256(cols + i), 4), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.LoadVector256(values + i + 8), Avx2.GatherVector256(x, Avx.LoadVector256(cols + i + 8), 4), acc1);
                }
                for (; i + 8 <= end; i += 8)
                    acc0 = Fma.MultiplyAdd(Avx.LoadVector256(values + i), Avx2.GatherVector256(x, Avx.LoadVector256(cols + i), 4), acc0);
                sum = Vector256.Sum(acc0 + acc1);
            }
            for (; i < end; i++) sum += values[i] * x[cols[i]];
            y[m] = act.Apply(bias[m] + sum);
        }
    }
}
