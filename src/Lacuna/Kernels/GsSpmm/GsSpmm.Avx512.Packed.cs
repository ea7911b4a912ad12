using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.SparseConv;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// As <see cref="RunAvx512Rows16"/> (V = 16, all lanes in one pass, each lane's accumulator a vector along n) with the
    /// step's 16-bit column indices read four at a time as one 64-bit word and split in general registers: the rows
    /// body spends three loads per multiply-add (index, broadcast weight, X row), this one two and a quarter, and the
    /// loads, not the FMAs, bound it. 16 columns per pass; the last partial pass under a lane mask. Row-wise GS stores
    /// each lane's vector straight into its output row (bias and activation applied in registers): the scalar
    /// epilogue cost a third of the multiply-adds on 2048×512 at n = 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx512Rows16Packed(GsSpmmArgs* a)
    {
        int n = a->N;
        float* sums = stackalloc float[16 * 16]; // for the layouts that add banks; here, not per pass, so the pass inlines
        for (int g = a->G0; g < a->G1; g++)
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                int jc = Math.Min(16, n - j0);
                if (jc == 16) Packed512<WholeVectors>(a, g, j0, jc, sums);
                else Packed512<MaskedLastVector>(a, g, j0, jc, sums);
            }
    }

    /// <summary>As <see cref="RunAvx512Rows16Packed"/> with 8 columns per pass in 256-bit registers (n = 8: no half-empty 512-bit vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx512Rows16Packed8(GsSpmmArgs* a)
    {
        int n = a->N;
        float* sums = stackalloc float[16 * 8];
        for (int g = a->G0; g < a->G1; g++)
            for (int j0 = 0; j0 < n; j0 += 8)
            {
                int jc = Math.Min(8, n - j0);
                if (jc == 8) Packed256<WholeVectors>(a, g, j0, jc, sums);
                else Packed256<MaskedLastVector>(a, g, j0, jc, sums);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row512<TTail>(float* p, Vector512<float> mask) where TTail : struct, ISparseConvTail =>
        TTail.Masked ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Packed512<TTail>(GsSpmmArgs* a, int g, int j0, int jc, float* sums) where TTail : struct, ISparseConvTail
    {
        nint n = a->N;
        var z = Vector512<float>.Zero;
        var mask = TTail.Masked ? LaneMask.First16(jc) : z;
        float* p = a->X + j0;
        Vector512<float> c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z;
        int s1 = a->Offsets[g + 1];
        for (int s = a->Offsets[g]; s < s1; s++)
        {
            float* w = a->Values + s * 16;
            ulong* q = (ulong*)(a->Cols16 + s * 16);
            ulong q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[0]), Row512<TTail>(p + (nint)(q0 & 0xFFFF) * n, mask), c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[1]), Row512<TTail>(p + (nint)(q0 >> 16 & 0xFFFF) * n, mask), c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[2]), Row512<TTail>(p + (nint)(q0 >> 32 & 0xFFFF) * n, mask), c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[3]), Row512<TTail>(p + (nint)(q0 >> 48) * n, mask), c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[4]), Row512<TTail>(p + (nint)(q1 & 0xFFFF) * n, mask), c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[5]), Row512<TTail>(p + (nint)(q1 >> 16 & 0xFFFF) * n, mask), c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[6]), Row512<TTail>(p + (nint)(q1 >> 32 & 0xFFFF) * n, mask), c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[7]), Row512<TTail>(p + (nint)(q1 >> 48) * n, mask), c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[8]), Row512<TTail>(p + (nint)(q2 & 0xFFFF) * n, mask), c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[9]), Row512<TTail>(p + (nint)(q2 >> 16 & 0xFFFF) * n, mask), c9);
            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[10]), Row512<TTail>(p + (nint)(q2 >> 32 & 0xFFFF) * n, mask), c10);
            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[11]), Row512<TTail>(p + (nint)(q2 >> 48) * n, mask), c11);
            c12 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[12]), Row512<TTail>(p + (nint)(q3 & 0xFFFF) * n, mask), c12);
            c13 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[13]), Row512<TTail>(p + (nint)(q3 >> 16 & 0xFFFF) * n, mask), c13);
            c14 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[14]), Row512<TTail>(p + (nint)(q3 >> 32 & 0xFFFF) * n, mask), c14);
            c15 = Avx512F.FusedMultiplyAdd(Vector512.Create(w[15]), Row512<TTail>(p + (nint)(q3 >> 48) * n, mask), c15);
        }
        Finish512<TTail>(a, g, j0, jc, sums, mask, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row256<TTail>(float* p, Vector256<float> mask) where TTail : struct, ISparseConvTail =>
        TTail.Masked ? Avx.MaskLoad(p, mask) : Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Packed256<TTail>(GsSpmmArgs* a, int g, int j0, int jc, float* sums) where TTail : struct, ISparseConvTail
    {
        nint n = a->N;
        var z = Vector256<float>.Zero;
        var mask = TTail.Masked ? LaneMask.First8(jc) : z;
        float* p = a->X + j0;
        Vector256<float> c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z;
        int s1 = a->Offsets[g + 1];
        for (int s = a->Offsets[g]; s < s1; s++)
        {
            float* w = a->Values + s * 16;
            ulong* q = (ulong*)(a->Cols16 + s * 16);
            ulong q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
            c0 = Fma.MultiplyAdd(Vector256.Create(w[0]), Row256<TTail>(p + (nint)(q0 & 0xFFFF) * n, mask), c0);
            c1 = Fma.MultiplyAdd(Vector256.Create(w[1]), Row256<TTail>(p + (nint)(q0 >> 16 & 0xFFFF) * n, mask), c1);
            c2 = Fma.MultiplyAdd(Vector256.Create(w[2]), Row256<TTail>(p + (nint)(q0 >> 32 & 0xFFFF) * n, mask), c2);
            c3 = Fma.MultiplyAdd(Vector256.Create(w[3]), Row256<TTail>(p + (nint)(q0 >> 48) * n, mask), c3);
            c4 = Fma.MultiplyAdd(Vector256.Create(w[4]), Row256<TTail>(p + (nint)(q1 & 0xFFFF) * n, mask), c4);
            c5 = Fma.MultiplyAdd(Vector256.Create(w[5]), Row256<TTail>(p + (nint)(q1 >> 16 & 0xFFFF) * n, mask), c5);
            c6 = Fma.MultiplyAdd(Vector256.Create(w[6]), Row256<TTail>(p + (nint)(q1 >> 32 & 0xFFFF) * n, mask), c6);
            c7 = Fma.MultiplyAdd(Vector256.Create(w[7]), Row256<TTail>(p + (nint)(q1 >> 48) * n, mask), c7);
            c8 = Fma.MultiplyAdd(Vector256.Create(w[8]), Row256<TTail>(p + (nint)(q2 & 0xFFFF) * n, mask), c8);
            c9 = Fma.MultiplyAdd(Vector256.Create(w[9]), Row256<TTail>(p + (nint)(q2 >> 16 & 0xFFFF) * n, mask), c9);
            c10 = Fma.MultiplyAdd(Vector256.Create(w[10]), Row256<TTail>(p + (nint)(q2 >> 32 & 0xFFFF) * n, mask), c10);
            c11 = Fma.MultiplyAdd(Vector256.Create(w[11]), Row256<TTail>(p + (nint)(q2 >> 48) * n, mask), c11);
            c12 = Fma.MultiplyAdd(Vector256.Create(w[12]), Row256<TTail>(p + (nint)(q3 & 0xFFFF) * n, mask), c12);
            c13 = Fma.MultiplyAdd(Vector256.Create(w[13]), Row256<TTail>(p + (nint)(q3 >> 16 & 0xFFFF) * n, mask), c13);
            c14 = Fma.MultiplyAdd(Vector256.Create(w[14]), Row256<TTail>(p + (nint)(q3 >> 32 & 0xFFFF) * n, mask), c14);
            c15 = Fma.MultiplyAdd(Vector256.Create(w[15]), Row256<TTail>(p + (nint)(q3 >> 48) * n, mask), c15);
        }
        Finish256<TTail>(a, g, j0, jc, sums, mask, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
    }

    /// <summary>
    /// A 16-lane pass's outputs: row-wise GS stores each lane's vector straight into its output row (bias and
    /// activation applied in registers; the scalar epilogue cost a third of the multiply-adds on 2048×512 at n = 16),
    /// the other layouts add their banks through <see cref="Emit(GsSpmmArgs*, int, int, int, float*, int, int)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish512<TTail>(GsSpmmArgs* a, int g, int j0, int jc, float* sums, Vector512<float> mask,
        Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, Vector512<float> c4, Vector512<float> c5, Vector512<float> c6, Vector512<float> c7,
        Vector512<float> c8, Vector512<float> c9, Vector512<float> c10, Vector512<float> c11, Vector512<float> c12, Vector512<float> c13, Vector512<float> c14, Vector512<float> c15) where TTail : struct, ISparseConvTail
    {
        nint n = a->N;
        if (a->Banks == 1)
        {
            // Row-wise: lane l's vector is row g·16 + l's output segment, stored as it is (no scalar epilogue).
            var lo = Vector512.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
            var hi = Vector512.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
            bool clamp = a->Activation != ActivationKind.None;
            int r0 = g * 16, rows = Math.Min(16, a->M - r0);
            float* y = a->Y + (nint)r0 * n + j0;
            float* b = a->Bias + r0;
            TailVectors512.Store<TTail>(y, c0 + Vector512.Create(b[0]), 0, 1, mask, clamp, lo, hi);
            if (rows > 1) TailVectors512.Store<TTail>(y + n, c1 + Vector512.Create(b[1]), 0, 1, mask, clamp, lo, hi);
            if (rows > 2) TailVectors512.Store<TTail>(y + 2 * n, c2 + Vector512.Create(b[2]), 0, 1, mask, clamp, lo, hi);
            if (rows > 3) TailVectors512.Store<TTail>(y + 3 * n, c3 + Vector512.Create(b[3]), 0, 1, mask, clamp, lo, hi);
            if (rows > 4) TailVectors512.Store<TTail>(y + 4 * n, c4 + Vector512.Create(b[4]), 0, 1, mask, clamp, lo, hi);
            if (rows > 5) TailVectors512.Store<TTail>(y + 5 * n, c5 + Vector512.Create(b[5]), 0, 1, mask, clamp, lo, hi);
            if (rows > 6) TailVectors512.Store<TTail>(y + 6 * n, c6 + Vector512.Create(b[6]), 0, 1, mask, clamp, lo, hi);
            if (rows > 7) TailVectors512.Store<TTail>(y + 7 * n, c7 + Vector512.Create(b[7]), 0, 1, mask, clamp, lo, hi);
            if (rows > 8) TailVectors512.Store<TTail>(y + 8 * n, c8 + Vector512.Create(b[8]), 0, 1, mask, clamp, lo, hi);
            if (rows > 9) TailVectors512.Store<TTail>(y + 9 * n, c9 + Vector512.Create(b[9]), 0, 1, mask, clamp, lo, hi);
            if (rows > 10) TailVectors512.Store<TTail>(y + 10 * n, c10 + Vector512.Create(b[10]), 0, 1, mask, clamp, lo, hi);
            if (rows > 11) TailVectors512.Store<TTail>(y + 11 * n, c11 + Vector512.Create(b[11]), 0, 1, mask, clamp, lo, hi);
            if (rows > 12) TailVectors512.Store<TTail>(y + 12 * n, c12 + Vector512.Create(b[12]), 0, 1, mask, clamp, lo, hi);
            if (rows > 13) TailVectors512.Store<TTail>(y + 13 * n, c13 + Vector512.Create(b[13]), 0, 1, mask, clamp, lo, hi);
            if (rows > 14) TailVectors512.Store<TTail>(y + 14 * n, c14 + Vector512.Create(b[14]), 0, 1, mask, clamp, lo, hi);
            if (rows > 15) TailVectors512.Store<TTail>(y + 15 * n, c15 + Vector512.Create(b[15]), 0, 1, mask, clamp, lo, hi);
            return;
        }
        c0.Store(sums); c1.Store(sums + 16); c2.Store(sums + 32); c3.Store(sums + 48);
        c4.Store(sums + 64); c5.Store(sums + 80); c6.Store(sums + 96); c7.Store(sums + 112);
        c8.Store(sums + 128); c9.Store(sums + 144); c10.Store(sums + 160); c11.Store(sums + 176);
        c12.Store(sums + 192); c13.Store(sums + 208); c14.Store(sums + 224); c15.Store(sums + 240);
        Emit(a, g, j0, jc, sums, laneStride: 16, colStride: 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish256<TTail>(GsSpmmArgs* a, int g, int j0, int jc, float* sums, Vector256<float> mask,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3, Vector256<float> c4, Vector256<float> c5, Vector256<float> c6, Vector256<float> c7,
        Vector256<float> c8, Vector256<float> c9, Vector256<float> c10, Vector256<float> c11, Vector256<float> c12, Vector256<float> c13, Vector256<float> c14, Vector256<float> c15) where TTail : struct, ISparseConvTail
    {
        nint n = a->N;
        if (a->Banks == 1)
        {
            // Row-wise: lane l's vector is row g·16 + l's output segment, stored as it is (no scalar epilogue).
            var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
            var hi = Vector256.Create(a->Activation == ActivationKind.Relu ? float.PositiveInfinity : a->Max);
            bool clamp = a->Activation != ActivationKind.None;
            int r0 = g * 16, rows = Math.Min(16, a->M - r0);
            float* y = a->Y + (nint)r0 * n + j0;
            float* b = a->Bias + r0;
            Put256<TTail>(y, c0 + Vector256.Create(b[0]), mask, clamp, lo, hi);
            if (rows > 1) Put256<TTail>(y + n, c1 + Vector256.Create(b[1]), mask, clamp, lo, hi);
            if (rows > 2) Put256<TTail>(y + 2 * n, c2 + Vector256.Create(b[2]), mask, clamp, lo, hi);
            if (rows > 3) Put256<TTail>(y + 3 * n, c3 + Vector256.Create(b[3]), mask, clamp, lo, hi);
            if (rows > 4) Put256<TTail>(y + 4 * n, c4 + Vector256.Create(b[4]), mask, clamp, lo, hi);
            if (rows > 5) Put256<TTail>(y + 5 * n, c5 + Vector256.Create(b[5]), mask, clamp, lo, hi);
            if (rows > 6) Put256<TTail>(y + 6 * n, c6 + Vector256.Create(b[6]), mask, clamp, lo, hi);
            if (rows > 7) Put256<TTail>(y + 7 * n, c7 + Vector256.Create(b[7]), mask, clamp, lo, hi);
            if (rows > 8) Put256<TTail>(y + 8 * n, c8 + Vector256.Create(b[8]), mask, clamp, lo, hi);
            if (rows > 9) Put256<TTail>(y + 9 * n, c9 + Vector256.Create(b[9]), mask, clamp, lo, hi);
            if (rows > 10) Put256<TTail>(y + 10 * n, c10 + Vector256.Create(b[10]), mask, clamp, lo, hi);
            if (rows > 11) Put256<TTail>(y + 11 * n, c11 + Vector256.Create(b[11]), mask, clamp, lo, hi);
            if (rows > 12) Put256<TTail>(y + 12 * n, c12 + Vector256.Create(b[12]), mask, clamp, lo, hi);
            if (rows > 13) Put256<TTail>(y + 13 * n, c13 + Vector256.Create(b[13]), mask, clamp, lo, hi);
            if (rows > 14) Put256<TTail>(y + 14 * n, c14 + Vector256.Create(b[14]), mask, clamp, lo, hi);
            if (rows > 15) Put256<TTail>(y + 15 * n, c15 + Vector256.Create(b[15]), mask, clamp, lo, hi);
            return;
        }
        c0.Store(sums); c1.Store(sums + 8); c2.Store(sums + 16); c3.Store(sums + 24);
        c4.Store(sums + 32); c5.Store(sums + 40); c6.Store(sums + 48); c7.Store(sums + 56);
        c8.Store(sums + 64); c9.Store(sums + 72); c10.Store(sums + 80); c11.Store(sums + 88);
        c12.Store(sums + 96); c13.Store(sums + 104); c14.Store(sums + 112); c15.Store(sums + 120);
        Emit(a, g, j0, jc, sums, laneStride: 8, colStride: 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put256<TTail>(float* dst, Vector256<float> s, Vector256<float> mask, bool clamp, Vector256<float> lo, Vector256<float> hi)
        where TTail : struct, ISparseConvTail
    {
        if (clamp) s = Vector256.Min(Vector256.Max(s, lo), hi);
        if (TTail.Masked) Avx.MaskStore(dst, mask, s);
        else s.Store(dst);
    }
}
