using Lacuna.Threading;

namespace Lacuna.Kernels.Pooling;

/// <summary>
/// The shared driver of the 2-D pooling kernels: the reference's checks (rank 4, sizes, a window over padding only
/// throws naming the shape), then the N·C planes split across threads, each part pooling whole planes.
/// </summary>
internal static class PoolPlanes
{
    /// <summary>Pools planes [p0, p1) of x [planes × H × W] into y [planes × OH × OW].</summary>
    public delegate void Range(ReadOnlySpan<float> x, Span<float> y, int p0, int p1);

    public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p,
        int threads, string op, Range planes)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        if (inputShape.Length != 4) ThrowHelper.Shape(nameof(inputShape), $"{op}2d needs a rank-4 NCHW input; got rank {inputShape.Length}.");
        p.OutputShape(inputShape, op);
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w);
        long count = (long)n * c;
        ThrowHelper.IfTooShort(input.Length, count * h * w, nameof(input), $"input [{n}, {c}, {h}, {w}]");
        ThrowHelper.IfTooShort(output.Length, count * oh * ow, nameof(output), $"output [{n}, {c}, {oh}, {ow}]");
        int parts = KernelParallel.Parts(threads, (int)count, count * h * w * p.KernelH);
        if (parts <= 1) { planes(input, output, 0, (int)count); return; }
        unsafe
        {
            fixed (float* px = input, py = output)
            {
                float* xs = px, ys = py;
                long inLen = count * h * w, outLen = count * oh * ow;
                WorkerPool.Shared.Run(parts, part =>
                {
                    var (s, e) = WorkerPool.Range((int)count, parts, part);
                    planes(new ReadOnlySpan<float>(xs, (int)inLen), new Span<float>(ys, (int)outLen), s, e);
                });
            }
        }
    }

    /// <summary>
    /// Along a row of width <paramref name="w"/>: output columns [In0, In1) whose whole window lies inside the row (the
    /// vectorized path), and Starts, the number of input columns at which a full window can start.
    /// </summary>
    public static (int In0, int In1, int Starts) Interior(Pool2dParams p, int w, int ow)
    {
        int span = (p.KernelW - 1) * p.DilationW;
        int in0 = Math.Min(ow, (p.PadLeft + p.StrideW - 1) / p.StrideW);
        int in1 = w - 1 - span + p.PadLeft < 0 ? 0 : Math.Min(ow, (w - 1 - span + p.PadLeft) / p.StrideW + 1);
        return (in0, Math.Max(in1, in0), Math.Max(0, w - span));
    }

    /// <summary>
    /// The output rows [Fy0, Fy1) a pool may compute as whole-plane vector passes: stride 1 along both axes, output
    /// rows as wide as the input's (ONNX "same" padding, so the flat offset between an input row and its output row is
    /// constant), every kernel row inside the input (rows[oy] spans all KH taps), and at least one full-width window.
    /// Empty otherwise.
    /// </summary>
    public static (int Fy0, int Fy1) FlatRows(Pool2dParams p, int h, int w, int ow, int ox0, int ox1, int[] rowLo, int[] rowHi)
    {
        if (p.StrideH != 1 || p.StrideW != 1 || ow != w || ox1 <= ox0) return (0, 0);
        int fy0 = -1, fy1 = -1;
        for (int oy = 0; oy < rowLo.Length; oy++)
        {
            bool full = rowLo[oy] == 0 && rowHi[oy] == p.KernelH;
            if (full && fy0 < 0) fy0 = oy;
            if (full) fy1 = oy + 1;
        }
        return fy0 < 0 ? (0, 0) : (fy0, fy1);
    }

    /// <summary>Padded planes larger than this (floats) pool row by row instead, so the scratch stays small.</summary>
    public const int MaxPaddedPlane = 1 << 20;

    /// <summary>
    /// The padded plane [Hp × Wp] every window of the pool lies inside, for the padded-plane paths of both pools: the
    /// input at (PadTop, PadLeft) and the pad value around it (also past the end padding, where only ceil mode's last
    /// window reaches). With column stride 2, Wp is even, so a flat even/odd split of the plane splits every row alike.
    /// Null when the plane would exceed <see cref="MaxPaddedPlane"/>.
    /// </summary>
    public static (int Hp, int Wp)? PaddedSize(Pool2dParams p, int h, int w, int oh, int ow)
    {
        int hp = Math.Max(p.PadTop + h, (oh - 1) * p.StrideH + (p.KernelH - 1) * p.DilationH + 1);
        int wp = Math.Max(p.PadLeft + w, (ow - 1) * p.StrideW + (p.KernelW - 1) * p.DilationW + 1);
        if (p.StrideW == 2) wp += wp & 1;
        return (long)hp * wp <= MaxPaddedPlane ? (hp, wp) : null;
    }
}
