using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Attention;

// AVX-512 panel: 4 rows × 64 columns (16 accumulators: 8 loads per 16 FMAs), then 4 × 32 (6 loads per 8 FMAs), 4 × 16,
// and the scalar tail. Head size 64 is one 4 × 64 step of the ·V product; 128 keys are two of the scores.
// Each broadcast of an A element is a load as well, so the wider step keeps two FMAs per cycle fed where 4 × 32 could not.
internal static unsafe partial class AttentionPanels
{
    public static void Avx512(AttentionPanelArgs* p)
    {
        RowPointers(p, out float* a0, out float* a1, out float* a2, out float* a3);
        int k = p->K, n = p->N, rows = p->Rows;
        nint ldb = p->Ldb, ldc = p->Ldc;
        float* c = p->C;
        int j = 0;
        for (; j + 64 <= n; j += 64)
        {
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
            float* b = p->B + j;
            for (int kk = 0; kk < k; kk++, b += ldb)
            {
                var b0 = Avx512F.LoadVector512(b);
                var b1 = Avx512F.LoadVector512(b + 16);
                var b2 = Avx512F.LoadVector512(b + 32);
                var b3 = Avx512F.LoadVector512(b + 48);
                var x = Vector512.Create(a0[kk]);
                c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                c02 = Avx512F.FusedMultiplyAdd(x, b2, c02); c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
                x = Vector512.Create(a1[kk]);
                c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                c12 = Avx512F.FusedMultiplyAdd(x, b2, c12); c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
                x = Vector512.Create(a2[kk]);
                c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                c22 = Avx512F.FusedMultiplyAdd(x, b2, c22); c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
                x = Vector512.Create(a3[kk]);
                c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                c32 = Avx512F.FusedMultiplyAdd(x, b2, c32); c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
            }
            float* cj = c + j;
            c00.Store(cj); c01.Store(cj + 16); c02.Store(cj + 32); c03.Store(cj + 48);
            if (rows > 1) { c10.Store(cj + ldc); c11.Store(cj + ldc + 16); c12.Store(cj + ldc + 32); c13.Store(cj + ldc + 48); }
            if (rows > 2) { c20.Store(cj + 2 * ldc); c21.Store(cj + 2 * ldc + 16); c22.Store(cj + 2 * ldc + 32); c23.Store(cj + 2 * ldc + 48); }
            if (rows > 3) { c30.Store(cj + 3 * ldc); c31.Store(cj + 3 * ldc + 16); c32.Store(cj + 3 * ldc + 32); c33.Store(cj + 3 * ldc + 48); }
        }
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
