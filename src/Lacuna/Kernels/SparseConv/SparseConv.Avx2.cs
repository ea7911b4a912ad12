using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.SparseConv;

internal static unsafe partial class SparseConv
{
    /// <summary>
    /// AVX2+FMA tier: 4 ymm accumulators (32 grid points) per pass. Each non-zero costs one broadcast and four
    /// load+FMA pairs; the 8-point and partial tails run the same loop with fewer accumulators.
    /// </summary>
    public static void Avx2Row32(SparseConvArgs* a)
    {
        float* planes = a->Planes, vals = a->Values, grid = a->Grid;
        int* offs = a->Offsets;
        int count = a->Count, g = a->Start, end = a->End;
        var bias = Vector256.Create(a->Bias);
        var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Max);
        bool clamp = a->Activation != ActivationKind.None;
        for (; g + 32 <= end; g += 32)
        {
            Vector256<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
            for (int i = 0; i < count; i++)
            {
                var v = Vector256.Create(vals[i]);
                float* p = planes + offs[i] + g;
                s0 = Fma.MultiplyAdd(v, Avx.LoadVector256(p), s0);
                s1 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 8), s1);
                s2 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 16), s2);
                s3 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 24), s3);
            }
            if (clamp)
            {
                s0 = Avx.Min(Avx.Max(s0, lo), hi); s1 = Avx.Min(Avx.Max(s1, lo), hi);
                s2 = Avx.Min(Avx.Max(s2, lo), hi); s3 = Avx.Min(Avx.Max(s3, lo), hi);
            }
            Avx.Store(grid + g, s0); Avx.Store(grid + g + 8, s1); Avx.Store(grid + g + 16, s2); Avx.Store(grid + g + 24, s3);
        }
        // Tail: one vector at a time; the last may be partial (reads stay in the slack, stores are masked).
        for (; g < end; g += 8)
        {
            Vector256<float> s = bias;
            for (int i = 0; i < count; i++)
                s = Fma.MultiplyAdd(Vector256.Create(vals[i]), Avx.LoadVector256(planes + offs[i] + g), s);
            if (clamp) s = Avx.Min(Avx.Max(s, lo), hi);
            int n = end - g;
            if (n >= 8) Avx.Store(grid + g, s);
            else Avx.MaskStore(grid + g, TailMask(n), s);
        }
    }

    private static Vector256<float> TailMask(int n) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n)).AsSingle();
}
