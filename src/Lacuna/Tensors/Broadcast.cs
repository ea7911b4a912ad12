namespace Lacuna.Tensors;

/// <summary>
/// Numpy multidirectional broadcasting (ONNX "Broadcasting in ONNX"): shapes are aligned on their last
/// dimension, missing leading dimensions count as 1, and along each axis the sizes must be equal or one
/// of them 1 (a size-1 dimension is repeated; 1 against 0 gives 0). A rank-0 shape is a scalar.
/// </summary>
public static class Broadcast
{
    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/>; throws naming <paramref name="op"/> and both shapes.</summary>
    public static int[] Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op, string paramName = "b")
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            // i counts from the last axis.
            int da = i < a.Length ? a[a.Length - 1 - i] : 1;
            int db = i < b.Length ? b[b.Length - 1 - i] : 1;
            if (da < 0 || db < 0)
                ThrowHelper.Shape(paramName, $"{op}: shapes {Format(a)} and {Format(b)} have a negative dimension.");
            if (da != db && da != 1 && db != 1)
                ThrowHelper.Shape(paramName, $"{op}: shapes {Format(a)} and {Format(b)} are not broadcastable.");
            result[rank - 1 - i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>
    /// Strides (in elements) that read a tensor of shape <paramref name="input"/> as if it had the broadcast
    /// shape <paramref name="output"/>: rank(output) entries, 0 on broadcast (size-1 or missing) axes.
    /// The caller guarantees <paramref name="input"/> broadcasts to <paramref name="output"/>.
    /// </summary>
    public static int[] Strides(ReadOnlySpan<int> input, ReadOnlySpan<int> output)
    {
        var strides = new int[output.Length];
        int stride = 1;
        for (int i = 0; i < input.Length; i++)
        {
            int inAxis = input.Length - 1 - i, outAxis = output.Length - 1 - i;
            strides[outAxis] = input[inAxis] == 1 ? 0 : stride;
            stride *= input[inAxis];
        }
        return strides;
    }

    /// <summary>
    /// The flat index into a broadcast input for flat output index <paramref name="outputIndex"/> (row-major
    /// over <paramref name="outputShape"/>), using strides from <see cref="Strides"/>.
    /// </summary>
    public static int SourceIndex(int outputIndex, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> strides)
    {
        int source = 0;
        for (int axis = outputShape.Length - 1; axis >= 0; axis--)
        {
            int d = outputShape[axis];
            source += outputIndex % d * strides[axis];
            outputIndex /= d;
        }
        return source;
    }

    /// <summary>Product of the dimensions (1 for rank 0).</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return checked((int)n);
    }

    /// <summary>"[2, 3]"; "[]" for a scalar.</summary>
    public static string Format(ReadOnlySpan<int> shape) => $"[{string.Join(", ", shape.ToArray())}]";
}
