using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// Small n (aimed at n = 1), FMA machines: the gather body's lanes as eight scalar FMA chains per pass, each X
    /// element an ordinary load addressed by a 16-bit index split from a 64-bit word (four per load). A 16-element
    /// gather is microcoded into as many loads plus merging work; here a multiply-add costs its X load, a quarter index
    /// load and its weight as the FMA's memory operand, and equal lanes keep the eight chains in lockstep without row
    /// bounds. Columns one at a time, so it only competes at very small n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunScalarLanes(GsSpmmArgs* a)
    {
        int v = a->Lanes, n = a->N;
        float* sums = stackalloc float[16];
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j = 0; j < n; j++)
            {
                float* p = a->X + j;
                for (int h = 0; h < v; h += 8)
                {
                    float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
                    for (int s = s0; s < s1; s++)
                    {
                        int e = s * v + h;
                        float* w = a->Values + e;
                        ulong* q = (ulong*)(a->Cols16 + e);
                        ulong q0 = q[0], q1 = q[1];
                        c0 = MathF.FusedMultiplyAdd(w[0], p[(nint)(q0 & 0xFFFF) * n], c0);
                        c1 = MathF.FusedMultiplyAdd(w[1], p[(nint)(q0 >> 16 & 0xFFFF) * n], c1);
                        c2 = MathF.FusedMultiplyAdd(w[2], p[(nint)(q0 >> 32 & 0xFFFF) * n], c2);
                        c3 = MathF.FusedMultiplyAdd(w[3], p[(nint)(q0 >> 48) * n], c3);
                        c4 = MathF.FusedMultiplyAdd(w[4], p[(nint)(q1 & 0xFFFF) * n], c4);
                        c5 = MathF.FusedMultiplyAdd(w[5], p[(nint)(q1 >> 16 & 0xFFFF) * n], c5);
                        c6 = MathF.FusedMultiplyAdd(w[6], p[(nint)(q1 >> 32 & 0xFFFF) * n], c6);
                        c7 = MathF.FusedMultiplyAdd(w[7], p[(nint)(q1 >> 48) * n], c7);
                    }
                    sums[h] = c0; sums[h + 1] = c1; sums[h + 2] = c2; sums[h + 3] = c3;
                    sums[h + 4] = c4; sums[h + 5] = c5; sums[h + 6] = c6; sums[h + 7] = c7;
                }
                Emit(a, g, j, 1, sums);
            }
        }
    }

    /// <summary>
    /// As <see cref="RunScalarLanes"/> for V = 16 with all sixteen chains in one pass (AVX-512's 32 registers hold
    /// them), so each step's 64 bytes of values and 32 of indices are read once, not once per half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunScalarLanes16(GsSpmmArgs* a)
    {
        int n = a->N;
        float* sums = stackalloc float[16];
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j = 0; j < n; j++)
            {
                float* p = a->X + j;
                float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, c8 = 0, c9 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0;
                for (int s = s0; s < s1; s++)
                {
                    float* w = a->Values + s * 16;
                    ulong* q = (ulong*)(a->Cols16 + s * 16);
                    ulong q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
                    c0 = MathF.FusedMultiplyAdd(w[0], p[(nint)(q0 & 0xFFFF) * n], c0);
                    c1 = MathF.FusedMultiplyAdd(w[1], p[(nint)(q0 >> 16 & 0xFFFF) * n], c1);
                    c2 = MathF.FusedMultiplyAdd(w[2], p[(nint)(q0 >> 32 & 0xFFFF) * n], c2);
                    c3 = MathF.FusedMultiplyAdd(w[3], p[(nint)(q0 >> 48) * n], c3);
                    c4 = MathF.FusedMultiplyAdd(w[4], p[(nint)(q1 & 0xFFFF) * n], c4);
                    c5 = MathF.FusedMultiplyAdd(w[5], p[(nint)(q1 >> 16 & 0xFFFF) * n], c5);
                    c6 = MathF.FusedMultiplyAdd(w[6], p[(nint)(q1 >> 32 & 0xFFFF) * n], c6);
                    c7 = MathF.FusedMultiplyAdd(w[7], p[(nint)(q1 >> 48) * n], c7);
                    c8 = MathF.FusedMultiplyAdd(w[8], p[(nint)(q2 & 0xFFFF) * n], c8);
                    c9 = MathF.FusedMultiplyAdd(w[9], p[(nint)(q2 >> 16 & 0xFFFF) * n], c9);
                    c10 = MathF.FusedMultiplyAdd(w[10], p[(nint)(q2 >> 32 & 0xFFFF) * n], c10);
                    c11 = MathF.FusedMultiplyAdd(w[11], p[(nint)(q2 >> 48) * n], c11);
                    c12 = MathF.FusedMultiplyAdd(w[12], p[(nint)(q3 & 0xFFFF) * n], c12);
                    c13 = MathF.FusedMultiplyAdd(w[13], p[(nint)(q3 >> 16 & 0xFFFF) * n], c13);
                    c14 = MathF.FusedMultiplyAdd(w[14], p[(nint)(q3 >> 32 & 0xFFFF) * n], c14);
                    c15 = MathF.FusedMultiplyAdd(w[15], p[(nint)(q3 >> 48) * n], c15);
                }
                sums[0] = c0; sums[1] = c1; sums[2] = c2; sums[3] = c3; sums[4] = c4; sums[5] = c5; sums[6] = c6; sums[7] = c7;
                sums[8] = c8; sums[9] = c9; sums[10] = c10; sums[11] = c11; sums[12] = c12; sums[13] = c13; sums[14] = c14; sums[15] = c15;
                Emit(a, g, j, 1, sums);
            }
        }
    }

    /// <summary>
    /// As <see cref="RunScalarLanes16"/> with the X offsets prescaled for this n (<see cref="GsSpmmArgs.Scaled16"/>):
    /// a multiply-add is an offset load, an X load and the FMA with its weight as memory operand, without the shifts,
    /// masks and multiply by n of the packed indices. At n = 1 the offsets are the columns.
    /// </summary>
    public static void RunScalarLanesScaled16(GsSpmmArgs* a)
    {
        if (a->Scaled16 is not null) RunScalarLanesScaled16<GsScaled16>(a);
        else RunScalarLanesScaled16<GsScaled32>(a);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunScalarLanesScaled16<TOff>(GsSpmmArgs* a) where TOff : struct, IGsScaled
    {
        int n = a->N;
        float* sums = stackalloc float[16];
        void* o = TOff.Base(a);
        float* w = a->Values;
        for (int g = a->G0; g < a->G1; g++)
        {
            nint e0 = (nint)a->Offsets[g] * 16, e1 = (nint)a->Offsets[g + 1] * 16;
            for (int j = 0; j < n; j++)
            {
                float* p = a->X + j;
                float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, c8 = 0, c9 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0;
                for (nint e = e0; e < e1; e += 16)
                {
                    c0 = MathF.FusedMultiplyAdd(w[e + 0], p[TOff.At(o, e + 0)], c0);
                    c1 = MathF.FusedMultiplyAdd(w[e + 1], p[TOff.At(o, e + 1)], c1);
                    c2 = MathF.FusedMultiplyAdd(w[e + 2], p[TOff.At(o, e + 2)], c2);
                    c3 = MathF.FusedMultiplyAdd(w[e + 3], p[TOff.At(o, e + 3)], c3);
                    c4 = MathF.FusedMultiplyAdd(w[e + 4], p[TOff.At(o, e + 4)], c4);
                    c5 = MathF.FusedMultiplyAdd(w[e + 5], p[TOff.At(o, e + 5)], c5);
                    c6 = MathF.FusedMultiplyAdd(w[e + 6], p[TOff.At(o, e + 6)], c6);
                    c7 = MathF.FusedMultiplyAdd(w[e + 7], p[TOff.At(o, e + 7)], c7);
                    c8 = MathF.FusedMultiplyAdd(w[e + 8], p[TOff.At(o, e + 8)], c8);
                    c9 = MathF.FusedMultiplyAdd(w[e + 9], p[TOff.At(o, e + 9)], c9);
                    c10 = MathF.FusedMultiplyAdd(w[e + 10], p[TOff.At(o, e + 10)], c10);
                    c11 = MathF.FusedMultiplyAdd(w[e + 11], p[TOff.At(o, e + 11)], c11);
                    c12 = MathF.FusedMultiplyAdd(w[e + 12], p[TOff.At(o, e + 12)], c12);
                    c13 = MathF.FusedMultiplyAdd(w[e + 13], p[TOff.At(o, e + 13)], c13);
                    c14 = MathF.FusedMultiplyAdd(w[e + 14], p[TOff.At(o, e + 14)], c14);
                    c15 = MathF.FusedMultiplyAdd(w[e + 15], p[TOff.At(o, e + 15)], c15);
                }
                sums[0] = c0; sums[1] = c1; sums[2] = c2; sums[3] = c3; sums[4] = c4; sums[5] = c5; sums[6] = c6; sums[7] = c7;
                sums[8] = c8; sums[9] = c9; sums[10] = c10; sums[11] = c11; sums[12] = c12; sums[13] = c13; sums[14] = c14; sums[15] = c15;
                Emit(a, g, j, 1, sums);
            }
        }
    }

}
