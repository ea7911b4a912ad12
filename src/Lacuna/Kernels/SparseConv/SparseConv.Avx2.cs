using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.SparseConv;

internal static unsafe partial class SparseConv
{
    /// <summary>
    /// AVX2+FMA tier, 64 grid points (8 ymm accumulators) per pass. Eight independent FMA chains are what
    /// hides Zen 3's 4-cycle FMA latency at 2 FMAs/cycle: with 4 chains (a 32-point tile) the same layers ran
    /// about half as fast (`lacuna bench conv`, rn50 3x3 256@14 at 0.9: 2.75 ms with 4 chains). Each non-zero
    /// costs one broadcast and eight load+FMA pairs, so the kernel is bound by two 256-bit loads per cycle.
    /// The remainder (&lt; 64 points) runs one 32- or 64-point pass whose extra lanes read the planes' slack
    /// and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Row64(SparseConvArgs* a)
    {
        int g = a->Start, end = a->End;
        for (; g + 64 <= end; g += 64) Avx2Pass64(a, g, 64);
        int rest = end - g;
        if (rest > 32) Avx2Pass64(a, g, rest);
        else if (rest > 0) Avx2Pass32(a, g, rest);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2Pass64(SparseConvArgs* a, int g, int valid)
    {
        float* planes = a->Planes + g, vals = a->Values;
        int* offs = a->Offsets;
        int count = a->Count;
        var bias = Vector256.Create(a->Bias);
        Vector256<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias, s4 = bias, s5 = bias, s6 = bias, s7 = bias;
        for (int i = 0; i < count; i++)
        {
            var v = Vector256.Create(vals[i]);
            float* p = planes + offs[i];
            s0 = Fma.MultiplyAdd(v, Avx.LoadVector256(p), s0);
            s1 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 8), s1);
            s2 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 16), s2);
            s3 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 24), s3);
            s4 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 32), s4);
            s5 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 40), s5);
            s6 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 48), s6);
            s7 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 56), s7);
        }
        float* dst = a->Grid + g;
        Store(a, dst, s0, valid); Store(a, dst + 8, s1, valid - 8); Store(a, dst + 16, s2, valid - 16); Store(a, dst + 24, s3, valid - 24);
        Store(a, dst + 32, s4, valid - 32); Store(a, dst + 40, s5, valid - 40); Store(a, dst + 48, s6, valid - 48); Store(a, dst + 56, s7, valid - 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2Pass32(SparseConvArgs* a, int g, int valid)
    {
        float* planes = a->Planes + g, vals = a->Values;
        int* offs = a->Offsets;
        int count = a->Count;
        var bias = Vector256.Create(a->Bias);
        Vector256<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
        for (int i = 0; i < count; i++)
        {
            var v = Vector256.Create(vals[i]);
            float* p = planes + offs[i];
            s0 = Fma.MultiplyAdd(v, Avx.LoadVector256(p), s0);
            s1 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 8), s1);
            s2 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 16), s2);
            s3 = Fma.MultiplyAdd(v, Avx.LoadVector256(p + 24), s3);
        }
        float* dst = a->Grid + g;
        Store(a, dst, s0, valid); Store(a, dst + 8, s1, valid - 8); Store(a, dst + 16, s2, valid - 16); Store(a, dst + 24, s3, valid - 24);
    }

    /// <summary>Epilogue (activation) and store of one vector, of which the first <paramref name="valid"/> lanes are kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(SparseConvArgs* a, float* dst, Vector256<float> s, int valid)
    {
        if (valid <= 0) return;
        if (a->Activation == ActivationKind.Relu) s = Avx.Max(s, Vector256<float>.Zero);
        else if (a->Activation == ActivationKind.Clip) s = Avx.Min(Avx.Max(s, Vector256.Create(a->Min)), Vector256.Create(a->Max));
        if (valid >= 8) Avx.Store(dst, s);
        else Avx.MaskStore(dst, LaneMask.First8(valid), s);
    }
}
