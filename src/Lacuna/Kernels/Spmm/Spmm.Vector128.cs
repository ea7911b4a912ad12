using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>Vector128 rows over <c>TTile.Vectors</c> (≤ 4) × 4 columns; multiply then add (this tier may lack FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128Tile<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        float* x = a->X;
        void* cols = a->Cols, vals = a->Values;
        nint stride = a->Stride, ldy = a->Ldy;
        int nv = TTile.Vectors, valid = a->Valid;
        var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector128.Create(a->Max);
        bool act = a->Activate && a->Activation != ActivationKind.None;
        float* y = a->Y + a->M0 * ldy;
        for (int m = a->M0; m < a->M1; m++, y += ldy)
        {
            Vector128<float> s0 = Vector128.Create(a->Bias[m]), s1 = s0, s2 = s0, s3 = s0;
            if (a->Accumulate)
            {
                s0 = Load128(y, valid);
                if (nv > 1) s1 = Load128(y + 4, valid - 4);
                if (nv > 2) s2 = Load128(y + 8, valid - 8);
                if (nv > 3) s3 = Load128(y + 12, valid - 12);
            }
            for (int i = a->Starts[m], end = a->Ends[m]; i < end; i++)
            {
                var v = Vector128.Create(TWeight.Get(vals, i));
                float* p = x + TIndex.Get(cols, i) * stride;
                s0 += v * Vector128.Load(p);
                if (nv > 1) s1 += v * Vector128.Load(p + 4);
                if (nv > 2) s2 += v * Vector128.Load(p + 8);
                if (nv > 3) s3 += v * Vector128.Load(p + 12);
            }
            Store128(y, act ? Vector128.Min(Vector128.Max(s0, lo), hi) : s0, valid);
            if (nv > 1) Store128(y + 4, act ? Vector128.Min(Vector128.Max(s1, lo), hi) : s1, valid - 4);
            if (nv > 2) Store128(y + 8, act ? Vector128.Min(Vector128.Max(s2, lo), hi) : s2, valid - 8);
            if (nv > 3) Store128(y + 12, act ? Vector128.Min(Vector128.Max(s3, lo), hi) : s3, valid - 12);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Load128(float* src, int valid)
    {
        if (valid >= 4) return Vector128.Load(src);
        var v = Vector128<float>.Zero;
        for (int j = 0; j < valid; j++) v = v.WithElement(j, src[j]);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* dst, Vector128<float> s, int valid)
    {
        if (valid >= 4) { s.Store(dst); return; }
        for (int j = 0; j < valid; j++) dst[j] = s.GetElement(j);
    }
}
