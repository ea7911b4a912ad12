using System.Buffers;
using System.Numerics.Tensors;

namespace Lacuna.Kernels.Pooling;

// Average pools with column stride 1 or 2 as whole-plane vector passes over a zero-padded copy of each plane, so no
// window is clipped and no output is summed tap by tap. Row by row with clipped edges, the edge windows ran scalar:
// per 14x14 plane of a 3x3/1 "same" pool 28 of 196 outputs, and per 28x28 plane of ShuffleNet's 3x3/2 pool every
// output picked its window's start one at a time.
public static partial class AveragePool2d
{
    private static bool UsesPaddedPlanes(Geometry g) => g.P.StrideW is 1 or 2 && PoolPlanes.PaddedSize(g.P, g.H, g.W, g.OH, g.OW) is not null;

    /// <summary>
    /// Planes [p0, p1): each copied into the padded plane P. Column stride 1: every window sum in one flat pass
    /// (<see cref="PaddedPlaneWindows"/>), row oy's sums at acc[oy·StrideH·Wp]. Column stride 2:
    /// V[i] = Σ_kh P[i + kh·dh·Wp] over the rows any output starts on (flat; rows in between are summed too and unused
    /// with row stride 2), then the same over V's even and odd halves (tap kw of output j reads column 2j + kw·dw, in
    /// half (kw·dw) mod 2 at j + ⌊kw·dw / 2⌋). Each output row is its sums times the precomputed 1 / window count
    /// (<see cref="Geometry"/>'s row and column counts, so count_include_pad holds).
    /// </summary>
    private static unsafe void PaddedPlanes(ReadOnlySpan<float> x, Span<float> y, int p0, int p1, Geometry g)
    {
        var p = g.P;
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        var (hp, wp) = PoolPlanes.PaddedSize(p, h, w, oh, ow)!.Value;
        int vn = ((oh - 1) * p.StrideH + 1) * wp; // V covers the rows outputs start on
        int span = (p.KernelW - 1) * p.DilationW, half = wp / 2;
        var pool = ArrayPool<float>.Shared;
        float[] padded = pool.Rent(hp * wp), v = pool.Rent(vn), acc = pool.Rent(vn), halves = p.StrideW == 2 ? pool.Rent(vn) : [];
        float[] inv = pool.Rent(oh * ow);
        try
        {
            var plane = padded.AsSpan(0, hp * wp);
            plane.Clear(); // the border stays zero: only the interior is rewritten per plane
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) inv[oy * ow + ox] = 1f / (g.RowCount[oy] * g.ColCount[ox]);
            var vs = v.AsSpan(0, vn);
            for (int c = p0; c < p1; c++)
            {
                var src = x.Slice(c * h * w, h * w);
                fixed (float* ps = src, pp = padded)
                    for (int r = 0; r < h; r++) PaddedPlaneWindows.CopyRow(ps + r * w, pp + (r + p.PadTop) * wp + p.PadLeft, w);
                int rowStride;
                if (p.StrideW == 1)
                {
                    // Every window in one flat pass over the padded plane: row oy's sums start at acc[oy·StrideH·Wp].
                    fixed (float* pp = padded, pa = acc)
                        PaddedPlaneWindows.Run<PaddedPlaneWindows.Sum>(pp, wp, vn - span, p.KernelH, p.KernelW, p.DilationH, p.DilationW, pa);
                    rowStride = p.StrideH * wp;
                }
                else
                {
                    plane[..vn].CopyTo(vs);
                    for (int kh = 1; kh < p.KernelH; kh++) TensorPrimitives.Add(vs, plane.Slice(kh * p.DilationH * wp, vn), vs);
                    fixed (float* pv = v, ph = halves) Deinterleave.EvenOdd(pv, vn, ph, ph + vn / 2);
                    int n = vn / 2 - (span >> 1);
                    var a = acc.AsSpan(0, n);
                    for (int kw = 0; kw < p.KernelW; kw++)
                    {
                        int d = kw * p.DilationW;
                        var tap = halves.AsSpan(((d & 1) == 0 ? 0 : vn / 2) + (d >> 1), n);
                        if (kw == 0) tap.CopyTo(a);
                        else TensorPrimitives.Add(a, tap, a);
                    }
                    rowStride = p.StrideH * half;
                }
                var dst = y.Slice(c * oh * ow, oh * ow);
                fixed (float* pa = acc, pi = inv, pd = dst)
                    for (int oy = 0; oy < oh; oy++) PaddedPlaneWindows.MultiplyRow(pa + oy * rowStride, pi + oy * ow, pd + oy * ow, ow);
            }
        }
        finally
        {
            pool.Return(padded);
            pool.Return(v);
            pool.Return(acc);
            if (halves.Length > 0) pool.Return(halves);
            pool.Return(inv);
        }
    }
}
