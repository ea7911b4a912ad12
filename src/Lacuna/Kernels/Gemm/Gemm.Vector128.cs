using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels;

// Vector128 tile 4x8: 8 accumulators + 2 B vectors + 1 broadcast fit the 16 xmm registers of x64 (and
// leave room on Arm64). Multiply + add, not fused: this tier also runs where FMA is disabled.
public static unsafe partial class Gemm
{
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Vector128Tile4x8(GemmTileArgs* t)
    {
        Vector128<float> c00 = Vector128<float>.Zero, c01 = c00, c10 = c00, c11 = c00;
        Vector128<float> c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        float* a = t->A, b = t->B;
        for (int k = t->Kc; k > 0; k--, a += 4, b += 8)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var s = Vector128.Create(a[0]);
            c00 += b0 * s; c01 += b1 * s;
            s = Vector128.Create(a[1]);
            c10 += b0 * s; c11 += b1 * s;
            s = Vector128.Create(a[2]);
            c20 += b0 * s; c21 += b1 * s;
            s = Vector128.Create(a[3]);
            c30 += b0 * s; c31 += b1 * s;
        }
        if (t->IsFullTile(4, 8))
        {
            Vector128FinishRow(t, 0, c00, c01); Vector128FinishRow(t, 1, c10, c11);
            Vector128FinishRow(t, 2, c20, c21); Vector128FinishRow(t, 3, c30, c31);
            return;
        }
        // Edge tail: raw accumulators to a stack tile, the scalar epilogue stores the valid part.
        float* tile = stackalloc float[4 * 8];
        c00.Store(tile); c01.Store(tile + 4); c10.Store(tile + 8); c11.Store(tile + 12);
        c20.Store(tile + 16); c21.Store(tile + 20); c30.Store(tile + 24); c31.Store(tile + 28);
        StoreEdgeTile(tile, 8, t);
    }

    /// <summary>Epilogue of one full 8-wide row r: alpha, beta·C, bias, activation, store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vector128FinishRow(GemmTileArgs* t, int r, Vector128<float> v0, Vector128<float> v1)
    {
        float* c = t->C + r * t->RowStride;
        var alpha = Vector128.Create(t->Alpha);
        v0 *= alpha;
        v1 *= alpha;
        if (t->Beta != 0f)
        {
            var beta = Vector128.Create(t->Beta);
            v0 += Vector128.Load(c) * beta;
            v1 += Vector128.Load(c + 4) * beta;
        }
        if (t->BiasAxis == BiasAxis.Row)
        {
            var rb = Vector128.Create(t->Bias[r]);
            v0 += rb;
            v1 += rb;
        }
        else if (t->BiasAxis == BiasAxis.Column)
        {
            v0 += Vector128.Load(t->Bias);
            v1 += Vector128.Load(t->Bias + 4);
        }
        if (t->Activation != ActivationKind.None)
        {
            // Clamp with the NaN-to-lower-bound behaviour of Activation.Apply for Relu: x > lo ? x : lo.
            var lo = Vector128.Create(t->Min);
            var hi = Vector128.Create(t->Max);
            v0 = Vector128.Min(Vector128.ConditionalSelect(Vector128.GreaterThan(v0, lo), v0, lo), hi);
            v1 = Vector128.Min(Vector128.ConditionalSelect(Vector128.GreaterThan(v1, lo), v1, lo), hi);
        }
        v0.Store(c);
        v1.Store(c + 4);
    }
}
