namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ArgMax/ArgMin, GatherElements and GatherND (ONNX). Indices are exact integers carried as
/// floats (the engine's int64 convention); a negative index counts from the end of its axis; one out of range is an
/// error naming the operator, position and value.
/// </summary>
public static class ReferenceIndexing
{
    /// <summary>
    /// y[o, i] = the index along the middle axis of x[outer, r, inner] of the maximum (<paramref name="max"/>) or minimum:
    /// the first such index, or the last with <paramref name="last"/>. A NaN is the extreme (the first NaN, as NumPy).
    /// </summary>
    public static void ArgExtreme(ReadOnlySpan<float> x, int outer, int r, int inner, bool max, bool last, Span<float> y)
    {
        if (r < 1) ThrowHelper.Argument(nameof(r), $"Arg{(max ? "Max" : "Min")}: the reduced axis is empty.");
        ReferenceCheck.Output(y.Length, [outer, inner], max ? "ArgMax" : "ArgMin");
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int best = 0;
            double bv = x[o * r * inner + i];
            for (int j = 1; j < r && !double.IsNaN(bv); j++)
            {
                double v = x[(o * r + j) * inner + i];
                bool better = double.IsNaN(v) || (max ? v > bv : v < bv) || (last && v == bv);
                if (better) { best = j; bv = v; }
            }
            y[o * inner + i] = best;
        }
    }

    /// <summary>y[p] = data at p with its <paramref name="axis"/> coordinate replaced by indices[p] (y has indices' shape).</summary>
    public static void GatherElements(ReadOnlySpan<float> data, int[] dataShape, ReadOnlySpan<float> indices, int[] indexShape, int axis, Span<float> y)
    {
        int rank = dataShape.Length;
        ReferenceCheck.Data(data.Length, dataShape, nameof(data), "GatherElements");
        ReferenceCheck.Output(y.Length, indexShape, "GatherElements");
        int[] ds = ReferenceCheck.Strides(dataShape);
        var at = new int[rank];
        for (int p = 0; p < indices.Length; p++)
        {
            for (int d = rank - 1, rest = p; d >= 0; d--) { at[d] = rest % indexShape[d]; rest /= indexShape[d]; }
            at[axis] = Resolve(indices[p], dataShape[axis], p, "GatherElements");
            int src = 0;
            for (int d = 0; d < rank; d++) src += at[d] * ds[d];
            y[p] = data[src];
        }
    }

    /// <summary>Output shape of GatherND: indices.shape[:-1] + data.shape[batchDims + k:], k = indices.shape[-1].</summary>
    public static int[] GatherNDShape(int[] dataShape, int[] indexShape, int batchDims)
    {
        int q = indexShape.Length, r = dataShape.Length;
        if (q < 1 || r < 1) ThrowHelper.Shape("indices", "GatherND: data and indices must have rank ≥ 1.");
        int k = indexShape[^1];
        if (batchDims < 0 || batchDims >= Math.Min(q, r)) ThrowHelper.Shape("batch_dims", $"GatherND: batch_dims {batchDims} must be in [0, {Math.Min(q, r) - 1}].");
        if (k < 1 || k > r - batchDims) ThrowHelper.Shape("indices", $"GatherND: the last indices dimension {k} must be in [1, {r - batchDims}] for data rank {r} and batch_dims {batchDims}.");
        for (int d = 0; d < batchDims; d++)
            if (dataShape[d] != indexShape[d]) ThrowHelper.Shape("indices", $"GatherND: batch dimension {d} is {indexShape[d]} in indices but {dataShape[d]} in data.");
        return [.. indexShape[..^1], .. dataShape[(batchDims + k)..]];
    }

    /// <summary>
    /// For each batch (the first batchDims axes) and each index tuple of length k in it, the slice of data at
    /// data[batch, i1 .. ik, ...] copied in order.
    /// </summary>
    public static void GatherND(ReadOnlySpan<float> data, int[] dataShape, ReadOnlySpan<float> indices, int[] indexShape, int batchDims, Span<float> y)
    {
        int[] os = GatherNDShape(dataShape, indexShape, batchDims);
        ReferenceCheck.Output(y.Length, os, "GatherND");
        int k = indexShape[^1];
        int batches = ReferenceCheck.Product(dataShape.AsSpan(0, batchDims));
        int tuples = ReferenceCheck.Product(indexShape.AsSpan(batchDims, indexShape.Length - 1 - batchDims));
        int slice = ReferenceCheck.Product(dataShape.AsSpan(batchDims + k));
        int batchSize = ReferenceCheck.Product(dataShape.AsSpan(batchDims));
        int[] ds = ReferenceCheck.Strides(dataShape[batchDims..]);
        for (int b = 0; b < batches; b++)
        for (int t = 0; t < tuples; t++)
        {
            int src = b * batchSize, tuple = (b * tuples + t) * k;
            for (int j = 0; j < k; j++) src += Resolve(indices[tuple + j], dataShape[batchDims + j], tuple + j, "GatherND") * ds[j];
            data.Slice(src, slice).CopyTo(y.Slice((b * tuples + t) * slice, slice));
        }
    }

    /// <summary>An index read from its float, negative counted from the end, checked against the axis size.</summary>
    public static int Resolve(float v, int size, int position, string op)
    {
        long at = (long)v;
        if (at < 0) at += size;
        if (!float.IsInteger(v) || at < 0 || at >= size)
            throw new LacunaFormatException(op, $"index {v} at position {position} is out of range for axis size {size}.");
        return (int)at;
    }
}
