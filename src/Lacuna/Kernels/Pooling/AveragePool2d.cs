using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.Pooling;

/// <summary>
/// 2-D average pooling over NCHW with the contract of <see cref="Reference.ReferencePool.AveragePool"/>: any kernel,
/// stride, dilation, pads, ceil mode and count_include_pad (<see cref="Pool2dParams"/>). Window sums are separable:
/// per output row the valid input rows are summed into one column-sum row, then the sums of every full-width window
/// along it are vector adds of shifted column sums, so both passes run vectorized along the row for any stride
/// (outputs then pick their window's start). Only windows clipped by the left/right edge sum taps one by one. The
/// divisor is the product of a row count and a column count (positions inside the input, or inside the padded
/// input with count_include_pad), both computed once per output row and column. Planes split across threads.
/// Column strides 1 and 2 take whole-plane passes over a zero-padded plane instead (AveragePool2d.Padded.cs).
/// </summary>
public static partial class AveragePool2d
{
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p, int threads = 0)
    {
        Geometry? geometry = null; // built once the driver has checked the shapes
        if (p is not null && inputShape.Length == 4 && p.OutputShape(inputShape, "AveragePool") is { } os)
            geometry = new Geometry(p, inputShape[2], inputShape[3], os[2], os[3]);
        bool padded = geometry is not null && UsesPaddedPlanes(geometry);
        PoolPlanes.Run(input, inputShape, output, p!, threads, "AveragePool", (x, y, p0, p1) =>
        {
            if (padded) PaddedPlanes(x, y, p0, p1, geometry!);
            else Planes(x, y, p0, p1, geometry!);
        });
    }

    /// <summary>Per output row and column: the tap range inside the input and the divisor's factor along that axis.</summary>
    private sealed class Geometry
    {
        public readonly Pool2dParams P;
        public readonly int H, W, OH, OW;
        public readonly int[] RowLo, RowHi, RowCount, ColLo, ColHi, ColCount;

        public Geometry(Pool2dParams p, int h, int w, int oh, int ow)
        {
            (P, H, W, OH, OW) = (p, h, w, oh, ow);
            (RowLo, RowHi, RowCount) = Axis(oh, h, p.KernelH, p.StrideH, p.PadTop, p.PadBottom, p.DilationH, p.CountIncludePad);
            (ColLo, ColHi, ColCount) = Axis(ow, w, p.KernelW, p.StrideW, p.PadLeft, p.PadRight, p.DilationW, p.CountIncludePad);
        }

        private static (int[] Lo, int[] Hi, int[] Count) Axis(int outSize, int size, int kernel, int stride, int padBegin, int padEnd, int dilation, bool includePad)
        {
            var lo = new int[outSize];
            var hi = new int[outSize];
            var count = new int[outSize];
            for (int o = 0; o < outSize; o++)
            {
                int start = o * stride - padBegin;
                lo[o] = kernel;
                int inside = 0, padded = 0;
                for (int k = 0; k < kernel; k++)
                {
                    int i = start + k * dilation;
                    if (i >= -padBegin && i < size + padEnd) padded++;
                    if (i < 0 || i >= size) continue;
                    inside++;
                    lo[o] = Math.Min(lo[o], k);
                    hi[o] = k + 1;
                }
                count[o] = includePad ? padded : inside;
            }
            return (lo, hi, count);
        }
    }

    // Called once per pooling layer per run: without this it would stay in tier-0 code for the first 30 runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes(ReadOnlySpan<float> x, Span<float> y, int p0, int p1, Geometry g)
    {
        var p = g.P;
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        Span<float> columns = w <= 2048 ? stackalloc float[w] : new float[w];
        Span<float> windows = w <= 2048 ? stackalloc float[w] : new float[w];
        var (oxIn0, oxIn1, starts) = PoolPlanes.Interior(p, w, ow);
        var (fy0, fy1) = PoolPlanes.FlatRows(p, h, w, ow, oxIn0, oxIn1, g.RowLo, g.RowHi);
        float[]? sums = fy1 > fy0 ? System.Buffers.ArrayPool<float>.Shared.Rent((fy1 - fy0) * w) : null;
        try
        {
            for (int plane = p0; plane < p1; plane++)
            {
                var src = x.Slice(plane * h * w, h * w);
                var dst = y.Slice(plane * oh * ow, oh * ow);
                if (sums is not null) FlatInterior(src, dst, sums, fy0, fy1, g);
                for (int oy = 0; oy < oh; oy++)
                {
                    var outRow = dst.Slice(oy * ow, ow);
                    int rowCount = g.RowCount[oy];
                    if (oy >= fy0 && oy < fy1)
                    {
                        EdgeColumns(sums.AsSpan((oy - fy0) * w, w), outRow, rowCount, oxIn0, oxIn1, g);
                        continue;
                    }
                    int y0 = oy * p.StrideH - p.PadTop, khLo = g.RowLo[oy], khHi = g.RowHi[oy];
                    src.Slice((y0 + khLo * p.DilationH) * w, w).CopyTo(columns);
                    for (int kh = khLo + 1; kh < khHi; kh++)
                        TensorPrimitives.Add(columns, src.Slice((y0 + kh * p.DilationH) * w, w), columns);
                    // windows[j] = sum of the window starting at column j, for every start whose window fits.
                    if (starts > 0)
                    {
                        columns[..starts].CopyTo(windows);
                        for (int kw = 1; kw < p.KernelW; kw++)
                            TensorPrimitives.Add(windows[..starts], columns.Slice(kw * p.DilationW, starts), windows[..starts]);
                    }
                    if (oxIn1 > oxIn0)
                    {
                        // Interior windows all have the full kernel width inside, so one divisor serves the whole run.
                        float inv = 1f / (rowCount * p.KernelW);
                        if (p.StrideW == 1) TensorPrimitives.Multiply(windows.Slice(oxIn0 - p.PadLeft, oxIn1 - oxIn0), inv, outRow[oxIn0..oxIn1]);
                        else
                            for (int ox = oxIn0; ox < oxIn1; ox++) outRow[ox] = windows[ox * p.StrideW - p.PadLeft] * inv;
                    }
                    EdgeColumns(columns, outRow, rowCount, oxIn0, oxIn1, g);
                }
            }
        }
        finally
        {
            if (sums is not null) System.Buffers.ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>
    /// Output rows [fy0, fy1) of a stride-1 plane whose rows are as wide as the input's, as whole-plane vector
    /// passes (<see cref="PoolPlanes.FlatRows"/>): the column sums of all those rows at once (one add per kernel row over
    /// the flat plane), then every window sum at once (one add per kernel column, written straight into the output at
    /// a constant offset) and one scale. Windows that straddle two rows land only in edge columns, which
    /// <see cref="EdgeColumns"/> then rewrites; <paramref name="sums"/> keeps the column sums for it. Row by row, the
    /// Inception pools (3x3/1 pad 1 over 28x28 and smaller planes) spent their time in the per-call cost of some
    /// eight short vector loops per row: 0.3 ms each for 200 K outputs.
    /// </summary>
    private static void FlatInterior(ReadOnlySpan<float> src, Span<float> dst, float[] sums, int fy0, int fy1, Geometry g)
    {
        var p = g.P;
        int w = g.W, n = (fy1 - fy0) * w, span = (p.KernelW - 1) * p.DilationW;
        var cs = sums.AsSpan(0, n);
        int first = (fy0 - p.PadTop) * w;
        src.Slice(first, n).CopyTo(cs);
        for (int kh = 1; kh < p.KernelH; kh++) TensorPrimitives.Add(cs, src.Slice(first + kh * p.DilationH * w, n), cs);
        var o = dst.Slice(fy0 * w + p.PadLeft, n - span);
        cs[..o.Length].CopyTo(o);
        for (int kw = 1; kw < p.KernelW; kw++) TensorPrimitives.Add(o, cs.Slice(kw * p.DilationW, o.Length), o);
        TensorPrimitives.Multiply(o, 1f / (p.KernelH * p.KernelW), o);
    }

    /// <summary>Output columns outside [ox0, ox1) of one row, tap by tap from its column sums.</summary>
    private static void EdgeColumns(ReadOnlySpan<float> columns, Span<float> outRow, int rowCount, int ox0, int ox1, Geometry g)
    {
        var p = g.P;
        for (int ox = 0; ox < outRow.Length; ox++)
        {
            if (ox == ox0) ox = ox1; // the interior is done; only windows clipped by an edge remain
            if (ox >= outRow.Length) break;
            int x0 = ox * p.StrideW - p.PadLeft;
            float sum = 0;
            for (int kw = g.ColLo[ox]; kw < g.ColHi[ox]; kw++) sum += columns[x0 + kw * p.DilationW];
            outRow[ox] = sum / (rowCount * g.ColCount[ox]);
        }
    }
}
