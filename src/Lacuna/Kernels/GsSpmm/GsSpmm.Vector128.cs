using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>Vector128: no gather instruction, so 4 lanes are assembled from scalar loads; multiply then add (this tier may lack FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunVector128(GsSpmmArgs* a)
    {
        int n = a->N, v = a->Lanes;
        float* sums = stackalloc float[Columns * 16];
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j0 = 0; j0 < n; j0 += Columns)
            {
                int jc = Math.Min(Columns, n - j0);
                for (int h = 0; h < v; h += 4)
                {
                    Vector128<float> c0 = Vector128<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
                    for (int s = s0; s < s1; s++)
                    {
                        int e = s * v + h;
                        var w = Vector128.Load(a->Values + e);
                        float* p0 = a->X + (nint)a->Cols[e] * n + j0, p1 = a->X + (nint)a->Cols[e + 1] * n + j0;
                        float* p2 = a->X + (nint)a->Cols[e + 2] * n + j0, p3 = a->X + (nint)a->Cols[e + 3] * n + j0;
                        c0 += w * Vector128.Create(p0[0], p1[0], p2[0], p3[0]);
                        if (jc > 1) c1 += w * Vector128.Create(p0[1], p1[1], p2[1], p3[1]);
                        if (jc > 2) c2 += w * Vector128.Create(p0[2], p1[2], p2[2], p3[2]);
                        if (jc > 3) c3 += w * Vector128.Create(p0[3], p1[3], p2[3], p3[3]);
                    }
                    c0.Store(sums + h); c1.Store(sums + v + h); c2.Store(sums + 2 * v + h); c3.Store(sums + 3 * v + h);
                }
                Emit(a, g, j0, jc, sums);
            }
        }
    }
}
