using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.Pooling;

/// <summary>
/// Stride-1 pooling windows over a padded plane P [Hp × Wp] in one flat pass:
/// acc[i] = ⊕ over kw of (⊕ over kh of P[i + kh·dh·Wp + kw·dw]) for i in [0, n), so output row r starts at acc[r·Wp].
/// Every tap of every output is one vector load, with no call per row or per tap: the padded passes built from
/// TensorPrimitives calls paid the per-call cost some 20 times per 7x7 plane (Inception v2's last pools: 0.16-0.25 ms
/// for 1024 such planes). Kernel rows are combined first, then kernel columns, the order of the row-by-row paths.
/// </summary>
internal static unsafe class PaddedPlaneWindows
{
    public interface IOp
    {
        static abstract Vector<float> Combine(Vector<float> acc, Vector<float> v);
        static abstract float Combine(float acc, float v);
    }

    public readonly struct Sum : IOp
    {
        public static Vector<float> Combine(Vector<float> acc, Vector<float> v) => acc + v;
        public static float Combine(float acc, float v) => acc + v;
    }

    /// <summary>acc, or v where v is greater or NaN (unless acc already is NaN): <see cref="VectorLoops.MaxInto"/>'s rule.</summary>
    public readonly struct Max : IOp
    {
        public static Vector<float> Combine(Vector<float> acc, Vector<float> v) =>
            Vector.ConditionalSelect(Vector.BitwiseAnd(Vector.BitwiseOr(Vector.GreaterThan(v, acc), ~Vector.Equals(v, v)), Vector.Equals(acc, acc)), v, acc);
        public static float Combine(float acc, float v) => (v > acc || float.IsNaN(v)) && !float.IsNaN(acc) ? v : acc;
    }

    public static void Run<TOp>(float* p, int wp, int n, int kernelH, int kernelW, int dh, int dw, float* acc) where TOp : struct, IOp
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
            {
                float* at = p + i;
                var m = Column<TOp>(at, wp, kernelH, dh);
                for (int kw = 1; kw < kernelW; kw++) m = TOp.Combine(m, Column<TOp>(at + kw * dw, wp, kernelH, dh));
                m.Store(acc + i);
            }
        for (; i < n; i++)
        {
            float m = ColumnScalar<TOp>(p + i, wp, kernelH, dh);
            for (int kw = 1; kw < kernelW; kw++) m = TOp.Combine(m, ColumnScalar<TOp>(p + i + kw * dw, wp, kernelH, dh));
            acc[i] = m;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Column<TOp>(float* at, int wp, int kernelH, int dh) where TOp : struct, IOp
    {
        var c = Vector.Load(at);
        for (int kh = 1; kh < kernelH; kh++) c = TOp.Combine(c, Vector.Load(at + (long)kh * dh * wp));
        return c;
    }

    private static float ColumnScalar<TOp>(float* at, int wp, int kernelH, int dh) where TOp : struct, IOp
    {
        float c = at[0];
        for (int kh = 1; kh < kernelH; kh++) c = TOp.Combine(c, at[(long)kh * dh * wp]);
        return c;
    }

    /// <summary>y[j] = a[j] · s[j] for j in [0, n): a padded row scaled by its 1/count into the output row.</summary>
    public static void MultiplyRow(float* a, float* s, float* y, int n)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j + Vector<float>.Count <= n; j += Vector<float>.Count) (Vector.Load(a + j) * Vector.Load(s + j)).Store(y + j);
        for (; j < n; j++) y[j] = a[j] * s[j];
    }

    /// <summary>Copies n floats (short rows: no call into memmove per row).</summary>
    public static void CopyRow(float* src, float* dst, int n)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j + Vector<float>.Count <= n; j += Vector<float>.Count) Vector.Load(src + j).Store(dst + j);
        for (; j < n; j++) dst[j] = src[j];
    }
}
