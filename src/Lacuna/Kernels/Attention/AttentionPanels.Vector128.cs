using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Attention;

// Vector128 panel (SSE / AdvSIMD, no FMA assumed): 4 rows × 8 columns, then 4 × 4, then the scalar tail.
internal static unsafe partial class AttentionPanels
{
    public static void Vector128Panel(AttentionPanelArgs* p)
    {
        RowPointers(p, out float* a0, out float* a1, out float* a2, out float* a3);
        int k = p->K, n = p->N, rows = p->Rows;
        nint ldb = p->Ldb, ldc = p->Ldc;
        float* c = p->C;
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            float* b = p->B + j;
            for (int kk = 0; kk < k; kk++, b += ldb)
            {
                var b0 = Vector128.Load(b);
                var b1 = Vector128.Load(b + 4);
                var x = Vector128.Create(a0[kk]);
                c00 = c00 + x * b0; c01 = c01 + x * b1;
                x = Vector128.Create(a1[kk]);
                c10 = c10 + x * b0; c11 = c11 + x * b1;
                x = Vector128.Create(a2[kk]);
                c20 = c20 + x * b0; c21 = c21 + x * b1;
                x = Vector128.Create(a3[kk]);
                c30 = c30 + x * b0; c31 = c31 + x * b1;
            }
            float* cj = c + j;
            c00.Store(cj); c01.Store(cj + 4);
            if (rows > 1) { c10.Store(cj + ldc); c11.Store(cj + ldc + 4); }
            if (rows > 2) { c20.Store(cj + 2 * ldc); c21.Store(cj + 2 * ldc + 4); }
            if (rows > 3) { c30.Store(cj + 3 * ldc); c31.Store(cj + 3 * ldc + 4); }
        }
        for (; j + 4 <= n; j += 4)
        {
            Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
            float* b = p->B + j;
            for (int kk = 0; kk < k; kk++, b += ldb)
            {
                var b0 = Vector128.Load(b);
                c0 = c0 + Vector128.Create(a0[kk]) * b0;
                c1 = c1 + Vector128.Create(a1[kk]) * b0;
                c2 = c2 + Vector128.Create(a2[kk]) * b0;
                c3 = c3 + Vector128.Create(a3[kk]) * b0;
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
