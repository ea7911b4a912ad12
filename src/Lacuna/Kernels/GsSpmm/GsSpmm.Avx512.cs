using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.GsSpmm;

internal static unsafe partial class GsSpmm
{
    /// <summary>
    /// AVX-512, V = 16: lanes along the group's outputs (.NET 10 exposes no 512-bit gather intrinsic, so each 16-lane
    /// gather is two 8-lane vgatherdps joined, feeding one 512-bit FMA). Per step one load of 16 values and 16 column indices, then per
    /// column j one 16-element hardware gather of X[col·N + j] and one FMA: every lane useful even at N = 1, where a
    /// kernel vectorized along N would fill one lane of 16. Up to 4 columns per pass share the value and index loads;
    /// with one column two accumulators take alternate steps to overlap the gathers' latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunAvx512<TIndex>(GsSpmmArgs* a) where TIndex : struct, IGsIndex
    {
        int n = a->N;
        float* sums = stackalloc float[Columns * 16];
        var nv = Vector512.Create(n);
        bool scale = n != 1; // offsets are column · n
        for (int g = a->G0; g < a->G1; g++)
        {
            int s0 = a->Offsets[g], s1 = a->Offsets[g + 1];
            float* vals = a->Values;
            for (int j0 = 0; j0 < n; j0 += Columns)
            {
                int jc = Math.Min(Columns, n - j0);
                float* p = a->X + j0;
                Vector512<float> c0 = Vector512<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
                int s = s0;
                if (jc == 1)
                {
                    for (; s + 2 <= s1; s += 2)
                    {
                        var i0 = TIndex.Load16(a, s * 16);
                        var i1 = TIndex.Load16(a, s * 16 + 16);
                        if (scale) { i0 *= nv; i1 *= nv; }
                        c0 = Avx512F.FusedMultiplyAdd(Vector512.Load(vals + s * 16), Gather16(p, i0), c0);
                        c1 = Avx512F.FusedMultiplyAdd(Vector512.Load(vals + s * 16 + 16), Gather16(p, i1), c1);
                    }
                    c0 += c1; c1 = Vector512<float>.Zero;
                }
                for (; s < s1; s++)
                {
                    var w = Vector512.Load(vals + s * 16);
                    var idx = TIndex.Load16(a, s * 16);
                    if (scale) idx *= nv;
                    c0 = Avx512F.FusedMultiplyAdd(w, Gather16(p, idx), c0);
                    if (jc > 1) c1 = Avx512F.FusedMultiplyAdd(w, Gather16(p + 1, idx), c1);
                    if (jc > 2) c2 = Avx512F.FusedMultiplyAdd(w, Gather16(p + 2, idx), c2);
                    if (jc > 3) c3 = Avx512F.FusedMultiplyAdd(w, Gather16(p + 3, idx), c3);
                }
                c0.Store(sums); c1.Store(sums + 16); c2.Store(sums + 32); c3.Store(sums + 48);
                Emit(a, g, j0, jc, sums);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gather16(float* p, Vector512<int> idx) =>
        Vector512.Create(Avx2.GatherVector256(p, idx.GetLower(), 4), Avx2.GatherVector256(p, idx.GetUpper(), 4));
}
