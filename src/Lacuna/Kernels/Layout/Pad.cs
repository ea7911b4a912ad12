using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Layout;

/// <summary>
/// ONNX Pad (constant, reflect, edge; negative pads crop) for any rank with the contract of
/// <see cref="ReferenceShapeOps.Pad"/>. The output is walked one innermost row at a time: the row's source row is
/// found once from its outer coordinates (a constant row is one fill), then the row is a fill or mirrored/clamped
/// head, one memmove of the input row's overlap, and a tail. For NCHW that is one copy per output image row.
/// Rows split across threads.
/// </summary>
public static class Pad
{
    public static unsafe void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> pads, Span<float> output,
        PadMode mode = PadMode.Constant, float value = 0f, int threads = 0)
    {
        int[] shape = ReferenceShapeOps.CheckPad(input.Length, inputShape, pads, output.Length, mode);
        int rank = inputShape.Length;
        int count = ReferenceCheck.Product(shape);
        if (count == 0) return;
        if (input.Overlaps(output)) ThrowHelper.Argument(nameof(output), "Pad: output must not overlap the input.");
        if (rank == 0) { output[0] = input[0]; return; }
        int[] inShape = inputShape.ToArray(), p = pads.ToArray();
        int[] inStrides = ReferenceCheck.Strides(inputShape);
        int width = shape[rank - 1], inWidth = inShape[rank - 1], begin = p[rank - 1];
        int rows = count / width;
        fixed (float* px = input, py = output)
        {
            float* xs = px, ys = py;
            int parts = KernelParallel.Parts(threads, rows, count);
            KernelParallel.For(rows, parts, (s, e) =>
            {
                for (int row = s; row < e; row++)
                {
                    var y = new Span<float>(ys + (long)row * width, width);
                    long source = SourceRow(row, shape, inShape, inStrides, p, mode);
                    if (source < 0) { y.Fill(value); continue; }
                    FillRow(new ReadOnlySpan<float>(xs + source, inWidth), y, begin, mode, value);
                }
            });
        }
    }

    /// <summary>The input offset of the row that output row <paramref name="row"/> reads, or -1 for a constant row.</summary>
    private static long SourceRow(int row, int[] shape, int[] inShape, int[] inStrides, int[] pads, PadMode mode)
    {
        int rank = shape.Length;
        long source = 0;
        for (int d = rank - 2; d >= 0; d--)
        {
            int i = row % shape[d] - pads[d];
            row /= shape[d];
            int size = inShape[d];
            if (i < 0 || i >= size)
            {
                if (mode == PadMode.Constant) return -1;
                i = mode == PadMode.Edge ? Math.Clamp(i, 0, size - 1) : ReferenceShapeOps.Reflect(i, size);
            }
            source += (long)i * inStrides[d];
        }
        return source;
    }

    /// <summary>y[o] = x[o - begin] inside, the mode's fill outside.</summary>
    private static void FillRow(ReadOnlySpan<float> x, Span<float> y, int begin, PadMode mode, float value)
    {
        int width = y.Length, size = x.Length;
        int o0 = Math.Clamp(begin, 0, width), o1 = (int)Math.Clamp((long)begin + size, o0, width);
        if (o1 > o0) x.Slice(o0 - begin, o1 - o0).CopyTo(y[o0..o1]);
        if (mode == PadMode.Constant)
        {
            y[..o0].Fill(value);
            y[o1..].Fill(value);
            return;
        }
        for (int o = 0; o < o0; o++) y[o] = x[Map(o - begin, size, mode)];
        for (int o = o1; o < width; o++) y[o] = x[Map(o - begin, size, mode)];
    }

    private static int Map(int i, int size, PadMode mode) =>
        mode == PadMode.Edge ? Math.Clamp(i, 0, size - 1) : ReferenceShapeOps.Reflect(i, size);
}
