namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX MaxPool (with its Indices output) and AveragePool over any number of spatial axes
/// (geometry in <see cref="PoolNdParams"/>); for two axes it is <see cref="ReferencePool"/>'s definition. Padding never
/// takes part in a max; in an average it adds nothing and counts in the divisor only with count_include_pad.
/// </summary>
public static class ReferencePoolNd
{
    /// <summary>
    /// y = max over window positions inside the input; <paramref name="indices"/> (empty: not wanted) receives the
    /// flat index of the first maximum in x ((n·C + c)·spatial size + the spatial offset, row-major or column-major).
    /// NaN wins, as in NumPy's max.
    /// </summary>
    public static void MaxPool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Span<long> indices, PoolNdParams p) =>
        Pool(input, inputShape, output, indices, p, "MaxPool", max: true);

    /// <summary>y = (Σ window positions inside the input) / count (inside the input, or inside the padded input with count_include_pad).</summary>
    public static void AveragePool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, PoolNdParams p) =>
        Pool(input, inputShape, output, [], p, "AveragePool", max: false);

    private static void Pool(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, Span<float> output, Span<long> indices, PoolNdParams p, string op, bool max)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        int[] os = p.OutputShape(inputShape, op);
        ReferenceCheck.Data(input.Length, inputShape, nameof(input), op);
        ReferenceCheck.Output(output.Length, os, op);
        if (indices.Length != 0) ReferenceCheck.Output(indices.Length, os, op + " Indices");
        int k = p.Rank;
        int[] size = inputShape[2..].ToArray(), outSize = os[2..];
        int spatial = ReferenceCheck.Product(size), outSpatial = ReferenceCheck.Product(outSize), windowCount = ReferenceCheck.Product(p.Kernel);
        int planes = inputShape[0] * inputShape[1];
        var o = new int[k];
        var j = new int[k];
        for (int plane = 0; plane < planes; plane++)
        for (int oi = 0; oi < outSpatial; oi++)
        {
            for (int a = k - 1, rest = oi; a >= 0; a--) { o[a] = rest % outSize[a]; rest /= outSize[a]; }
            double best = double.NegativeInfinity, sum = 0;
            long bestAt = -1;
            int inside = 0, padded = 0;
            for (int w = 0; w < windowCount; w++)
            {
                for (int a = k - 1, rest = w; a >= 0; a--) { j[a] = rest % p.Kernel[a]; rest /= p.Kernel[a]; }
                bool isInside = true, isPadded = true;
                int rowMajor = 0, colMajor = 0;
                for (int a = 0; a < k; a++)
                {
                    int i = o[a] * p.Strides[a] - p.PadsBegin[a] + j[a] * p.Dilations[a];
                    isPadded &= i >= -p.PadsBegin[a] && i < size[a] + p.PadsEnd[a];
                    isInside &= i >= 0 && i < size[a];
                    rowMajor = rowMajor * size[a] + i;
                }
                if (isPadded) padded++;
                if (!isInside) continue;
                for (int a = k - 1; a >= 0; a--) colMajor = colMajor * size[a] + (o[a] * p.Strides[a] - p.PadsBegin[a] + j[a] * p.Dilations[a]);
                double v = input[plane * spatial + rowMajor];
                inside++;
                sum += v;
                if (bestAt < 0 || (!double.IsNaN(best) && (double.IsNaN(v) || v > best)))
                {
                    best = v;
                    bestAt = (long)plane * spatial + (p.ColumnMajorIndices ? colMajor : rowMajor);
                }
            }
            output[plane * outSpatial + oi] = (float)(max ? best : sum / (p.CountIncludePad ? padded : inside));
            if (indices.Length != 0) indices[plane * outSpatial + oi] = bestAt;
        }
    }
}
