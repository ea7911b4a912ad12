using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// Avx512, n ≥ 2: lanes along the group's outputs as in the gather body, but each lane's accumulator is a vector
    /// along n (16 columns per pass): per step each of 8 lanes loads its X row segment and multiplies it by its
    /// broadcast weight. Equal steps per lane let 8 rows run in lockstep, 8 independent FMA chains with no per-row
    /// bounds, where the CSR kernel walks one row at a time; from a few columns up this beats gathering element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx512Rows(GsSpmmArgs* a)
    {
        int v = a->Lanes;
        nint n = a->N;
        float* sums = stackalloc float[16 * 16];
        var z = Vector512<float>.Zero;
        float* vals = a->Values;
        int* cols = a->Cols;
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                int jc = (int)Math.Min(16, n - j0);
                bool full = jc == 16;
                var mask = LaneMask.First16(jc);
                float* p = a->X + j0;
                for (int h = 0; h < v; h += 8)
                {
                    Vector512<float> c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
                    for (int s = s0; s < s1; s++)
                    {
                        int e = s * v + h;
                        if (full)
                        {
                            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 0]), Vector512.Load(p + (nint)cols[e + 0] * n), c0);
                            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 1]), Vector512.Load(p + (nint)cols[e + 1] * n), c1);
                            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 2]), Vector512.Load(p + (nint)cols[e + 2] * n), c2);
                            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 3]), Vector512.Load(p + (nint)cols[e + 3] * n), c3);
                            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 4]), Vector512.Load(p + (nint)cols[e + 4] * n), c4);
                            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 5]), Vector512.Load(p + (nint)cols[e + 5] * n), c5);
                            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 6]), Vector512.Load(p + (nint)cols[e + 6] * n), c6);
                            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 7]), Vector512.Load(p + (nint)cols[e + 7] * n), c7);
                        }
                        else
                        {
                            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 0]), Avx512F.MaskLoad(p + (nint)cols[e + 0] * n, mask, z), c0);
                            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 1]), Avx512F.MaskLoad(p + (nint)cols[e + 1] * n, mask, z), c1);
                            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 2]), Avx512F.MaskLoad(p + (nint)cols[e + 2] * n, mask, z), c2);
                            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 3]), Avx512F.MaskLoad(p + (nint)cols[e + 3] * n, mask, z), c3);
                            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 4]), Avx512F.MaskLoad(p + (nint)cols[e + 4] * n, mask, z), c4);
                            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 5]), Avx512F.MaskLoad(p + (nint)cols[e + 5] * n, mask, z), c5);
                            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 6]), Avx512F.MaskLoad(p + (nint)cols[e + 6] * n, mask, z), c6);
                            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 7]), Avx512F.MaskLoad(p + (nint)cols[e + 7] * n, mask, z), c7);
                        }
                    }
                    c0.Store(sums + (h + 0) * 16);
                    c1.Store(sums + (h + 1) * 16);
                    c2.Store(sums + (h + 2) * 16);
                    c3.Store(sums + (h + 3) * 16);
                    c4.Store(sums + (h + 4) * 16);
                    c5.Store(sums + (h + 5) * 16);
                    c6.Store(sums + (h + 6) * 16);
                    c7.Store(sums + (h + 7) * 16);
                }
                Emit(a, g, j0, jc, sums, laneStride: 16, colStride: 1);
            }
        }
    }

    /// <summary>
    /// As <see cref="RunAvx512Rows"/> for V = 16 with all 16 lanes in one pass (16 accumulators of the 32 registers):
    /// each step's 64 bytes of values and of indices are read once, where two passes of 8 lanes read each line twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx512Rows16(GsSpmmArgs* a)
    {
        int v = a->Lanes;
        nint n = a->N;
        float* sums = stackalloc float[16 * 16];
        var z = Vector512<float>.Zero;
        float* vals = a->Values;
        int* cols = a->Cols;
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                int jc = (int)Math.Min(16, n - j0);
                bool full = jc == 16;
                var mask = LaneMask.First16(jc);
                float* p = a->X + j0;
                for (int h = 0; h < v; h += 16)
                {
                    Vector512<float> c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z;
                    for (int s = s0; s < s1; s++)
                    {
                        int e = s * v + h;
                        if (full)
                        {
                            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 0]), Vector512.Load(p + (nint)cols[e + 0] * n), c0);
                            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 1]), Vector512.Load(p + (nint)cols[e + 1] * n), c1);
                            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 2]), Vector512.Load(p + (nint)cols[e + 2] * n), c2);
                            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 3]), Vector512.Load(p + (nint)cols[e + 3] * n), c3);
                            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 4]), Vector512.Load(p + (nint)cols[e + 4] * n), c4);
                            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 5]), Vector512.Load(p + (nint)cols[e + 5] * n), c5);
                            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 6]), Vector512.Load(p + (nint)cols[e + 6] * n), c6);
                            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 7]), Vector512.Load(p + (nint)cols[e + 7] * n), c7);
                            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 8]), Vector512.Load(p + (nint)cols[e + 8] * n), c8);
                            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 9]), Vector512.Load(p + (nint)cols[e + 9] * n), c9);
                            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 10]), Vector512.Load(p + (nint)cols[e + 10] * n), c10);
                            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 11]), Vector512.Load(p + (nint)cols[e + 11] * n), c11);
                            c12 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 12]), Vector512.Load(p + (nint)cols[e + 12] * n), c12);
                            c13 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 13]), Vector512.Load(p + (nint)cols[e + 13] * n), c13);
                            c14 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 14]), Vector512.Load(p + (nint)cols[e + 14] * n), c14);
                            c15 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 15]), Vector512.Load(p + (nint)cols[e + 15] * n), c15);
                        }
                        else
                        {
                            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 0]), Avx512F.MaskLoad(p + (nint)cols[e + 0] * n, mask, z), c0);
                            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 1]), Avx512F.MaskLoad(p + (nint)cols[e + 1] * n, mask, z), c1);
                            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 2]), Avx512F.MaskLoad(p + (nint)cols[e + 2] * n, mask, z), c2);
                            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 3]), Avx512F.MaskLoad(p + (nint)cols[e + 3] * n, mask, z), c3);
                            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 4]), Avx512F.MaskLoad(p + (nint)cols[e + 4] * n, mask, z), c4);
                            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 5]), Avx512F.MaskLoad(p + (nint)cols[e + 5] * n, mask, z), c5);
                            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 6]), Avx512F.MaskLoad(p + (nint)cols[e + 6] * n, mask, z), c6);
                            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 7]), Avx512F.MaskLoad(p + (nint)cols[e + 7] * n, mask, z), c7);
                            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 8]), Avx512F.MaskLoad(p + (nint)cols[e + 8] * n, mask, z), c8);
                            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 9]), Avx512F.MaskLoad(p + (nint)cols[e + 9] * n, mask, z), c9);
                            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 10]), Avx512F.MaskLoad(p + (nint)cols[e + 10] * n, mask, z), c10);
                            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 11]), Avx512F.MaskLoad(p + (nint)cols[e + 11] * n, mask, z), c11);
                            c12 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 12]), Avx512F.MaskLoad(p + (nint)cols[e + 12] * n, mask, z), c12);
                            c13 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 13]), Avx512F.MaskLoad(p + (nint)cols[e + 13] * n, mask, z), c13);
                            c14 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 14]), Avx512F.MaskLoad(p + (nint)cols[e + 14] * n, mask, z), c14);
                            c15 = Avx512F.FusedMultiplyAdd(Vector512.Create(vals[e + 15]), Avx512F.MaskLoad(p + (nint)cols[e + 15] * n, mask, z), c15);
                        }
                    }
                    c0.Store(sums + (h + 0) * 16);
                    c1.Store(sums + (h + 1) * 16);
                    c2.Store(sums + (h + 2) * 16);
                    c3.Store(sums + (h + 3) * 16);
                    c4.Store(sums + (h + 4) * 16);
                    c5.Store(sums + (h + 5) * 16);
                    c6.Store(sums + (h + 6) * 16);
                    c7.Store(sums + (h + 7) * 16);
                    c8.Store(sums + (h + 8) * 16);
                    c9.Store(sums + (h + 9) * 16);
                    c10.Store(sums + (h + 10) * 16);
                    c11.Store(sums + (h + 11) * 16);
                    c12.Store(sums + (h + 12) * 16);
                    c13.Store(sums + (h + 13) * 16);
                    c14.Store(sums + (h + 14) * 16);
                    c15.Store(sums + (h + 15) * 16);
                }
                Emit(a, g, j0, jc, sums, laneStride: 16, colStride: 1);
            }
        }
    }
}
