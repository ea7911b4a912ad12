using Lacuna.Kernels.Attention;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of scaled-dot-product attention, per batch b, head h and query row i:
/// s[j] = scale · Σ_c Q[b,h,i,c]·K[b,h,j,c] + mask[b,i,j];  p = softmax(s) over the keys j;
/// O[b,h,i,c] = Σ_j p[j]·V[b,h,j,c]. Rows are addressed through <see cref="AttentionLayout"/>; all arithmetic in
/// double, the full score row materialised. A row whose scores are all -∞ (fully masked) is NaN, as softmax of it is.
/// </summary>
public static class ReferenceAttention
{
    public static void Compute(AttentionShape shape,
        ReadOnlySpan<float> q, AttentionLayout qLayout, ReadOnlySpan<float> k, AttentionLayout kLayout,
        ReadOnlySpan<float> v, AttentionLayout vLayout, Span<float> output, AttentionLayout outputLayout,
        float scale, ReadOnlySpan<float> mask = default, AttentionMask maskShape = default)
    {
        Check(shape, q.Length, qLayout, k.Length, kLayout, v.Length, vLayout, output.Length, outputLayout, mask.Length, maskShape);
        var (batch, heads, lq, lk, d) = shape;
        var s = new double[lk];
        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < lq; i++)
        {
            long qi = b * qLayout.BatchStride + h * qLayout.HeadStride + i * qLayout.RowStride;
            double max = double.NegativeInfinity;
            for (int j = 0; j < lk; j++)
            {
                long kj = b * kLayout.BatchStride + h * kLayout.HeadStride + j * kLayout.RowStride;
                double dot = 0;
                for (int c = 0; c < d; c++) dot += (double)q[(int)(qi + c)] * k[(int)(kj + c)];
                s[j] = scale * dot + (mask.IsEmpty ? 0 : mask[(int)(b * maskShape.BatchStride(lk) + i * maskShape.RowStride(lk) + j)]);
                max = Math.Max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < lk; j++) sum += s[j] = Math.Exp(s[j] - max);
            long oi = b * outputLayout.BatchStride + h * outputLayout.HeadStride + i * outputLayout.RowStride;
            for (int c = 0; c < d; c++)
            {
                double acc = 0;
                for (int j = 0; j < lk; j++)
                    acc += s[j] * v[(int)(b * vLayout.BatchStride + h * vLayout.HeadStride + j * vLayout.RowStride + c)];
                output[(int)(oi + c)] = (float)(acc / sum);
            }
        }
    }

    /// <summary>The checks of <see cref="Compute"/>, shared with the fused kernel.</summary>
    internal static void Check(AttentionShape shape, int qLength, AttentionLayout qLayout, int kLength, AttentionLayout kLayout,
        int vLength, AttentionLayout vLayout, int outputLength, AttentionLayout outputLayout, int maskLength, AttentionMask maskShape)
    {
        var (batch, heads, lq, lk, d) = shape;
        ThrowHelper.IfNegative(batch, "batch");
        ThrowHelper.IfNegative(heads, "heads");
        ThrowHelper.IfNegative(lq, "queryLength");
        ThrowHelper.IfNegative(lk, "keyLength");
        ThrowHelper.IfNegative(d, "headSize");
        if (lk == 0 && lq > 0 && batch > 0 && heads > 0 && d > 0)
            ThrowHelper.Argument("keyLength", $"attention over 0 keys is undefined (shape {shape}).");
        CheckOperand(qLength, qLayout, batch, heads, lq, d, "q");
        CheckOperand(kLength, kLayout, batch, heads, lk, d, "k");
        CheckOperand(vLength, vLayout, batch, heads, lk, d, "v");
        CheckOperand(outputLength, outputLayout, batch, heads, lq, d, "output");
        if (maskLength == 0) return;
        if (maskShape.Batch != 1 && maskShape.Batch != batch)
            ThrowHelper.Shape("mask", $"mask batch must be 1 or {batch}, got {maskShape.Batch}.");
        if (maskShape.Rows != 1 && maskShape.Rows != lq)
            ThrowHelper.Shape("mask", $"mask rows must be 1 or the query length {lq}, got {maskShape.Rows}.");
        long need = (long)maskShape.Batch * maskShape.Rows * lk;
        if (maskLength != need)
            ThrowHelper.Shape("mask", $"mask [{maskShape.Batch}, 1, {maskShape.Rows}, {lk}] needs {need} floats, got {maskLength}.");
    }

    private static void CheckOperand(int length, AttentionLayout layout, int batch, int heads, int rows, int d, string name)
    {
        if (layout.BatchStride < 0 || layout.HeadStride < 0 || layout.RowStride < 0)
            ThrowHelper.Argument(name, $"{name} layout has a negative stride ({layout}).");
        if (rows > 1 && layout.RowStride < d)
            ThrowHelper.Argument(name, $"{name} row stride {layout.RowStride} is below the head size {d}: rows would overlap.");
        ThrowHelper.IfTooShort(length, layout.Extent(batch, heads, rows, d), name, $"{name} [{batch} batch × {heads} heads × {rows} rows × {d}] at {layout}");
    }
}
