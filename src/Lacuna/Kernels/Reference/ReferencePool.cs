namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX MaxPool, AveragePool (2-D, NCHW; geometry in <see cref="Pool2dParams"/>) and
/// GlobalAveragePool / GlobalMaxPool (any rank ≥ 3). Padding positions never take part in a max; in an average they add
/// nothing to the sum and count in the divisor only with <see cref="Pool2dParams.CountIncludePad"/>.
/// </summary>
public static class ReferencePool
{
    /// <summary>y[n,c,oh,ow] = max over window positions inside the input of x[n,c,ih,iw].</summary>
    /// <param name="input">[N, C, H, W]</param>
    /// <param name="output">[N, C, OH, OW] from <see cref="Pool2dParams.OutputShape"/>, fully overwritten</param>
    public static void MaxPool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p) =>
        Pool(input, inputShape, output, p, "MaxPool", max: true);

    /// <summary>
    /// y[n,c,oh,ow] = (Σ window positions inside the input of x) / count, where count is the number of positions inside
    /// the input, or with CountIncludePad inside the padded input [-padBegin, size + padEnd) on each axis.
    /// </summary>
    public static void AveragePool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p) =>
        Pool(input, inputShape, output, p, "AveragePool", max: false);

    private static void Pool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Pool2dParams p, string op, bool max)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        int[] os = p.OutputShape(inputShape, op);
        ReferenceCheck.Data(input.Length, inputShape, nameof(input), op);
        ReferenceCheck.Output(output.Length, os, op);
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int oh = os[2], ow = os[3];
        for (int plane = 0; plane < n * c; plane++)
        for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
        {
            double best = double.NegativeInfinity, sum = 0;
            int inside = 0, padded = 0;
            for (int kh = 0; kh < p.KernelH; kh++)
            {
                int iy = y * p.StrideH - p.PadTop + kh * p.DilationH;
                bool rowPadded = iy >= -p.PadTop && iy < h + p.PadBottom;
                for (int kw = 0; kw < p.KernelW; kw++)
                {
                    int ix = x * p.StrideW - p.PadLeft + kw * p.DilationW;
                    if (rowPadded && ix >= -p.PadLeft && ix < w + p.PadRight) padded++;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    double v = input[(plane * h + iy) * w + ix];
                    inside++;
                    sum += v;
                    // NaN wins, as in numpy's max.
                    if (double.IsNaN(v) || v > best) best = v; // once NaN, nothing compares greater
                }
            }
            output[(plane * oh + y) * ow + x] = (float)(max ? best : sum / (p.CountIncludePad ? padded : inside));
        }
    }

    /// <summary>Output shape of GlobalAveragePool: [N, C, 1, ..., 1] for input [N, C, D1, ..., Dk], k ≥ 1.</summary>
    public static int[] GlobalAveragePoolShape(ReadOnlySpan<int> inputShape) => GlobalPoolShape(inputShape, "GlobalAveragePool");

    /// <summary>Output shape of GlobalMaxPool: [N, C, 1, ..., 1] for input [N, C, D1, ..., Dk], k ≥ 1.</summary>
    public static int[] GlobalMaxPoolShape(ReadOnlySpan<int> inputShape) => GlobalPoolShape(inputShape, "GlobalMaxPool");

    private static int[] GlobalPoolShape(ReadOnlySpan<int> inputShape, string op)
    {
        ReferenceCheck.Count(inputShape, "input", op);
        if (inputShape.Length < 3)
            ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 3 (N, C, spatial...); got [{string.Join(", ", inputShape.ToArray())}].");
        var os = new int[inputShape.Length];
        os.AsSpan().Fill(1);
        os[0] = inputShape[0];
        os[1] = inputShape[1];
        return os;
    }

    /// <summary>y[n,c] = mean over all spatial positions of x[n,c,...]; an empty spatial extent throws.</summary>
    public static void GlobalAveragePool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output)
    {
        CheckGlobalPool(input.Length, inputShape, output.Length, "GlobalAveragePool");
        int planes = inputShape[0] * inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        for (int plane = 0; plane < planes; plane++)
        {
            double sum = 0;
            for (int i = 0; i < spatial; i++) sum += input[plane * spatial + i];
            output[plane] = (float)(sum / spatial);
        }
    }

    /// <summary>y[n,c] = max over all spatial positions of x[n,c,...]; NaN wins; an empty spatial extent throws.</summary>
    public static void GlobalMaxPool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output)
    {
        CheckGlobalPool(input.Length, inputShape, output.Length, "GlobalMaxPool");
        int planes = inputShape[0] * inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        for (int plane = 0; plane < planes; plane++)
        {
            double best = double.NegativeInfinity;
            for (int i = 0; i < spatial; i++)
            {
                double v = input[plane * spatial + i];
                if (double.IsNaN(v) || v > best) best = v;
                if (double.IsNaN(best)) break;
            }
            output[plane] = (float)best;
        }
    }

    /// <summary>The checks of the global pools, shared with the fast kernels.</summary>
    internal static void CheckGlobalPool(int inputLength, ReadOnlySpan<int> inputShape, int outputLength, string op)
    {
        int[] os = GlobalPoolShape(inputShape, op);
        ReferenceCheck.Data(inputLength, inputShape, "input", op);
        ReferenceCheck.Output(outputLength, os, op);
        int planes = inputShape[0] * inputShape[1];
        int spatial = ReferenceCheck.Product(inputShape[2..]);
        if (spatial == 0 && planes > 0)
            ThrowHelper.Shape("input", $"{op}: input [{string.Join(", ", inputShape.ToArray())}] has an empty spatial extent.");
    }
}
