using Lacuna.Tensors;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX MatMul (numpy.matmul): a 1-D A [K] is treated as [1, K] and a 1-D B [K] as [K, 1],
/// the added dimension removed from the result; leading (batch) dimensions broadcast; for each batch index,
/// Y[i, j] = Σ_k A[i, k] · B[k, j], accumulated in double.
/// </summary>
public static class ReferenceMatMul
{
    /// <summary>Output shape; throws naming both shapes when the inner dimensions differ or the batch dimensions do not broadcast.</summary>
    public static int[] OutputShape(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape)
    {
        Resolve(aShape, bShape, out int[] batch, out int m, out int n, out _);
        var result = new List<int>(batch);
        if (aShape.Length > 1) result.Add(m);
        if (bShape.Length > 1) result.Add(n);
        return result.ToArray();
    }

    /// <param name="a">[..., M, K] or [K]</param>
    /// <param name="b">[..., K, N] or [K]</param>
    /// <param name="output">[broadcast batch..., M, N] (see <see cref="OutputShape"/>), fully overwritten</param>
    public static void Compute(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape, Span<float> output)
    {
        Resolve(aShape, bShape, out int[] batch, out int m, out int n, out int k);
        ReferenceCheck.Data(a.Length, aShape, nameof(a), "MatMul");
        ReferenceCheck.Data(b.Length, bShape, nameof(b), "MatMul");
        ReferenceCheck.Output(output.Length, OutputShape(aShape, bShape), "MatMul");

        // Batch strides count whole matrices; a rank ≤ 2 operand has no batch dims and stride 0 everywhere.
        int[] aBatch = Broadcast.Strides(BatchDims(aShape), batch);
        int[] bBatch = Broadcast.Strides(BatchDims(bShape), batch);
        int batches = ReferenceCheck.Product(batch);
        for (int t = 0; t < batches; t++)
        {
            int aBase = Broadcast.SourceIndex(t, batch, aBatch) * m * k;
            int bBase = Broadcast.SourceIndex(t, batch, bBatch) * k * n;
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int p = 0; p < k; p++) acc += (double)a[aBase + i * k + p] * b[bBase + p * n + j];
                output[(t * m + i) * n + j] = (float)acc;
            }
        }
    }

    private static ReadOnlySpan<int> BatchDims(ReadOnlySpan<int> shape) => shape.Length > 2 ? shape[..^2] : ReadOnlySpan<int>.Empty;

    private static void Resolve(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape, out int[] batch, out int m, out int n, out int k)
    {
        ReferenceCheck.Count(aShape, "a", "MatMul");
        ReferenceCheck.Count(bShape, "b", "MatMul");
        string shapes = $"shapes {Broadcast.Format(aShape)} and {Broadcast.Format(bShape)}";
        if (aShape.Length == 0) ThrowHelper.Shape("a", $"MatMul: {shapes}: A must be rank ≥ 1, not a scalar.");
        if (bShape.Length == 0) ThrowHelper.Shape("b", $"MatMul: {shapes}: B must be rank ≥ 1, not a scalar.");
        m = aShape.Length == 1 ? 1 : aShape[^2];
        k = aShape[^1];
        int kb = bShape.Length == 1 ? bShape[0] : bShape[^2];
        n = bShape.Length == 1 ? 1 : bShape[^1];
        if (k != kb) ThrowHelper.Shape("b", $"MatMul: {shapes}: inner dimensions {k} and {kb} differ.");
        batch = Broadcast.Shape(BatchDims(aShape), BatchDims(bShape), $"MatMul: batch dimensions of {shapes}", "b");
    }
}
