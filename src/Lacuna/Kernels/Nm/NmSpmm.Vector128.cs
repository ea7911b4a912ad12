// Generated register tiles: accumulators are written out as c{row}_{vector} because the JIT keeps only named locals
// in registers; R, V and U are constants of each generic instance, so the unused lines compile away.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Nm;

internal static unsafe partial class NmSpmm
{
    /// <summary>
    /// portable 128-bit vectors (4 lanes; multiply then add: the tier has no guaranteed FMA), one row per block (per-row N:M; see <see cref="NmArgs"/>): each slot loads V vectors of X for V
    /// FMAs. U consecutive slots go to U accumulator sets, so a narrow tile still has 8 independent FMA chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128RowTile<TVectors>(NmArgs* a) where TVectors : struct, INmVectors
    {
        int V = TVectors.Vectors, U = V >= 8 ? 1 : V >= 4 ? 2 : 4;
        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;
        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;
        int* cols = a->Cols;
        int slots = a->Slots, stride = a->SlotStride;
        var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector128.Create(a->Max);
        bool clamp = a->Activate && a->Activation != ActivationKind.None, accumulate = a->Accumulate;
        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)
        {
            Vector128<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c0_4 = default, c0_5 = default, c0_6 = default, c0_7 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c1_4 = default, c1_5 = default, c1_6 = default, c1_7 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c2_4 = default, c2_5 = default, c2_6 = default, c2_7 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c3_4 = default, c3_5 = default, c3_6 = default, c3_7 = default;
            if (accumulate)
            {
                { c0_0 = Vector128.Load(y + 0 * ldy + 0); if (V > 1) c0_1 = Vector128.Load(y + 0 * ldy + 4); if (V > 2) c0_2 = Vector128.Load(y + 0 * ldy + 8); if (V > 3) c0_3 = Vector128.Load(y + 0 * ldy + 12); if (V > 4) c0_4 = Vector128.Load(y + 0 * ldy + 16); if (V > 5) c0_5 = Vector128.Load(y + 0 * ldy + 20); if (V > 6) c0_6 = Vector128.Load(y + 0 * ldy + 24); if (V > 7) c0_7 = Vector128.Load(y + 0 * ldy + 28); }
            }
            else
            {
                { var bv = Vector128.Create(bias[0]); c0_0 = bv; if (V > 1) c0_1 = bv; if (V > 2) c0_2 = bv; if (V > 3) c0_3 = bv; if (V > 4) c0_4 = bv; if (V > 5) c0_5 = bv; if (V > 6) c0_6 = bv; if (V > 7) c0_7 = bv; }
            }
            float* wp = w;
            int s = 0;
            for (; s + U <= slots; s += U, wp += U * ws)
            {
                {
                    float* p = x + cols[s + 0] * ldx;
                    var x0 = Vector128.Load(p);
                    var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                    var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                    var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                    var x4 = V > 4 ? Vector128.Load(p + 16) : default;
                    var x5 = V > 5 ? Vector128.Load(p + 20) : default;
                    var x6 = V > 6 ? Vector128.Load(p + 24) : default;
                    var x7 = V > 7 ? Vector128.Load(p + 28) : default;
                    { var bv = Vector128.Create(wp[0 * ws]); c0_0 = c0_0 + bv * x0; if (V > 1) c0_1 = c0_1 + bv * x1; if (V > 2) c0_2 = c0_2 + bv * x2; if (V > 3) c0_3 = c0_3 + bv * x3; if (V > 4) c0_4 = c0_4 + bv * x4; if (V > 5) c0_5 = c0_5 + bv * x5; if (V > 6) c0_6 = c0_6 + bv * x6; if (V > 7) c0_7 = c0_7 + bv * x7; }
                }
                if (U > 1)
                {
                    float* p = x + cols[s + 1] * ldx;
                    var x0 = Vector128.Load(p);
                    var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                    var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                    var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                    var x4 = V > 4 ? Vector128.Load(p + 16) : default;
                    var x5 = V > 5 ? Vector128.Load(p + 20) : default;
                    var x6 = V > 6 ? Vector128.Load(p + 24) : default;
                    var x7 = V > 7 ? Vector128.Load(p + 28) : default;
                    { var bv = Vector128.Create(wp[1 * ws]); c1_0 = c1_0 + bv * x0; if (V > 1) c1_1 = c1_1 + bv * x1; if (V > 2) c1_2 = c1_2 + bv * x2; if (V > 3) c1_3 = c1_3 + bv * x3; if (V > 4) c1_4 = c1_4 + bv * x4; if (V > 5) c1_5 = c1_5 + bv * x5; if (V > 6) c1_6 = c1_6 + bv * x6; if (V > 7) c1_7 = c1_7 + bv * x7; }
                }
                if (U > 2)
                {
                    float* p = x + cols[s + 2] * ldx;
                    var x0 = Vector128.Load(p);
                    var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                    var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                    var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                    var x4 = V > 4 ? Vector128.Load(p + 16) : default;
                    var x5 = V > 5 ? Vector128.Load(p + 20) : default;
                    var x6 = V > 6 ? Vector128.Load(p + 24) : default;
                    var x7 = V > 7 ? Vector128.Load(p + 28) : default;
                    { var bv = Vector128.Create(wp[2 * ws]); c2_0 = c2_0 + bv * x0; if (V > 1) c2_1 = c2_1 + bv * x1; if (V > 2) c2_2 = c2_2 + bv * x2; if (V > 3) c2_3 = c2_3 + bv * x3; if (V > 4) c2_4 = c2_4 + bv * x4; if (V > 5) c2_5 = c2_5 + bv * x5; if (V > 6) c2_6 = c2_6 + bv * x6; if (V > 7) c2_7 = c2_7 + bv * x7; }
                }
                if (U > 3)
                {
                    float* p = x + cols[s + 3] * ldx;
                    var x0 = Vector128.Load(p);
                    var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                    var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                    var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                    var x4 = V > 4 ? Vector128.Load(p + 16) : default;
                    var x5 = V > 5 ? Vector128.Load(p + 20) : default;
                    var x6 = V > 6 ? Vector128.Load(p + 24) : default;
                    var x7 = V > 7 ? Vector128.Load(p + 28) : default;
                    { var bv = Vector128.Create(wp[3 * ws]); c3_0 = c3_0 + bv * x0; if (V > 1) c3_1 = c3_1 + bv * x1; if (V > 2) c3_2 = c3_2 + bv * x2; if (V > 3) c3_3 = c3_3 + bv * x3; if (V > 4) c3_4 = c3_4 + bv * x4; if (V > 5) c3_5 = c3_5 + bv * x5; if (V > 6) c3_6 = c3_6 + bv * x6; if (V > 7) c3_7 = c3_7 + bv * x7; }
                }
            }
            for (; s < slots; s++, wp += ws)
            {
                float* p = x + cols[s] * ldx;
                var x0 = Vector128.Load(p);
                var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                var x4 = V > 4 ? Vector128.Load(p + 16) : default;
                var x5 = V > 5 ? Vector128.Load(p + 20) : default;
                var x6 = V > 6 ? Vector128.Load(p + 24) : default;
                var x7 = V > 7 ? Vector128.Load(p + 28) : default;
                { var bv = Vector128.Create(wp[0]); c0_0 = c0_0 + bv * x0; if (V > 1) c0_1 = c0_1 + bv * x1; if (V > 2) c0_2 = c0_2 + bv * x2; if (V > 3) c0_3 = c0_3 + bv * x3; if (V > 4) c0_4 = c0_4 + bv * x4; if (V > 5) c0_5 = c0_5 + bv * x5; if (V > 6) c0_6 = c0_6 + bv * x6; if (V > 7) c0_7 = c0_7 + bv * x7; }
            }
            if (U > 1) { c0_0 += c1_0; if (V > 1) c0_1 += c1_1; if (V > 2) c0_2 += c1_2; if (V > 3) c0_3 += c1_3; if (V > 4) c0_4 += c1_4; if (V > 5) c0_5 += c1_5; if (V > 6) c0_6 += c1_6; if (V > 7) c0_7 += c1_7; }
            if (U > 2) { c0_0 += c2_0; if (V > 1) c0_1 += c2_1; if (V > 2) c0_2 += c2_2; if (V > 3) c0_3 += c2_3; if (V > 4) c0_4 += c2_4; if (V > 5) c0_5 += c2_5; if (V > 6) c0_6 += c2_6; if (V > 7) c0_7 += c2_7; }
            if (U > 3) { c0_0 += c3_0; if (V > 1) c0_1 += c3_1; if (V > 2) c0_2 += c3_2; if (V > 3) c0_3 += c3_3; if (V > 4) c0_4 += c3_4; if (V > 5) c0_5 += c3_5; if (V > 6) c0_6 += c3_6; if (V > 7) c0_7 += c3_7; }
            if (clamp)
            {
                { c0_0 = Vector128.Min(Vector128.Max(c0_0, lo), hi); if (V > 1) c0_1 = Vector128.Min(Vector128.Max(c0_1, lo), hi); if (V > 2) c0_2 = Vector128.Min(Vector128.Max(c0_2, lo), hi); if (V > 3) c0_3 = Vector128.Min(Vector128.Max(c0_3, lo), hi); if (V > 4) c0_4 = Vector128.Min(Vector128.Max(c0_4, lo), hi); if (V > 5) c0_5 = Vector128.Min(Vector128.Max(c0_5, lo), hi); if (V > 6) c0_6 = Vector128.Min(Vector128.Max(c0_6, lo), hi); if (V > 7) c0_7 = Vector128.Min(Vector128.Max(c0_7, lo), hi); }
            }
            { Vector128.Store(c0_0, y + 0 * ldy + 0); if (V > 1) Vector128.Store(c0_1, y + 0 * ldy + 4); if (V > 2) Vector128.Store(c0_2, y + 0 * ldy + 8); if (V > 3) Vector128.Store(c0_3, y + 0 * ldy + 12); if (V > 4) Vector128.Store(c0_4, y + 0 * ldy + 16); if (V > 5) Vector128.Store(c0_5, y + 0 * ldy + 20); if (V > 6) Vector128.Store(c0_6, y + 0 * ldy + 24); if (V > 7) Vector128.Store(c0_7, y + 0 * ldy + 28); }
        }
    }

    /// <summary>portable 128-bit vectors (4 lanes; multiply then add: the tier has no guaranteed FMA), R rows sharing each slot (row-shared N:M): V loads of X feed R × V FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vector128SharedTile<TRows, TVectors>(NmArgs* a) where TRows : struct, INmRows where TVectors : struct, INmVectors
    {
        int R = TRows.Rows, V = TVectors.Vectors;
        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;
        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;
        int* cols = a->Cols;
        int slots = a->Slots, stride = a->SlotStride;
        var lo = Vector128.Create(a->Activation == ActivationKind.Relu ? 0f : a->Min);
        var hi = Vector128.Create(a->Max);
        bool clamp = a->Activate && a->Activation != ActivationKind.None, accumulate = a->Accumulate;
        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)
        {
            Vector128<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default, c5_0 = default, c5_1 = default, c5_2 = default, c5_3 = default, c6_0 = default, c6_1 = default, c6_2 = default, c6_3 = default, c7_0 = default, c7_1 = default, c7_2 = default, c7_3 = default;
            if (accumulate)
            {
                if (R > 0) { c0_0 = Vector128.Load(y + 0 * ldy + 0); if (V > 1) c0_1 = Vector128.Load(y + 0 * ldy + 4); if (V > 2) c0_2 = Vector128.Load(y + 0 * ldy + 8); if (V > 3) c0_3 = Vector128.Load(y + 0 * ldy + 12); }
                if (R > 1) { c1_0 = Vector128.Load(y + 1 * ldy + 0); if (V > 1) c1_1 = Vector128.Load(y + 1 * ldy + 4); if (V > 2) c1_2 = Vector128.Load(y + 1 * ldy + 8); if (V > 3) c1_3 = Vector128.Load(y + 1 * ldy + 12); }
                if (R > 2) { c2_0 = Vector128.Load(y + 2 * ldy + 0); if (V > 1) c2_1 = Vector128.Load(y + 2 * ldy + 4); if (V > 2) c2_2 = Vector128.Load(y + 2 * ldy + 8); if (V > 3) c2_3 = Vector128.Load(y + 2 * ldy + 12); }
                if (R > 3) { c3_0 = Vector128.Load(y + 3 * ldy + 0); if (V > 1) c3_1 = Vector128.Load(y + 3 * ldy + 4); if (V > 2) c3_2 = Vector128.Load(y + 3 * ldy + 8); if (V > 3) c3_3 = Vector128.Load(y + 3 * ldy + 12); }
                if (R > 4) { c4_0 = Vector128.Load(y + 4 * ldy + 0); if (V > 1) c4_1 = Vector128.Load(y + 4 * ldy + 4); if (V > 2) c4_2 = Vector128.Load(y + 4 * ldy + 8); if (V > 3) c4_3 = Vector128.Load(y + 4 * ldy + 12); }
                if (R > 5) { c5_0 = Vector128.Load(y + 5 * ldy + 0); if (V > 1) c5_1 = Vector128.Load(y + 5 * ldy + 4); if (V > 2) c5_2 = Vector128.Load(y + 5 * ldy + 8); if (V > 3) c5_3 = Vector128.Load(y + 5 * ldy + 12); }
                if (R > 6) { c6_0 = Vector128.Load(y + 6 * ldy + 0); if (V > 1) c6_1 = Vector128.Load(y + 6 * ldy + 4); if (V > 2) c6_2 = Vector128.Load(y + 6 * ldy + 8); if (V > 3) c6_3 = Vector128.Load(y + 6 * ldy + 12); }
                if (R > 7) { c7_0 = Vector128.Load(y + 7 * ldy + 0); if (V > 1) c7_1 = Vector128.Load(y + 7 * ldy + 4); if (V > 2) c7_2 = Vector128.Load(y + 7 * ldy + 8); if (V > 3) c7_3 = Vector128.Load(y + 7 * ldy + 12); }
            }
            else
            {
                if (R > 0) { var bv = Vector128.Create(bias[0]); c0_0 = bv; if (V > 1) c0_1 = bv; if (V > 2) c0_2 = bv; if (V > 3) c0_3 = bv; }
                if (R > 1) { var bv = Vector128.Create(bias[1]); c1_0 = bv; if (V > 1) c1_1 = bv; if (V > 2) c1_2 = bv; if (V > 3) c1_3 = bv; }
                if (R > 2) { var bv = Vector128.Create(bias[2]); c2_0 = bv; if (V > 1) c2_1 = bv; if (V > 2) c2_2 = bv; if (V > 3) c2_3 = bv; }
                if (R > 3) { var bv = Vector128.Create(bias[3]); c3_0 = bv; if (V > 1) c3_1 = bv; if (V > 2) c3_2 = bv; if (V > 3) c3_3 = bv; }
                if (R > 4) { var bv = Vector128.Create(bias[4]); c4_0 = bv; if (V > 1) c4_1 = bv; if (V > 2) c4_2 = bv; if (V > 3) c4_3 = bv; }
                if (R > 5) { var bv = Vector128.Create(bias[5]); c5_0 = bv; if (V > 1) c5_1 = bv; if (V > 2) c5_2 = bv; if (V > 3) c5_3 = bv; }
                if (R > 6) { var bv = Vector128.Create(bias[6]); c6_0 = bv; if (V > 1) c6_1 = bv; if (V > 2) c6_2 = bv; if (V > 3) c6_3 = bv; }
                if (R > 7) { var bv = Vector128.Create(bias[7]); c7_0 = bv; if (V > 1) c7_1 = bv; if (V > 2) c7_2 = bv; if (V > 3) c7_3 = bv; }
            }
            float* wp = w;
            int s = 0;
            for (; s < slots; s++, wp += ws)
            {
                float* p = x + cols[s] * ldx;
                var x0 = Vector128.Load(p);
                var x1 = V > 1 ? Vector128.Load(p + 4) : default;
                var x2 = V > 2 ? Vector128.Load(p + 8) : default;
                var x3 = V > 3 ? Vector128.Load(p + 12) : default;
                { var bv = Vector128.Create(wp[0]); c0_0 = c0_0 + bv * x0; if (V > 1) c0_1 = c0_1 + bv * x1; if (V > 2) c0_2 = c0_2 + bv * x2; if (V > 3) c0_3 = c0_3 + bv * x3; }
                if (R > 1) { var bv = Vector128.Create(wp[1]); c1_0 = c1_0 + bv * x0; if (V > 1) c1_1 = c1_1 + bv * x1; if (V > 2) c1_2 = c1_2 + bv * x2; if (V > 3) c1_3 = c1_3 + bv * x3; }
                if (R > 2) { var bv = Vector128.Create(wp[2]); c2_0 = c2_0 + bv * x0; if (V > 1) c2_1 = c2_1 + bv * x1; if (V > 2) c2_2 = c2_2 + bv * x2; if (V > 3) c2_3 = c2_3 + bv * x3; }
                if (R > 3) { var bv = Vector128.Create(wp[3]); c3_0 = c3_0 + bv * x0; if (V > 1) c3_1 = c3_1 + bv * x1; if (V > 2) c3_2 = c3_2 + bv * x2; if (V > 3) c3_3 = c3_3 + bv * x3; }
                if (R > 4) { var bv = Vector128.Create(wp[4]); c4_0 = c4_0 + bv * x0; if (V > 1) c4_1 = c4_1 + bv * x1; if (V > 2) c4_2 = c4_2 + bv * x2; if (V > 3) c4_3 = c4_3 + bv * x3; }
                if (R > 5) { var bv = Vector128.Create(wp[5]); c5_0 = c5_0 + bv * x0; if (V > 1) c5_1 = c5_1 + bv * x1; if (V > 2) c5_2 = c5_2 + bv * x2; if (V > 3) c5_3 = c5_3 + bv * x3; }
                if (R > 6) { var bv = Vector128.Create(wp[6]); c6_0 = c6_0 + bv * x0; if (V > 1) c6_1 = c6_1 + bv * x1; if (V > 2) c6_2 = c6_2 + bv * x2; if (V > 3) c6_3 = c6_3 + bv * x3; }
                if (R > 7) { var bv = Vector128.Create(wp[7]); c7_0 = c7_0 + bv * x0; if (V > 1) c7_1 = c7_1 + bv * x1; if (V > 2) c7_2 = c7_2 + bv * x2; if (V > 3) c7_3 = c7_3 + bv * x3; }
            }
            if (clamp)
            {
                if (R > 0) { c0_0 = Vector128.Min(Vector128.Max(c0_0, lo), hi); if (V > 1) c0_1 = Vector128.Min(Vector128.Max(c0_1, lo), hi); if (V > 2) c0_2 = Vector128.Min(Vector128.Max(c0_2, lo), hi); if (V > 3) c0_3 = Vector128.Min(Vector128.Max(c0_3, lo), hi); }
                if (R > 1) { c1_0 = Vector128.Min(Vector128.Max(c1_0, lo), hi); if (V > 1) c1_1 = Vector128.Min(Vector128.Max(c1_1, lo), hi); if (V > 2) c1_2 = Vector128.Min(Vector128.Max(c1_2, lo), hi); if (V > 3) c1_3 = Vector128.Min(Vector128.Max(c1_3, lo), hi); }
                if (R > 2) { c2_0 = Vector128.Min(Vector128.Max(c2_0, lo), hi); if (V > 1) c2_1 = Vector128.Min(Vector128.Max(c2_1, lo), hi); if (V > 2) c2_2 = Vector128.Min(Vector128.Max(c2_2, lo), hi); if (V > 3) c2_3 = Vector128.Min(Vector128.Max(c2_3, lo), hi); }
                if (R > 3) { c3_0 = Vector128.Min(Vector128.Max(c3_0, lo), hi); if (V > 1) c3_1 = Vector128.Min(Vector128.Max(c3_1, lo), hi); if (V > 2) c3_2 = Vector128.Min(Vector128.Max(c3_2, lo), hi); if (V > 3) c3_3 = Vector128.Min(Vector128.Max(c3_3, lo), hi); }
                if (R > 4) { c4_0 = Vector128.Min(Vector128.Max(c4_0, lo), hi); if (V > 1) c4_1 = Vector128.Min(Vector128.Max(c4_1, lo), hi); if (V > 2) c4_2 = Vector128.Min(Vector128.Max(c4_2, lo), hi); if (V > 3) c4_3 = Vector128.Min(Vector128.Max(c4_3, lo), hi); }
                if (R > 5) { c5_0 = Vector128.Min(Vector128.Max(c5_0, lo), hi); if (V > 1) c5_1 = Vector128.Min(Vector128.Max(c5_1, lo), hi); if (V > 2) c5_2 = Vector128.Min(Vector128.Max(c5_2, lo), hi); if (V > 3) c5_3 = Vector128.Min(Vector128.Max(c5_3, lo), hi); }
                if (R > 6) { c6_0 = Vector128.Min(Vector128.Max(c6_0, lo), hi); if (V > 1) c6_1 = Vector128.Min(Vector128.Max(c6_1, lo), hi); if (V > 2) c6_2 = Vector128.Min(Vector128.Max(c6_2, lo), hi); if (V > 3) c6_3 = Vector128.Min(Vector128.Max(c6_3, lo), hi); }
                if (R > 7) { c7_0 = Vector128.Min(Vector128.Max(c7_0, lo), hi); if (V > 1) c7_1 = Vector128.Min(Vector128.Max(c7_1, lo), hi); if (V > 2) c7_2 = Vector128.Min(Vector128.Max(c7_2, lo), hi); if (V > 3) c7_3 = Vector128.Min(Vector128.Max(c7_3, lo), hi); }
            }
            if (R > 0) { Vector128.Store(c0_0, y + 0 * ldy + 0); if (V > 1) Vector128.Store(c0_1, y + 0 * ldy + 4); if (V > 2) Vector128.Store(c0_2, y + 0 * ldy + 8); if (V > 3) Vector128.Store(c0_3, y + 0 * ldy + 12); }
            if (R > 1) { Vector128.Store(c1_0, y + 1 * ldy + 0); if (V > 1) Vector128.Store(c1_1, y + 1 * ldy + 4); if (V > 2) Vector128.Store(c1_2, y + 1 * ldy + 8); if (V > 3) Vector128.Store(c1_3, y + 1 * ldy + 12); }
            if (R > 2) { Vector128.Store(c2_0, y + 2 * ldy + 0); if (V > 1) Vector128.Store(c2_1, y + 2 * ldy + 4); if (V > 2) Vector128.Store(c2_2, y + 2 * ldy + 8); if (V > 3) Vector128.Store(c2_3, y + 2 * ldy + 12); }
            if (R > 3) { Vector128.Store(c3_0, y + 3 * ldy + 0); if (V > 1) Vector128.Store(c3_1, y + 3 * ldy + 4); if (V > 2) Vector128.Store(c3_2, y + 3 * ldy + 8); if (V > 3) Vector128.Store(c3_3, y + 3 * ldy + 12); }
            if (R > 4) { Vector128.Store(c4_0, y + 4 * ldy + 0); if (V > 1) Vector128.Store(c4_1, y + 4 * ldy + 4); if (V > 2) Vector128.Store(c4_2, y + 4 * ldy + 8); if (V > 3) Vector128.Store(c4_3, y + 4 * ldy + 12); }
            if (R > 5) { Vector128.Store(c5_0, y + 5 * ldy + 0); if (V > 1) Vector128.Store(c5_1, y + 5 * ldy + 4); if (V > 2) Vector128.Store(c5_2, y + 5 * ldy + 8); if (V > 3) Vector128.Store(c5_3, y + 5 * ldy + 12); }
            if (R > 6) { Vector128.Store(c6_0, y + 6 * ldy + 0); if (V > 1) Vector128.Store(c6_1, y + 6 * ldy + 4); if (V > 2) Vector128.Store(c6_2, y + 6 * ldy + 8); if (V > 3) Vector128.Store(c6_3, y + 6 * ldy + 12); }
            if (R > 7) { Vector128.Store(c7_0, y + 7 * ldy + 0); if (V > 1) Vector128.Store(c7_1, y + 7 * ldy + 4); if (V > 2) Vector128.Store(c7_2, y + 7 * ldy + 8); if (V > 3) Vector128.Store(c7_3, y + 7 * ldy + 12); }
        }
    }
}
