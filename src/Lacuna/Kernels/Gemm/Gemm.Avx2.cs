using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

// AVX2 + FMA tile 6x16: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers. Per k step
// 2 loads + 6 broadcasts feed 12 FMAs, so the two FMA pipes, not the load ports, are the bound.
// 6x8 is the edge tile for a last column panel of at most 8 columns (1 load + 6 broadcasts per 6 FMAs).
public static unsafe partial class Gemm
{
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Avx2Tile6x16(GemmTileArgs* t)
    {
        Vector256<float> c00 = Vector256<float>.Zero, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        Vector256<float> c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        float* a = t->A, b = t->B;
        int k = t->Kc;
        for (; k >= 2; k -= 2, a += 12, b += 32)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var s = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(b0, s, c00); c01 = Fma.MultiplyAdd(b1, s, c01);
            s = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(b0, s, c10); c11 = Fma.MultiplyAdd(b1, s, c11);
            s = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(b0, s, c20); c21 = Fma.MultiplyAdd(b1, s, c21);
            s = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(b0, s, c30); c31 = Fma.MultiplyAdd(b1, s, c31);
            s = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(b0, s, c40); c41 = Fma.MultiplyAdd(b1, s, c41);
            s = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(b0, s, c50); c51 = Fma.MultiplyAdd(b1, s, c51);

            b0 = Avx.LoadVector256(b + 16);
            b1 = Avx.LoadVector256(b + 24);
            s = Avx.BroadcastScalarToVector256(a + 6);
            c00 = Fma.MultiplyAdd(b0, s, c00); c01 = Fma.MultiplyAdd(b1, s, c01);
            s = Avx.BroadcastScalarToVector256(a + 7);
            c10 = Fma.MultiplyAdd(b0, s, c10); c11 = Fma.MultiplyAdd(b1, s, c11);
            s = Avx.BroadcastScalarToVector256(a + 8);
            c20 = Fma.MultiplyAdd(b0, s, c20); c21 = Fma.MultiplyAdd(b1, s, c21);
            s = Avx.BroadcastScalarToVector256(a + 9);
            c30 = Fma.MultiplyAdd(b0, s, c30); c31 = Fma.MultiplyAdd(b1, s, c31);
            s = Avx.BroadcastScalarToVector256(a + 10);
            c40 = Fma.MultiplyAdd(b0, s, c40); c41 = Fma.MultiplyAdd(b1, s, c41);
            s = Avx.BroadcastScalarToVector256(a + 11);
            c50 = Fma.MultiplyAdd(b0, s, c50); c51 = Fma.MultiplyAdd(b1, s, c51);
        }
        if (k > 0)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var s = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(b0, s, c00); c01 = Fma.MultiplyAdd(b1, s, c01);
            s = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(b0, s, c10); c11 = Fma.MultiplyAdd(b1, s, c11);
            s = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(b0, s, c20); c21 = Fma.MultiplyAdd(b1, s, c21);
            s = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(b0, s, c30); c31 = Fma.MultiplyAdd(b1, s, c31);
            s = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(b0, s, c40); c41 = Fma.MultiplyAdd(b1, s, c41);
            s = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(b0, s, c50); c51 = Fma.MultiplyAdd(b1, s, c51);
        }
        if (t->IsFullTile(6, 16))
        {
            Avx2FinishRow(t, 0, c00, c01); Avx2FinishRow(t, 1, c10, c11); Avx2FinishRow(t, 2, c20, c21);
            Avx2FinishRow(t, 3, c30, c31); Avx2FinishRow(t, 4, c40, c41); Avx2FinishRow(t, 5, c50, c51);
            return;
        }
        // Edge tail: raw accumulators to a stack tile, the scalar epilogue stores the valid part.
        float* tile = stackalloc float[6 * 16];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        StoreEdgeTile(tile, 16, t);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Avx2Tile6x8(GemmTileArgs* t)
    {
        Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        float* a = t->A, b = t->B;
        for (int k = t->Kc; k > 0; k--, a += 6, b += 8)
        {
            var b0 = Avx.LoadVector256(b);
            c0 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a), c0);
            c1 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a + 1), c1);
            c2 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a + 2), c2);
            c3 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a + 3), c3);
            c4 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a + 4), c4);
            c5 = Fma.MultiplyAdd(b0, Avx.BroadcastScalarToVector256(a + 5), c5);
        }
        if (t->IsFullTile(6, 8))
        {
            Avx2FinishRow8(t, 0, c0); Avx2FinishRow8(t, 1, c1); Avx2FinishRow8(t, 2, c2);
            Avx2FinishRow8(t, 3, c3); Avx2FinishRow8(t, 4, c4); Avx2FinishRow8(t, 5, c5);
            return;
        }
        // Edge tail: raw accumulators to a stack tile, the scalar epilogue stores the valid part.
        float* tile = stackalloc float[6 * 8];
        c0.Store(tile); c1.Store(tile + 8); c2.Store(tile + 16); c3.Store(tile + 24); c4.Store(tile + 32); c5.Store(tile + 40);
        StoreEdgeTile(tile, 8, t);
    }

    /// <summary>Epilogue of one full 16-wide row r: alpha, beta·C, bias, activation, store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2FinishRow(GemmTileArgs* t, int r, Vector256<float> v0, Vector256<float> v1)
    {
        var e = new Avx2Epilogue(t, r);
        e.Finish(0, v0);
        e.Finish(8, v1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2FinishRow8(GemmTileArgs* t, int r, Vector256<float> v) => new Avx2Epilogue(t, r).Finish(0, v);

    /// <summary>
    /// One row's epilogue with the tile arguments read once into locals (stores to C could alias the
    /// arguments, so reading them per vector would reload every field after every store).
    /// </summary>
    private readonly ref struct Avx2Epilogue
    {
        private readonly float* _c, _colBias;
        private readonly float _alpha, _beta, _rowBias, _min, _max;
        private readonly bool _plain, _act;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Avx2Epilogue(GemmTileArgs* t, int r)
        {
            _c = t->C + r * t->RowStride;
            _alpha = t->Alpha; _beta = t->Beta; _min = t->Min; _max = t->Max;
            _act = t->Activation != ActivationKind.None;
            _rowBias = t->BiasAxis == BiasAxis.Row ? t->Bias[r] : 0f;
            _colBias = t->BiasAxis == BiasAxis.Column ? t->Bias : null;
            _plain = _alpha == 1f && _beta == 0f && t->BiasAxis == BiasAxis.None && !_act;
        }

        /// <summary>Columns j0..j0+7: alpha, beta·C, bias, activation, store.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(int j0, Vector256<float> v)
        {
            float* c = _c + j0;
            if (!_plain)
            {
                v = Avx.Multiply(v, Vector256.Create(_alpha));
                if (_beta != 0f) v = Fma.MultiplyAdd(Avx.LoadVector256(c), Vector256.Create(_beta), v);
                v = Avx.Add(v, _colBias != null ? Avx.LoadVector256(_colBias + j0) : Vector256.Create(_rowBias));
                // max first: Relu of NaN is 0 as in Activation.Apply (maxps returns the second operand on NaN).
                if (_act) v = Avx.Min(Avx.Max(v, Vector256.Create(_min)), Vector256.Create(_max));
            }
            Avx.Store(c, v);
        }
    }
}
