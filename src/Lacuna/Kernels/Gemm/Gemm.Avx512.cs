using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels;

// AVX-512 tile 16x16: 16 zmm accumulators, one B vector per k step and the 16 A values broadcast from memory into
// the FMAs (EVEX embedded broadcast), so a k step is 1 load + 16 FMAs. 16 rows divide every ResNet channel count
// and 16 columns waste at most one vector on the conv GEMMs' N (784, 196 and 49 pixels). The edge tile 16x8 keeps
// 16 ymm accumulators (the upper 16 registers, so it is an AVX-512 tile too) for a last panel of at most 8 columns.
public static unsafe partial class Gemm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma16(Vector512<float> b, float* a, Vector512<float> c) =>
        Avx512F.FusedMultiplyAdd(b, Vector512.Create(*a), c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma8(Vector256<float> b, float* a, Vector256<float> c) =>
        Fma.MultiplyAdd(b, Vector256.Create(*a), c);

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Avx512Tile16x16(GemmTileArgs* t)
    {
        Vector512<float> c0 = Vector512<float>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector512<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        float* a = t->A, b = t->B;
        for (int k = t->Kc; k > 0; k--, a += 16, b += 16)
        {
            var b0 = Avx512F.LoadVector512(b);
            c0 = Fma16(b0, a, c0); c1 = Fma16(b0, a + 1, c1); c2 = Fma16(b0, a + 2, c2); c3 = Fma16(b0, a + 3, c3);
            c4 = Fma16(b0, a + 4, c4); c5 = Fma16(b0, a + 5, c5); c6 = Fma16(b0, a + 6, c6); c7 = Fma16(b0, a + 7, c7);
            c8 = Fma16(b0, a + 8, c8); c9 = Fma16(b0, a + 9, c9); c10 = Fma16(b0, a + 10, c10); c11 = Fma16(b0, a + 11, c11);
            c12 = Fma16(b0, a + 12, c12); c13 = Fma16(b0, a + 13, c13); c14 = Fma16(b0, a + 14, c14); c15 = Fma16(b0, a + 15, c15);
        }
        if (t->IsFullTile(16, 16))
        {
            var e = new Avx512Epilogue(t);
            e.Finish(0, c0); e.Finish(1, c1); e.Finish(2, c2); e.Finish(3, c3); e.Finish(4, c4); e.Finish(5, c5); e.Finish(6, c6); e.Finish(7, c7);
            e.Finish(8, c8); e.Finish(9, c9); e.Finish(10, c10); e.Finish(11, c11); e.Finish(12, c12); e.Finish(13, c13); e.Finish(14, c14); e.Finish(15, c15);
            return;
        }
        // Edge tail: raw accumulators to a stack tile, the scalar epilogue stores the valid part.
        float* tile = stackalloc float[16 * 16];
        c0.Store(tile); c1.Store(tile + 16); c2.Store(tile + 32); c3.Store(tile + 48);
        c4.Store(tile + 64); c5.Store(tile + 80); c6.Store(tile + 96); c7.Store(tile + 112);
        c8.Store(tile + 128); c9.Store(tile + 144); c10.Store(tile + 160); c11.Store(tile + 176);
        c12.Store(tile + 192); c13.Store(tile + 208); c14.Store(tile + 224); c15.Store(tile + 240);
        StoreEdgeTile(tile, 16, t);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Avx512Tile16x8(GemmTileArgs* t)
    {
        Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector256<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        float* a = t->A, b = t->B;
        for (int k = t->Kc; k > 0; k--, a += 16, b += 8)
        {
            var b0 = Avx.LoadVector256(b);
            c0 = Fma8(b0, a, c0); c1 = Fma8(b0, a + 1, c1); c2 = Fma8(b0, a + 2, c2); c3 = Fma8(b0, a + 3, c3);
            c4 = Fma8(b0, a + 4, c4); c5 = Fma8(b0, a + 5, c5); c6 = Fma8(b0, a + 6, c6); c7 = Fma8(b0, a + 7, c7);
            c8 = Fma8(b0, a + 8, c8); c9 = Fma8(b0, a + 9, c9); c10 = Fma8(b0, a + 10, c10); c11 = Fma8(b0, a + 11, c11);
            c12 = Fma8(b0, a + 12, c12); c13 = Fma8(b0, a + 13, c13); c14 = Fma8(b0, a + 14, c14); c15 = Fma8(b0, a + 15, c15);
        }
        if (t->IsFullTile(16, 8))
        {
            Avx2FinishRow8(t, 0, c0); Avx2FinishRow8(t, 1, c1); Avx2FinishRow8(t, 2, c2); Avx2FinishRow8(t, 3, c3);
            Avx2FinishRow8(t, 4, c4); Avx2FinishRow8(t, 5, c5); Avx2FinishRow8(t, 6, c6); Avx2FinishRow8(t, 7, c7);
            Avx2FinishRow8(t, 8, c8); Avx2FinishRow8(t, 9, c9); Avx2FinishRow8(t, 10, c10); Avx2FinishRow8(t, 11, c11);
            Avx2FinishRow8(t, 12, c12); Avx2FinishRow8(t, 13, c13); Avx2FinishRow8(t, 14, c14); Avx2FinishRow8(t, 15, c15);
            return;
        }
        float* tile = stackalloc float[16 * 8];
        c0.Store(tile); c1.Store(tile + 8); c2.Store(tile + 16); c3.Store(tile + 24);
        c4.Store(tile + 32); c5.Store(tile + 40); c6.Store(tile + 48); c7.Store(tile + 56);
        c8.Store(tile + 64); c9.Store(tile + 72); c10.Store(tile + 80); c11.Store(tile + 88);
        c12.Store(tile + 96); c13.Store(tile + 104); c14.Store(tile + 112); c15.Store(tile + 120);
        StoreEdgeTile(tile, 8, t);
    }

    /// <summary>
    /// The epilogue of a full AVX-512 tile (16x16, 16-wide edge tiles, the MR x 32 tiles) with the tile arguments read once into locals (stores to C could alias
    /// the arguments, so reading them per row would reload every field after every store).
    /// </summary>
    private readonly ref struct Avx512Epilogue
    {
        private readonly float* _c, _rowBias, _colBias;
        private readonly nint _rs;
        private readonly float _alpha, _beta, _min, _max;
        private readonly bool _plain, _act;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Avx512Epilogue(GemmTileArgs* t)
        {
            _c = t->C; _rs = t->RowStride;
            _alpha = t->Alpha; _beta = t->Beta; _min = t->Min; _max = t->Max;
            _act = t->Activation != ActivationKind.None;
            _rowBias = t->BiasAxis == BiasAxis.Row ? t->Bias : null;
            _colBias = t->BiasAxis == BiasAxis.Column ? t->Bias : null;
            _plain = _alpha == 1f && _beta == 0f && t->BiasAxis == BiasAxis.None && !_act;
        }

        /// <summary>Row r, columns col .. col+15: alpha, beta·C, bias, activation, store.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(int r, Vector512<float> v, int col = 0)
        {
            float* c = _c + r * _rs + col;
            if (!_plain)
            {
                v = Avx512F.Multiply(v, Vector512.Create(_alpha));
                if (_beta != 0f) v = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(c), Vector512.Create(_beta), v);
                v = Avx512F.Add(v, _colBias != null ? Avx512F.LoadVector512(_colBias + col) : Vector512.Create(_rowBias != null ? _rowBias[r] : 0f));
                // max first: Relu of NaN is 0 as in Activation.Apply (maxps returns the second operand on NaN).
                if (_act) v = Avx512F.Min(Avx512F.Max(v, Vector512.Create(_min)), Vector512.Create(_max));
            }
            Avx512F.Store(c, v);
        }
    }
}
