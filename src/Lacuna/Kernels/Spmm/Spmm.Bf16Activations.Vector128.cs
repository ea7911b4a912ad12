using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Spmm;

internal static unsafe partial class Spmm
{
    /// <summary>
    /// <see cref="Vector128Tile"/> over a bf16 panel of X (<see cref="SpmmBf16Panel"/>), <c>TTile.Vectors</c> ≤ 4:
    /// one 16-byte load per pair of 4-lane vectors, widened by a shift and an AND; multiply then add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128TileBf16X<TTile, TIndex, TWeight>(SpmmArgs* a)
        where TTile : struct, ISpmmTile where TIndex : struct, ISpmmIndex where TWeight : struct, ISpmmWeight
    {
        uint* x = (uint*)a->X;
        void* cols = a->Cols, vals = a->Values;
        nint stride = a->Stride / 2, ldy = a->Ldy; // X row stride in 32-bit pairs of bf16
        int nv = TTile.Vectors, valid = a->Valid;
        var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector128.Create(a->Max);
        var high = Vector128.Create(0xFFFF0000u);
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
                uint* p = x + TIndex.Get(cols, i) * stride;
                var r = Vector128.Load(p);
                s0 += v * (r << 16).AsSingle();
                if (nv > 1) s1 += v * (r & high).AsSingle();
                if (nv > 2)
                {
                    var h = Vector128.Load(p + 4);
                    s2 += v * (h << 16).AsSingle();
                    if (nv > 3) s3 += v * (h & high).AsSingle();
                }
            }
            Store128(y, act ? Vector128.Min(Vector128.Max(s0, lo), hi) : s0, valid);
            if (nv > 1) Store128(y + 4, act ? Vector128.Min(Vector128.Max(s1, lo), hi) : s1, valid - 4);
            if (nv > 2) Store128(y + 8, act ? Vector128.Min(Vector128.Max(s2, lo), hi) : s2, valid - 8);
            if (nv > 3) Store128(y + 12, act ? Vector128.Min(Vector128.Max(s3, lo), hi) : s3, valid - 12);
        }
    }
}
