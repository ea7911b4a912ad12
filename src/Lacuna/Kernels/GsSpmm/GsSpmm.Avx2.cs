using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// AVX2: 8-lane hardware gathers, lanes along the group's outputs; V = 16 runs as two halves of 8 lanes over the
    /// same steps. Otherwise as <see cref="RunAvx512"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx2<TIndex>(GsSpmmArgs* a) where TIndex : struct, IGsIndex
    {
        int n = a->N, v = a->Lanes;
        float* sums = stackalloc float[Columns * 16];
        var nv = Vector256.Create(n);
        bool scale = n != 1; // offsets are column · n
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            for (int j0 = 0; j0 < n; j0 += Columns)
            {
                int jc = Math.Min(Columns, n - j0);
                float* p = a->X + j0;
                for (int h = 0; h < v; h += 8)
                {
                    float* vals = a->Values + h;
                    Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
                    int s = s0;
                    if (jc == 1)
                    {
                        for (; s + 2 <= s1; s += 2)
                        {
                            var i0 = TIndex.Load8(a, s * v + h);
                            var i1 = TIndex.Load8(a, s * v + v + h);
                            if (scale) { i0 *= nv; i1 *= nv; }
                            c0 = Fma.MultiplyAdd(Vector256.Load(vals + s * v), Avx2.GatherVector256(p, i0, 4), c0);
                            c1 = Fma.MultiplyAdd(Vector256.Load(vals + s * v + v), Avx2.GatherVector256(p, i1, 4), c1);
                        }
                        c0 += c1; c1 = Vector256<float>.Zero;
                    }
                    for (; s < s1; s++)
                    {
                        var w = Vector256.Load(vals + s * v);
                        var idx = TIndex.Load8(a, s * v + h);
                        if (scale) idx *= nv;
                        c0 = Fma.MultiplyAdd(w, Avx2.GatherVector256(p, idx, 4), c0);
                        if (jc > 1) c1 = Fma.MultiplyAdd(w, Avx2.GatherVector256(p + 1, idx, 4), c1);
                        if (jc > 2) c2 = Fma.MultiplyAdd(w, Avx2.GatherVector256(p + 2, idx, 4), c2);
                        if (jc > 3) c3 = Fma.MultiplyAdd(w, Avx2.GatherVector256(p + 3, idx, 4), c3);
                    }
                    c0.Store(sums + h); c1.Store(sums + v + h); c2.Store(sums + 2 * v + h); c3.Store(sums + 3 * v + h);
                }
                Emit(a, g, j0, jc, sums);
            }
        }
    }
}
