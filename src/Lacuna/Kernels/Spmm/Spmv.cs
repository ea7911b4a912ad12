using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// N = 1 (a fully connected layer at batch 1): y[m] = act(bias[m] + Σ_i w_i · x[col_i]). A column tile would waste
/// all but one lane (`lacuna bench spmm` on DLMC final_dense at 0.9: 0.51x of OpenBLAS sgemm with a 64-column
/// tile), so the vector runs along the row's non-zeros instead: gather 8 x values, FMA with 8 weights, reduce once.
/// </summary>
internal static unsafe class Spmv
{
    public static void Rows(SpmmPlan plan, int m0, int m1, float* x, float* y)
    {
        bool bf16 = plan.Precision.HasBf16Weights(); // X stays fp32 here (SpmmPrecision.BFloat16Activations)
        if (plan.Index16) { if (bf16) Rows<Index16, WeightBf16>(plan, m0, m1, x, y); else Rows<Index16, WeightF32>(plan, m0, m1, x, y); }
        else { if (bf16) Rows<Index32, WeightBf16>(plan, m0, m1, x, y); else Rows<Index32, WeightF32>(plan, m0, m1, x, y); }
    }

    private static void Rows<TIndex, TWeight>(SpmmPlan plan, int m0, int m1, float* x, float* y)
        where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        int[] offsets = plan.RowOffsets;
        void* cols = plan.ColsPointer, values = plan.ValuesPointer;
        float* bias = plan.BiasPointer;
        var act = plan.Activation;
        bool avx2 = plan.Tiles[0].Tier >= IsaTier.Avx2Fma;
        for (int m = m0; m < m1; m++)
        {
            int i = offsets[m], end = offsets[m + 1];
            float sum = 0f;
            if (avx2 && end - i >= 8)
            {
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    acc0 = Fma.MultiplyAdd(TWeight.Get8(values, i), Avx2.GatherVector256(x, TIndex.Get8(cols, i), 4), acc0);
                    acc1 = Fma.MultiplyAdd(TWeight.Get8(values, i + 8), Avx2.GatherVector256(x, TIndex.Get8(cols, i + 8), 4), acc1);
                }
                for (; i + 8 <= end; i += 8)
                    acc0 = Fma.MultiplyAdd(TWeight.Get8(values, i), Avx2.GatherVector256(x, TIndex.Get8(cols, i), 4), acc0);
                sum = Vector256.Sum(acc0 + acc1);
            }
            for (; i < end; i++) sum += TWeight.Get(values, i) * x[TIndex.Get(cols, i)];
            y[m] = act.Apply(bias[m] + sum);
        }
    }
}
