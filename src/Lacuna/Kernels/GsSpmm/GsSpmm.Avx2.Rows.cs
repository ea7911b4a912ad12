using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// Avx2, n ≥ 2: lanes along the group's outputs as in the gather body, but each lane's accumulator is a vector
    /// along n (8 columns per pass): per step each of 8 lanes loads its X row segment and multiplies it by its
    /// broadcast weight. Equal steps per lane let 8 rows run in lockstep, 8 independent FMA chains with no per-row
    /// bounds, where the CSR kernel walks one row at a time; from a few columns up this beats gathering element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx2Rows(GsSpmmArgs* a)
    {
        int v = a->Lanes;
        nint n = a->N;
        float* sums = stackalloc float[16 * 8];
        var z = Vector256<float>.Zero;
        float* vals = a->Values;
        int* cols = a->Cols;
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j0 = 0; j0 < n; j0 += 8)
            {
                int jc = (int)Math.Min(8, n - j0);
                bool full = jc == 8;
                var mask = LaneMask.First8(jc);
                float* p = a->X + j0;
                for (int h = 0; h < v; h += 8)
                {
                    Vector256<float> c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
                    for (int s = s0; s < s1; s++)
                    {
                        int e = s * v + h;
                        if (full)
                        {
                            c0 = Fma.MultiplyAdd(Vector256.Create(vals[e + 0]), Vector256.Load(p + (nint)cols[e + 0] * n), c0);
                            c1 = Fma.MultiplyAdd(Vector256.Create(vals[e + 1]), Vector256.Load(p + (nint)cols[e + 1] * n), c1);
                            c2 = Fma.MultiplyAdd(Vector256.Create(vals[e + 2]), Vector256.Load(p + (nint)cols[e + 2] * n), c2);
                            c3 = Fma.MultiplyAdd(Vector256.Create(vals[e + 3]), Vector256.Load(p + (nint)cols[e + 3] * n), c3);
                            c4 = Fma.MultiplyAdd(Vector256.Create(vals[e + 4]), Vector256.Load(p + (nint)cols[e + 4] * n), c4);
                            c5 = Fma.MultiplyAdd(Vector256.Create(vals[e + 5]), Vector256.Load(p + (nint)cols[e + 5] * n), c5);
                            c6 = Fma.MultiplyAdd(Vector256.Create(vals[e + 6]), Vector256.Load(p + (nint)cols[e + 6] * n), c6);
                            c7 = Fma.MultiplyAdd(Vector256.Create(vals[e + 7]), Vector256.Load(p + (nint)cols[e + 7] * n), c7);
                        }
                        else
                        {
                            c0 = Fma.MultiplyAdd(Vector256.Create(vals[e + 0]), Avx.MaskLoad(p + (nint)cols[e + 0] * n, mask), c0);
                            c1 = Fma.MultiplyAdd(Vector256.Create(vals[e + 1]), Avx.MaskLoad(p + (nint)cols[e + 1] * n, mask), c1);
                            c2 = Fma.MultiplyAdd(Vector256.Create(vals[e + 2]), Avx.MaskLoad(p + (nint)cols[e + 2] * n, mask), c2);
                            c3 = Fma.MultiplyAdd(Vector256.Create(vals[e + 3]), Avx.MaskLoad(p + (nint)cols[e + 3] * n, mask), c3);
                            c4 = Fma.MultiplyAdd(Vector256.Create(vals[e + 4]), Avx.MaskLoad(p + (nint)cols[e + 4] * n, mask), c4);
                            c5 = Fma.MultiplyAdd(Vector256.Create(vals[e + 5]), Avx.MaskLoad(p + (nint)cols[e + 5] * n, mask), c5);
                            c6 = Fma.MultiplyAdd(Vector256.Create(vals[e + 6]), Avx.MaskLoad(p + (nint)cols[e + 6] * n, mask), c6);
                            c7 = Fma.MultiplyAdd(Vector256.Create(vals[e + 7]), Avx.MaskLoad(p + (nint)cols[e + 7] * n, mask), c7);
                        }
                    }
                    c0.Store(sums + (h + 0) * 8);
                    c1.Store(sums + (h + 1) * 8);
                    c2.Store(sums + (h + 2) * 8);
                    c3.Store(sums + (h + 3) * 8);
                    c4.Store(sums + (h + 4) * 8);
                    c5.Store(sums + (h + 5) * 8);
                    c6.Store(sums + (h + 6) * 8);
                    c7.Store(sums + (h + 7) * 8);
                }
                Emit(a, g, j0, jc, sums, laneStride: 8, colStride: 1);
            }
        }
    }
}
