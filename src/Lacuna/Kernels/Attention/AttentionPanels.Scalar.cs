namespace Lacuna.Kernels.Attention;

// Scalar panel: the definition the vector tiers follow (float accumulation in K order).
internal static unsafe partial class AttentionPanels
{
    public static void Scalar(AttentionPanelArgs* p) => ScalarColumns(p, 0);

    /// <summary>Columns [j0, N) of the panel, one at a time; also the vector tiers' tail.</summary>
    internal static void ScalarColumns(AttentionPanelArgs* p, int j0)
    {
        int k = p->K, n = p->N;
        for (int r = 0; r < p->Rows; r++)
        {
            float* a = p->A + r * p->Lda, c = p->C + r * p->Ldc;
            for (int j = j0; j < n; j++)
            {
                float s = 0f;
                float* b = p->B + j;
                for (int kk = 0; kk < k; kk++) s += a[kk] * b[kk * p->Ldb];
                c[j] = s;
            }
        }
    }

    /// <summary>Row pointers of the panel; rows past <see cref="AttentionPanelArgs.Rows"/> alias row 0 (computed, never stored).</summary>
    private static void RowPointers(AttentionPanelArgs* p, out float* a0, out float* a1, out float* a2, out float* a3)
    {
        a0 = p->A;
        a1 = p->Rows > 1 ? a0 + p->Lda : a0;
        a2 = p->Rows > 2 ? a0 + 2 * p->Lda : a0;
        a3 = p->Rows > 3 ? a0 + 3 * p->Lda : a0;
    }
}
