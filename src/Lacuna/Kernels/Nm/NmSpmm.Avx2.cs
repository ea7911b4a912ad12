// Generated register tiles: accumulators are written out as c{row}_{vector} because the JIT keeps only named locals
// in registers; R, V and U are constants of each generic instance, so the unused lines compile away.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Nm;

internal static unsafe partial class NmSpmm
{
    /// <summary>
    /// AVX2 + FMA (8 lanes), one row per block (per-row N:M; see <see cref="NmArgs"/>): each slot loads V vectors of X for V
    /// FMAs. U consecutive slots go to U accumulator sets, so a narrow tile still has 8 independent FMA chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2RowTile<TVectors>(NmArgs* a) where TVectors : struct, INmVectors
    {
        int V = TVectors.Vectors, U = V >= 8 ? 1 : V >= 4 ? 2 : 4;
        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;
        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;
        int* cols = a->Cols;
        int slots = a->Slots, stride = a->SlotStride;
        var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Max);
        bool clamp = a->Activate && a->Activation != ActivationKind.None, accumulate = a->Accumulate;
        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)
        {
            Vector256<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c0_4 = default, c0_5 = default, c0_6 = default, c0_7 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c1_4 = default, c1_5 = default, c1_6 = default, c1_7 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c2_4 = default, c2_5 = default, c2_6 = default, c2_7 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c3_4 = default, c3_5 = default, c3_6 = default, c3_7 = default;
            if (accumulate)
            {
                { c0_0 = Avx.LoadVector256(y + 0 * ldy + 0); if (V > 1) c0_1 = Avx.LoadVector256(y + 0 * ldy + 8); if (V > 2) c0_2 = Avx.LoadVector256(y + 0 * ldy + 16); if (V > 3) c0_3 = Avx.LoadVector256(y + 0 * ldy + 24); if (V > 4) c0_4 = Avx.LoadVector256(y + 0 * ldy + 32); if (V > 5) c0_5 = Avx.LoadVector256(y + 0 * ldy + 40); if (V > 6) c0_6 = Avx.LoadVector256(y + 0 * ldy + 48); if (V > 7) c0_7 = Avx.LoadVector256(y + 0 * ldy + 56); }
            }
            else
            {
                { var bv = Vector256.Create(bias[0]); c0_0 = bv; if (V > 1) c0_1 = bv; if (V > 2) c0_2 = bv; if (V > 3) c0_3 = bv; if (V > 4) c0_4 = bv; if (V > 5) c0_5 = bv; if (V > 6) c0_6 = bv; if (V > 7) c0_7 = bv; }
            }
            float* wp = w;
            int s = 0;
            for (; s + U <= slots; s += U, wp += U * ws)
            {
                {
                    float* p = x + cols[s + 0] * ldx;
                    var x0 = Avx.LoadVector256(p);
                    var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                    var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                    var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                    var x4 = V > 4 ? Avx.LoadVector256(p + 32) : default;
                    var x5 = V > 5 ? Avx.LoadVector256(p + 40) : default;
                    var x6 = V > 6 ? Avx.LoadVector256(p + 48) : default;
                    var x7 = V > 7 ? Avx.LoadVector256(p + 56) : default;
                    { var bv = Avx.BroadcastScalarToVector256(wp + 0 * ws); c0_0 = Fma.MultiplyAdd(bv, x0, c0_0); if (V > 1) c0_1 = Fma.MultiplyAdd(bv, x1, c0_1); if (V > 2) c0_2 = Fma.MultiplyAdd(bv, x2, c0_2); if (V > 3) c0_3 = Fma.MultiplyAdd(bv, x3, c0_3); if (V > 4) c0_4 = Fma.MultiplyAdd(bv, x4, c0_4); if (V > 5) c0_5 = Fma.MultiplyAdd(bv, x5, c0_5); if (V > 6) c0_6 = Fma.MultiplyAdd(bv, x6, c0_6); if (V > 7) c0_7 = Fma.MultiplyAdd(bv, x7, c0_7); }
                }
                if (U > 1)
                {
                    float* p = x + cols[s + 1] * ldx;
                    var x0 = Avx.LoadVector256(p);
                    var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                    var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                    var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                    var x4 = V > 4 ? Avx.LoadVector256(p + 32) : default;
                    var x5 = V > 5 ? Avx.LoadVector256(p + 40) : default;
                    var x6 = V > 6 ? Avx.LoadVector256(p + 48) : default;
                    var x7 = V > 7 ? Avx.LoadVector256(p + 56) : default;
                    { var bv = Avx.BroadcastScalarToVector256(wp + 1 * ws); c1_0 = Fma.MultiplyAdd(bv, x0, c1_0); if (V > 1) c1_1 = Fma.MultiplyAdd(bv, x1, c1_1); if (V > 2) c1_2 = Fma.MultiplyAdd(bv, x2, c1_2); if (V > 3) c1_3 = Fma.MultiplyAdd(bv, x3, c1_3); if (V > 4) c1_4 = Fma.MultiplyAdd(bv, x4, c1_4); if (V > 5) c1_5 = Fma.MultiplyAdd(bv, x5, c1_5); if (V > 6) c1_6 = Fma.MultiplyAdd(bv, x6, c1_6); if (V > 7) c1_7 = Fma.MultiplyAdd(bv, x7, c1_7); }
                }
                if (U > 2)
                {
                    float* p = x + cols[s + 2] * ldx;
                    var x0 = Avx.LoadVector256(p);
                    var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                    var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                    var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                    var x4 = V > 4 ? Avx.LoadVector256(p + 32) : default;
                    var x5 = V > 5 ? Avx.LoadVector256(p + 40) : default;
                    var x6 = V > 6 ? Avx.LoadVector256(p + 48) : default;
                    var x7 = V > 7 ? Avx.LoadVector256(p + 56) : default;
                    { var bv = Avx.BroadcastScalarToVector256(wp + 2 * ws); c2_0 = Fma.MultiplyAdd(bv, x0, c2_0); if (V > 1) c2_1 = Fma.MultiplyAdd(bv, x1, c2_1); if (V > 2) c2_2 = Fma.MultiplyAdd(bv, x2, c2_2); if (V > 3) c2_3 = Fma.MultiplyAdd(bv, x3, c2_3); if (V > 4) c2_4 = Fma.MultiplyAdd(bv, x4, c2_4); if (V > 5) c2_5 = Fma.MultiplyAdd(bv, x5, c2_5); if (V > 6) c2_6 = Fma.MultiplyAdd(bv, x6, c2_6); if (V > 7) c2_7 = Fma.MultiplyAdd(bv, x7, c2_7); }
                }
                if (U > 3)
                {
                    float* p = x + cols[s + 3] * ldx;
                    var x0 = Avx.LoadVector256(p);
                    var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                    var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                    var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                    var x4 = V > 4 ? Avx.LoadVector256(p + 32) : default;
                    var x5 = V > 5 ? Avx.LoadVector256(p + 40) : default;
                    var x6 = V > 6 ? Avx.LoadVector256(p + 48) : default;
                    var x7 = V > 7 ? Avx.LoadVector256(p + 56) : default;
                    { var bv = Avx.BroadcastScalarToVector256(wp + 3 * ws); c3_0 = Fma.MultiplyAdd(bv, x0, c3_0); if (V > 1) c3_1 = Fma.MultiplyAdd(bv, x1, c3_1); if (V > 2) c3_2 = Fma.MultiplyAdd(bv, x2, c3_2); if (V > 3) c3_3 = Fma.MultiplyAdd(bv, x3, c3_3); if (V > 4) c3_4 = Fma.MultiplyAdd(bv, x4, c3_4); if (V > 5) c3_5 = Fma.MultiplyAdd(bv, x5, c3_5); if (V > 6) c3_6 = Fma.MultiplyAdd(bv, x6, c3_6); if (V > 7) c3_7 = Fma.MultiplyAdd(bv, x7, c3_7); }
                }
            }
            for (; s < slots; s++, wp += ws)
            {
                float* p = x + cols[s] * ldx;
                var x0 = Avx.LoadVector256(p);
                var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                var x4 = V > 4 ? Avx.LoadVector256(p + 32) : default;
                var x5 = V > 5 ? Avx.LoadVector256(p + 40) : default;
                var x6 = V > 6 ? Avx.LoadVector256(p + 48) : default;
                var x7 = V > 7 ? Avx.LoadVector256(p + 56) : default;
                { var bv = Avx.BroadcastScalarToVector256(wp + 0); c0_0 = Fma.MultiplyAdd(bv, x0, c0_0); if (V > 1) c0_1 = Fma.MultiplyAdd(bv, x1, c0_1); if (V > 2) c0_2 = Fma.MultiplyAdd(bv, x2, c0_2); if (V > 3) c0_3 = Fma.MultiplyAdd(bv, x3, c0_3); if (V > 4) c0_4 = Fma.MultiplyAdd(bv, x4, c0_4); if (V > 5) c0_5 = Fma.MultiplyAdd(bv, x5, c0_5); if (V > 6) c0_6 = Fma.MultiplyAdd(bv, x6, c0_6); if (V > 7) c0_7 = Fma.MultiplyAdd(bv, x7, c0_7); }
            }
            if (U > 1) { c0_0 += c1_0; if (V > 1) c0_1 += c1_1; if (V > 2) c0_2 += c1_2; if (V > 3) c0_3 += c1_3; if (V > 4) c0_4 += c1_4; if (V > 5) c0_5 += c1_5; if (V > 6) c0_6 += c1_6; if (V > 7) c0_7 += c1_7; }
            if (U > 2) { c0_0 += c2_0; if (V > 1) c0_1 += c2_1; if (V > 2) c0_2 += c2_2; if (V > 3) c0_3 += c2_3; if (V > 4) c0_4 += c2_4; if (V > 5) c0_5 += c2_5; if (V > 6) c0_6 += c2_6; if (V > 7) c0_7 += c2_7; }
            if (U > 3) { c0_0 += c3_0; if (V > 1) c0_1 += c3_1; if (V > 2) c0_2 += c3_2; if (V > 3) c0_3 += c3_3; if (V > 4) c0_4 += c3_4; if (V > 5) c0_5 += c3_5; if (V > 6) c0_6 += c3_6; if (V > 7) c0_7 += c3_7; }
            if (clamp)
            {
                { c0_0 = Avx.Min(Avx.Max(c0_0, lo), hi); if (V > 1) c0_1 = Avx.Min(Avx.Max(c0_1, lo), hi); if (V > 2) c0_2 = Avx.Min(Avx.Max(c0_2, lo), hi); if (V > 3) c0_3 = Avx.Min(Avx.Max(c0_3, lo), hi); if (V > 4) c0_4 = Avx.Min(Avx.Max(c0_4, lo), hi); if (V > 5) c0_5 = Avx.Min(Avx.Max(c0_5, lo), hi); if (V > 6) c0_6 = Avx.Min(Avx.Max(c0_6, lo), hi); if (V > 7) c0_7 = Avx.Min(Avx.Max(c0_7, lo), hi); }
            }
            { Avx.Store(y + 0 * ldy + 0, c0_0); if (V > 1) Avx.Store(y + 0 * ldy + 8, c0_1); if (V > 2) Avx.Store(y + 0 * ldy + 16, c0_2); if (V > 3) Avx.Store(y + 0 * ldy + 24, c0_3); if (V > 4) Avx.Store(y + 0 * ldy + 32, c0_4); if (V > 5) Avx.Store(y + 0 * ldy + 40, c0_5); if (V > 6) Avx.Store(y + 0 * ldy + 48, c0_6); if (V > 7) Avx.Store(y + 0 * ldy + 56, c0_7); }
        }
    }

    /// <summary>AVX2 + FMA (8 lanes), R rows sharing each slot (row-shared N:M): V loads of X feed R × V FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2SharedTile<TRows, TVectors>(NmArgs* a) where TRows : struct, INmRows where TVectors : struct, INmVectors
    {
        int R = TRows.Rows, V = TVectors.Vectors;
        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;
        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;
        int* cols = a->Cols;
        int slots = a->Slots, stride = a->SlotStride;
        var lo = Vector256.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector256.Create(a->Max);
        bool clamp = a->Activate && a->Activation != ActivationKind.None, accumulate = a->Accumulate;
        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)
        {
            Vector256<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default, c5_0 = default, c5_1 = default, c5_2 = default, c5_3 = default, c6_0 = default, c6_1 = default, c6_2 = default, c6_3 = default, c7_0 = default, c7_1 = default, c7_2 = default, c7_3 = default;
            if (accumulate)
            {
                if (R > 0) { c0_0 = Avx.LoadVector256(y + 0 * ldy + 0); if (V > 1) c0_1 = Avx.LoadVector256(y + 0 * ldy + 8); if (V > 2) c0_2 = Avx.LoadVector256(y + 0 * ldy + 16); if (V > 3) c0_3 = Avx.LoadVector256(y + 0 * ldy + 24); }
                if (R > 1) { c1_0 = Avx.LoadVector256(y + 1 * ldy + 0); if (V > 1) c1_1 = Avx.LoadVector256(y + 1 * ldy + 8); if (V > 2) c1_2 = Avx.LoadVector256(y + 1 * ldy + 16); if (V > 3) c1_3 = Avx.LoadVector256(y + 1 * ldy + 24); }
                if (R > 2) { c2_0 = Avx.LoadVector256(y + 2 * ldy + 0); if (V > 1) c2_1 = Avx.LoadVector256(y + 2 * ldy + 8); if (V > 2) c2_2 = Avx.LoadVector256(y + 2 * ldy + 16); if (V > 3) c2_3 = Avx.LoadVector256(y + 2 * ldy + 24); }
                if (R > 3) { c3_0 = Avx.LoadVector256(y + 3 * ldy + 0); if (V > 1) c3_1 = Avx.LoadVector256(y + 3 * ldy + 8); if (V > 2) c3_2 = Avx.LoadVector256(y + 3 * ldy + 16); if (V > 3) c3_3 = Avx.LoadVector256(y + 3 * ldy + 24); }
                if (R > 4) { c4_0 = Avx.LoadVector256(y + 4 * ldy + 0); if (V > 1) c4_1 = Avx.LoadVector256(y + 4 * ldy + 8); if (V > 2) c4_2 = Avx.LoadVector256(y + 4 * ldy + 16); if (V > 3) c4_3 = Avx.LoadVector256(y + 4 * ldy + 24); }
                if (R > 5) { c5_0 = Avx.LoadVector256(y + 5 * ldy + 0); if (V > 1) c5_1 = Avx.LoadVector256(y + 5 * ldy + 8); if (V > 2) c5_2 = Avx.LoadVector256(y + 5 * ldy + 16); if (V > 3) c5_3 = Avx.LoadVector256(y + 5 * ldy + 24); }
                if (R > 6) { c6_0 = Avx.LoadVector256(y + 6 * ldy + 0); if (V > 1) c6_1 = Avx.LoadVector256(y + 6 * ldy + 8); if (V > 2) c6_2 = Avx.LoadVector256(y + 6 * ldy + 16); if (V > 3) c6_3 = Avx.LoadVector256(y + 6 * ldy + 24); }
                if (R > 7) { c7_0 = Avx.LoadVector256(y + 7 * ldy + 0); if (V > 1) c7_1 = Avx.LoadVector256(y + 7 * ldy + 8); if (V > 2) c7_2 = Avx.LoadVector256(y + 7 * ldy + 16); if (V > 3) c7_3 = Avx.LoadVector256(y + 7 * ldy + 24); }
            }
            else
            {
                if (R > 0) { var bv = Vector256.Create(bias[0]); c0_0 = bv; if (V > 1) c0_1 = bv; if (V > 2) c0_2 = bv; if (V > 3) c0_3 = bv; }
                if (R > 1) { var bv = Vector256.Create(bias[1]); c1_0 = bv; if (V > 1) c1_1 = bv; if (V > 2) c1_2 = bv; if (V > 3) c1_3 = bv; }
                if (R > 2) { var bv = Vector256.Create(bias[2]); c2_0 = bv; if (V > 1) c2_1 = bv; if (V > 2) c2_2 = bv; if (V > 3) c2_3 = bv; }
                if (R > 3) { var bv = Vector256.Create(bias[3]); c3_0 = bv; if (V > 1) c3_1 = bv; if (V > 2) c3_2 = bv; if (V > 3) c3_3 = bv; }
                if (R > 4) { var bv = Vector256.Create(bias[4]); c4_0 = bv; if (V > 1) c4_1 = bv; if (V > 2) c4_2 = bv; if (V > 3) c4_3 = bv; }
                if (R > 5) { var bv = Vector256.Create(bias[5]); c5_0 = bv; if (V > 1) c5_1 = bv; if (V > 2) c5_2 = bv; if (V > 3) c5_3 = bv; }
                if (R > 6) { var bv = Vector256.Create(bias[6]); c6_0 = bv; if (V > 1) c6_1 = bv; if (V > 2) c6_2 = bv; if (V > 3) c6_3 = bv; }
                if (R > 7) { var bv = Vector256.Create(bias[7]); c7_0 = bv; if (V > 1) c7_1 = bv; if (V > 2) c7_2 = bv; if (V > 3) c7_3 = bv; }
            }
            float* wp = w;
            int s = 0;
            for (; s < slots; s++, wp += ws)
            {
                float* p = x + cols[s] * ldx;
                var x0 = Avx.LoadVector256(p);
                var x1 = V > 1 ? Avx.LoadVector256(p + 8) : default;
                var x2 = V > 2 ? Avx.LoadVector256(p + 16) : default;
                var x3 = V > 3 ? Avx.LoadVector256(p + 24) : default;
                { var bv = Avx.BroadcastScalarToVector256(wp + 0); c0_0 = Fma.MultiplyAdd(bv, x0, c0_0); if (V > 1) c0_1 = Fma.MultiplyAdd(bv, x1, c0_1); if (V > 2) c0_2 = Fma.MultiplyAdd(bv, x2, c0_2); if (V > 3) c0_3 = Fma.MultiplyAdd(bv, x3, c0_3); }
                if (R > 1) { var bv = Avx.BroadcastScalarToVector256(wp + 1); c1_0 = Fma.MultiplyAdd(bv, x0, c1_0); if (V > 1) c1_1 = Fma.MultiplyAdd(bv, x1, c1_1); if (V > 2) c1_2 = Fma.MultiplyAdd(bv, x2, c1_2); if (V > 3) c1_3 = Fma.MultiplyAdd(bv, x3, c1_3); }
                if (R > 2) { var bv = Avx.BroadcastScalarToVector256(wp + 2); c2_0 = Fma.MultiplyAdd(bv, x0, c2_0); if (V > 1) c2_1 = Fma.MultiplyAdd(bv, x1, c2_1); if (V > 2) c2_2 = Fma.MultiplyAdd(bv, x2, c2_2); if (V > 3) c2_3 = Fma.MultiplyAdd(bv, x3, c2_3); }
                if (R > 3) { var bv = Avx.BroadcastScalarToVector256(wp + 3); c3_0 = Fma.MultiplyAdd(bv, x0, c3_0); if (V > 1) c3_1 = Fma.MultiplyAdd(bv, x1, c3_1); if (V > 2) c3_2 = Fma.MultiplyAdd(bv, x2, c3_2); if (V > 3) c3_3 = Fma.MultiplyAdd(bv, x3, c3_3); }
                if (R > 4) { var bv = Avx.BroadcastScalarToVector256(wp + 4); c4_0 = Fma.MultiplyAdd(bv, x0, c4_0); if (V > 1) c4_1 = Fma.MultiplyAdd(bv, x1, c4_1); if (V > 2) c4_2 = Fma.MultiplyAdd(bv, x2, c4_2); if (V > 3) c4_3 = Fma.MultiplyAdd(bv, x3, c4_3); }
                if (R > 5) { var bv = Avx.BroadcastScalarToVector256(wp + 5); c5_0 = Fma.MultiplyAdd(bv, x0, c5_0); if (V > 1) c5_1 = Fma.MultiplyAdd(bv, x1, c5_1); if (V > 2) c5_2 = Fma.MultiplyAdd(bv, x2, c5_2); if (V > 3) c5_3 = Fma.MultiplyAdd(bv, x3, c5_3); }
                if (R > 6) { var bv = Avx.BroadcastScalarToVector256(wp + 6); c6_0 = Fma.MultiplyAdd(bv, x0, c6_0); if (V > 1) c6_1 = Fma.MultiplyAdd(bv, x1, c6_1); if (V > 2) c6_2 = Fma.MultiplyAdd(bv, x2, c6_2); if (V > 3) c6_3 = Fma.MultiplyAdd(bv, x3, c6_3); }
                if (R > 7) { var bv = Avx.BroadcastScalarToVector256(wp + 7); c7_0 = Fma.MultiplyAdd(bv, x0, c7_0); if (V > 1) c7_1 = Fma.MultiplyAdd(bv, x1, c7_1); if (V > 2) c7_2 = Fma.MultiplyAdd(bv, x2, c7_2); if (V > 3) c7_3 = Fma.MultiplyAdd(bv, x3, c7_3); }
            }
            if (clamp)
            {
                if (R > 0) { c0_0 = Avx.Min(Avx.Max(c0_0, lo), hi); if (V > 1) c0_1 = Avx.Min(Avx.Max(c0_1, lo), hi); if (V > 2) c0_2 = Avx.Min(Avx.Max(c0_2, lo), hi); if (V > 3) c0_3 = Avx.Min(Avx.Max(c0_3, lo), hi); }
                if (R > 1) { c1_0 = Avx.Min(Avx.Max(c1_0, lo), hi); if (V > 1) c1_1 = Avx.Min(Avx.Max(c1_1, lo), hi); if (V > 2) c1_2 = Avx.Min(Avx.Max(c1_2, lo), hi); if (V > 3) c1_3 = Avx.Min(Avx.Max(c1_3, lo), hi); }
                if (R > 2) { c2_0 = Avx.Min(Avx.Max(c2_0, lo), hi); if (V > 1) c2_1 = Avx.Min(Avx.Max(c2_1, lo), hi); if (V > 2) c2_2 = Avx.Min(Avx.Max(c2_2, lo), hi); if (V > 3) c2_3 = Avx.Min(Avx.Max(c2_3, lo), hi); }
                if (R > 3) { c3_0 = Avx.Min(Avx.Max(c3_0, lo), hi); if (V > 1) c3_1 = Avx.Min(Avx.Max(c3_1, lo), hi); if (V > 2) c3_2 = Avx.Min(Avx.Max(c3_2, lo), hi); if (V > 3) c3_3 = Avx.Min(Avx.Max(c3_3, lo), hi); }
                if (R > 4) { c4_0 = Avx.Min(Avx.Max(c4_0, lo), hi); if (V > 1) c4_1 = Avx.Min(Avx.Max(c4_1, lo), hi); if (V > 2) c4_2 = Avx.Min(Avx.Max(c4_2, lo), hi); if (V > 3) c4_3 = Avx.Min(Avx.Max(c4_3, lo), hi); }
                if (R > 5) { c5_0 = Avx.Min(Avx.Max(c5_0, lo), hi); if (V > 1) c5_1 = Avx.Min(Avx.Max(c5_1, lo), hi); if (V > 2) c5_2 = Avx.Min(Avx.Max(c5_2, lo), hi); if (V > 3) c5_3 = Avx.Min(Avx.Max(c5_3, lo), hi); }
                if (R > 6) { c6_0 = Avx.Min(Avx.Max(c6_0, lo), hi); if (V > 1) c6_1 = Avx.Min(Avx.Max(c6_1, lo), hi); if (V > 2) c6_2 = Avx.Min(Avx.Max(c6_2, lo), hi); if (V > 3) c6_3 = Avx.Min(Avx.Max(c6_3, lo), hi); }
                if (R > 7) { c7_0 = Avx.Min(Avx.Max(c7_0, lo), hi); if (V > 1) c7_1 = Avx.Min(Avx.Max(c7_1, lo), hi); if (V > 2) c7_2 = Avx.Min(Avx.Max(c7_2, lo), hi); if (V > 3) c7_3 = Avx.Min(Avx.Max(c7_3, lo), hi); }
            }
            if (R > 0) { Avx.Store(y + 0 * ldy + 0, c0_0); if (V > 1) Avx.Store(y + 0 * ldy + 8, c0_1); if (V > 2) Avx.Store(y + 0 * ldy + 16, c0_2); if (V > 3) Avx.Store(y + 0 * ldy + 24, c0_3); }
            if (R > 1) { Avx.Store(y + 1 * ldy + 0, c1_0); if (V > 1) Avx.Store(y + 1 * ldy + 8, c1_1); if (V > 2) Avx.Store(y + 1 * ldy + 16, c1_2); if (V > 3) Avx.Store(y + 1 * ldy + 24, c1_3); }
            if (R > 2) { Avx.Store(y + 2 * ldy + 0, c2_0); if (V > 1) Avx.Store(y + 2 * ldy + 8, c2_1); if (V > 2) Avx.Store(y + 2 * ldy + 16, c2_2); if (V > 3) Avx.Store(y + 2 * ldy + 24, c2_3); }
            if (R > 3) { Avx.Store(y + 3 * ldy + 0, c3_0); if (V > 1) Avx.Store(y + 3 * ldy + 8, c3_1); if (V > 2) Avx.Store(y + 3 * ldy + 16, c3_2); if (V > 3) Avx.Store(y + 3 * ldy + 24, c3_3); }
            if (R > 4) { Avx.Store(y + 4 * ldy + 0, c4_0); if (V > 1) Avx.Store(y + 4 * ldy + 8, c4_1); if (V > 2) Avx.Store(y + 4 * ldy + 16, c4_2); if (V > 3) Avx.Store(y + 4 * ldy + 24, c4_3); }
            if (R > 5) { Avx.Store(y + 5 * ldy + 0, c5_0); if (V > 1) Avx.Store(y + 5 * ldy + 8, c5_1); if (V > 2) Avx.Store(y + 5 * ldy + 16, c5_2); if (V > 3) Avx.Store(y + 5 * ldy + 24, c5_3); }
            if (R > 6) { Avx.Store(y + 6 * ldy + 0, c6_0); if (V > 1) Avx.Store(y + 6 * ldy + 8, c6_1); if (V > 2) Avx.Store(y + 6 * ldy + 16, c6_2); if (V > 3) Avx.Store(y + 6 * ldy + 24, c6_3); }
            if (R > 7) { Avx.Store(y + 7 * ldy + 0, c7_0); if (V > 1) Avx.Store(y + 7 * ldy + 8, c7_1); if (V > 2) Avx.Store(y + 7 * ldy + 16, c7_2); if (V > 3) Avx.Store(y + 7 * ldy + 24, c7_3); }
        }
    }
}
