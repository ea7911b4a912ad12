using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.Pooling;

/// <summary>
/// 2-D max pooling over NCHW with the same contract as <see cref="Reference.ReferencePool.MaxPool"/>:
/// y[n,c,oy,ox] = max over taps (kh, kw) inside the input of x[n, c, oy·sh - pt + kh·dh, ox·sw - pl + kw·dw]; padding
/// never wins; NaN propagates. The window bounds are clipped once per output row and column instead of per tap,
/// and planes are split across threads (ResNet-50's stem pool: 8.9 ms in the reference, see `lacuna demo`).
/// Column maxima are taken first, vectorized along the row (see <see cref="Planes"/>); any stride, dilation, pads
/// and ceil mode (<see cref="Pool2dParams"/>).
/// </summary>
public static partial class MaxPool2d
{
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p, int threads = 0)
    {
        int h = inputShape.Length == 4 ? inputShape[2] : 0, w = inputShape.Length == 4 ? inputShape[3] : 0;
        int oh = p is null ? 0 : p.OutputHeight(h), ow = p is null ? 0 : p.OutputWidth(w);
        bool padded = p is not null && h > 0 && w > 0 && oh > 0 && ow > 0 && UsesPaddedPlanes(p, h, w, oh, ow);
        PoolPlanes.Run(input, inputShape, output, p!, threads, "MaxPool", (x, y, p0, p1) =>
        {
            if (padded) PaddedPlanes(x, y, p0, p1, p!, h, w, oh, ow);
            else Planes(x, y, p0, p1, h, w, oh, ow, p!);
        });
    }

    /// <summary>
    /// Per output row: the column maxima over the window's valid input rows, then the maxima of every full-width
    /// window along that row, both vectorized across the row (<see cref="MaxInto"/>, branch-free); outputs pick
    /// their window's start, and only windows clipped by the left/right edge run the scalar tap loop. Random data
    /// made the tap-by-tap compare a coin-flip branch, which dominated the stem pool (3x3/2 over 64x112x112).
    /// </summary>
    // Called once per pooling layer per run: without this it would stay in tier-0 code for the first 30 runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes(ReadOnlySpan<float> x, Span<float> y, int p0, int p1, int h, int w, int oh, int ow, Pool2dParams p)
    {
        Span<float> columns = w <= 2048 ? stackalloc float[w] : new float[w];
        Span<float> windows = w <= 2048 ? stackalloc float[w] : new float[w];
        var (oxIn0, oxIn1, starts) = PoolPlanes.Interior(p, w, ow);
        bool evenOdd = p.StrideW == 2 && p.DilationW == 1, k3s2 = IsKernel3Stride2(p);
        Span<float> padded = k3s2 ? new float[Stride2ScratchLength(w, ow, p.PadLeft)] : default;
        padded.Fill(float.NegativeInfinity);
        var (rowLo, rowHi) = Rows(p, h, oh);
        var (fy0, fy1) = PoolPlanes.FlatRows(p, h, w, ow, oxIn0, oxIn1, rowLo, rowHi);
        float[]? maxima = fy1 > fy0 ? System.Buffers.ArrayPool<float>.Shared.Rent((fy1 - fy0) * w) : null;
        try
        {
            for (int plane = p0; plane < p1; plane++)
            {
                var src = x.Slice(plane * h * w, h * w);
                var dst = y.Slice(plane * oh * ow, oh * ow);
                if (maxima is not null) FlatInterior(src, dst, maxima, fy0, fy1, w, p);
                for (int oy = 0; oy < oh; oy++)
                {
                    var outRow = dst.Slice(oy * ow, ow);
                    if (oy >= fy0 && oy < fy1)
                    {
                        EdgeColumns(maxima.AsSpan((oy - fy0) * w, w), outRow, oxIn0, oxIn1, w, p);
                        continue;
                    }
                    int y0 = oy * p.StrideH - p.PadTop, khLo = rowLo[oy], khHi = rowHi[oy];
                    if (k3s2 && khLo == 0 && khHi == 3)
                    {
                        unsafe
                        {
                            fixed (float* r = src)
                                Kernel3Stride2Row(r + y0 * w, r + (y0 + 1) * w, r + (y0 + 2) * w, w, p.PadLeft, outRow, padded);
                        }
                        continue;
                    }
                    if (khLo >= khHi) columns.Fill(float.NegativeInfinity);
                    else
                    {
                        src.Slice((y0 + khLo * p.DilationH) * w, w).CopyTo(columns);
                        for (int kh = khLo + 1; kh < khHi; kh++) MaxInto(columns, src.Slice((y0 + kh * p.DilationH) * w, w));
                    }
                    if (evenOdd) InteriorStride2(columns, windows, outRow, oxIn0, oxIn1, p);
                    else
                    {
                        // windows[j] = max of the window starting at column j, for every start whose window fits.
                        if (starts > 0)
                        {
                            columns[..starts].CopyTo(windows);
                            for (int kw = 1; kw < p.KernelW; kw++) MaxInto(windows[..starts], columns.Slice(kw * p.DilationW, starts));
                        }
                        for (int ox = oxIn0; ox < oxIn1; ox++) outRow[ox] = windows[ox * p.StrideW - p.PadLeft];
                    }
                    EdgeColumns(columns, outRow, oxIn0, oxIn1, w, p);
                }
            }
        }
        finally
        {
            if (maxima is not null) System.Buffers.ArrayPool<float>.Shared.Return(maxima);
        }
    }

    /// <summary>Per output row, the kernel rows [lo, hi) inside the input (lo ≥ hi: none).</summary>
    private static (int[] Lo, int[] Hi) Rows(Pool2dParams p, int h, int oh)
    {
        var lo = new int[oh];
        var hi = new int[oh];
        for (int oy = 0; oy < oh; oy++)
        {
            int y0 = oy * p.StrideH - p.PadTop;
            lo[oy] = y0 >= 0 ? 0 : (-y0 + p.DilationH - 1) / p.DilationH;
            hi[oy] = h - 1 - y0 < 0 ? 0 : Math.Min(p.KernelH, (h - 1 - y0) / p.DilationH + 1); // taps with y0 + kh·dh < h
        }
        return (lo, hi);
    }

    /// <summary>
    /// Output rows [fy0, fy1) of a stride-1 "same" plane as whole-plane passes, as AveragePool2d.FlatInterior does
    /// for sums: column maxima of all rows at once, then every window's maximum straight into the output; windows
    /// that straddle two rows land only in edge columns, which <see cref="EdgeColumns"/> rewrites from the kept maxima.
    /// Maxima are taken in the same order as row by row (kernel rows, then kernel columns), so NaN propagates alike.
    /// </summary>
    private static void FlatInterior(ReadOnlySpan<float> src, Span<float> dst, float[] maxima, int fy0, int fy1, int w, Pool2dParams p)
    {
        int n = (fy1 - fy0) * w, span = (p.KernelW - 1) * p.DilationW;
        var cm = maxima.AsSpan(0, n);
        int first = (fy0 - p.PadTop) * w;
        src.Slice(first, n).CopyTo(cm);
        for (int kh = 1; kh < p.KernelH; kh++) MaxInto(cm, src.Slice(first + kh * p.DilationH * w, n));
        var o = dst.Slice(fy0 * w + p.PadLeft, n - span);
        cm[..o.Length].CopyTo(o);
        for (int kw = 1; kw < p.KernelW; kw++) MaxInto(o, cm.Slice(kw * p.DilationW, o.Length));
    }

    /// <summary>Output columns outside [ox0, ox1) of one row (windows clipped by an edge), tap by tap from its column maxima.</summary>
    private static void EdgeColumns(ReadOnlySpan<float> columns, Span<float> outRow, int ox0, int ox1, int w, Pool2dParams p)
    {
        for (int ox = 0; ox < outRow.Length; ox++)
        {
            if (ox == ox0) ox = ox1; // the interior is done; only windows clipped by an edge remain
            if (ox >= outRow.Length) break;
            int x0 = ox * p.StrideW - p.PadLeft;
            int kwLo = x0 >= 0 ? 0 : (-x0 + p.DilationW - 1) / p.DilationW;
            int kwHi = w - 1 - x0 < 0 ? 0 : Math.Min(p.KernelW, (w - 1 - x0) / p.DilationW + 1);
            float m = float.NegativeInfinity;
            for (int kw = kwLo; kw < kwHi; kw++)
            {
                float v = columns[x0 + kw * p.DilationW];
                if (v > m || float.IsNaN(v)) m = float.IsNaN(m) ? m : v;
            }
            outRow[ox] = m;
        }
    }

    /// <summary>
    /// The interior outputs [ox0, ox1) of a stride-2 row straight from the column maxima: with the columns split into
    /// even and odd halves (E[j] = col[2j], O[j] = col[2j + 1]), tap kw of output ox reads col[2·ox + kw - PadLeft],
    /// which is E or O at ox + ⌊(kw - PadLeft) / 2⌋, so every tap is one contiguous vector max over the outputs. The
    /// all-starts windows plus a strided gather did twice the maxima and a scalar pick per output: ResNet-50's stem
    /// pool (3x3/2, 64x112x112) took 0.41 ms there, against ONNX Runtime's 0.09.
    /// </summary>
    private static unsafe void InteriorStride2(Span<float> columns, Span<float> scratch, Span<float> outRow, int ox0, int ox1, Pool2dParams p)
    {
        int n = ox1 - ox0, w = columns.Length, half = (w + 1) / 2;
        if (n <= 0) return;
        fixed (float* c = columns, e = scratch) Deinterleave.EvenOdd(c, w, e, e + half);
        var even = scratch[..half];
        var odd = scratch.Slice(half, w / 2);
        var dst = outRow.Slice(ox0, n);
        for (int kw = 0; kw < p.KernelW; kw++)
        {
            int d = kw - p.PadLeft;
            var src = ((d & 1) == 0 ? even : odd).Slice(ox0 + (d >> 1), n);
            if (kw == 0) src.CopyTo(dst);
            else MaxInto(dst, src);
        }
    }

    private static void MaxInto(Span<float> acc, ReadOnlySpan<float> row) => VectorLoops.MaxInto(acc, row);
}
