using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Attention;

// AVX-512 panel: 4 rows × 32 columns (8 accumulators), then 4 × 16, then the scalar tail.
internal static unsafe partial class AttentionPanels
{
    public static void Avx512(AttentionPanelArgs* p)
    {
        RowPointers(p, out float* a0, out float* a1, out float* a2, out float* a3);
        int k = p->K, n = p->N, rows = p->Rows;
        nint ldb = p->Ldb, ldc = p->Ldc;
        float* c = p->C;
        int j = 0;
        for (; j + 32 <= n; j += 32)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            float* b = p->B + j;
            for (int kk = 0; kk < k; kk++, b += ldb)
            {
                var b0 = Avx512F.LoadVector512(b);
                var b1 = Avx512F.LoadVector512(b + 16);
                var x = Vector512.Create(a0[kk]);
                c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a1[kk]);
                c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a2[kk]);
                c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a3[kk]);
                c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            }
            float* cj = c + j;
            c00.Store(cj); c01.Store(cj + 16);
            if (rows > 1) { c10.Store(cj + ldc); c11.Store(cj + ldc + 16); }
            if (rows > 2) { c20.Store(cj + 2 * ldc); c21.Store(cj + 2 * ldc + 16); }
            if (rows > 3) { c30.Store(cj + 3 * ldc); c31.Store(cj + 3 * ldc + 16); }
        }
        for (; j + 16 <= n; j += 16)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
            float* b = p->B + j;
            for (int kk = 0; kk < k; kk++, b += ldb)
            {
                var b0 = Avx512F.LoadVector512(b);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[kk]), b0, c0);
                c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[kk]), b0, c1);
                c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[kk]), b0, c2);
                c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[kk]), b0, c3);
            }
            float* cj = c + j;
            c0.Store(cj);
            if (rows > 1) c1.Store(cj + ldc);
            if (rows > 2) c2.Store(cj + 2 * ldc);
            if (rows > 3) c3.Store(cj + 3 * ldc);
        }
        if (j < n) ScalarColumns(p, j);
    }
}
