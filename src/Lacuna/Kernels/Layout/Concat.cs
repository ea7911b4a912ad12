using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Kernels.Layout;

/// <summary>
/// ONNX Concat along any axis with the contract of <see cref="ReferenceShapeOps.Concat"/>. With the axis in the middle
/// of [outer, axis, inner], input k is <c>outer</c> contiguous blocks of size_k·inner floats that land at stride
/// total·inner in the output, offset by the sizes before it: a strided block copy per input (<see cref="WritePart"/>,
/// which a producer writing straight into its part of the output can also use on its own).
/// </summary>
public static class Concat
{
    public static void Compute(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, int axis, Span<float> output, int threads = 0)
    {
        int[] shape = ReferenceShapeOps.CheckConcat(inputs, shapes, axis, output.Length);
        int a = axis < 0 ? axis + shape.Length : axis;
        int offset = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            WritePart(inputs[k], shapes[k], axis, offset, output, shape, threads);
            offset += shapes[k][a];
        }
    }

    /// <summary>
    /// Copies one input, <paramref name="part"/> of shape <paramref name="partShape"/>, into the output of shape
    /// <paramref name="outputShape"/> at entries [axisOffset, axisOffset + partShape[axis]) along <paramref name="axis"/>.
    /// </summary>
    public static unsafe void WritePart(ReadOnlySpan<float> part, ReadOnlySpan<int> partShape, int axis, int axisOffset,
        Span<float> output, ReadOnlySpan<int> outputShape, int threads = 0)
    {
        var (outer, inner, a) = CheckPart(part.Length, partShape, axis, axisOffset, output.Length, outputShape, "Concat", "part", "output");
        int block = partShape[a] * inner, stride = outputShape[a] * inner;
        fixed (float* src = part, dst = output)
            BlockCopy.Run(src, block, dst + (long)axisOffset * inner, stride, outer, block, threads);
    }

    /// <summary>
    /// Checks a part against the whole along one axis (same rank, same dimensions elsewhere, inside the axis), both
    /// buffers' lengths; returns the outer and inner products and the normalized axis.
    /// </summary>
    internal static (int Outer, int Inner, int Axis) CheckPart(int partLength, ReadOnlySpan<int> partShape, int axis, int axisOffset,
        int wholeLength, ReadOnlySpan<int> wholeShape, string op, string partName, string wholeName)
    {
        ReferenceCheck.Count(wholeShape, wholeName, op);
        if (wholeShape.Length == 0) ThrowHelper.Shape(wholeName, $"{op}: tensors must be rank ≥ 1; got a scalar.");
        int a = ReferenceCheck.Axis(axis, wholeShape.Length, nameof(axis), op);
        ReferenceCheck.Data(partLength, partShape, partName, op);
        bool ok = partShape.Length == wholeShape.Length;
        for (int d = 0; ok && d < wholeShape.Length; d++) ok = d == a || partShape[d] == wholeShape[d];
        if (!ok)
            ThrowHelper.Shape(partName, $"{op}: {partName} {Broadcast.Format(partShape)} and {Broadcast.Format(wholeShape)} differ outside axis {axis}.");
        if (axisOffset < 0 || (long)axisOffset + partShape[a] > wholeShape[a])
            ThrowHelper.OutOfRange(nameof(axisOffset), axisOffset, $"{op}: entries [{axisOffset}, {(long)axisOffset + partShape[a]}) of axis {axis} are outside {Broadcast.Format(wholeShape)}.");
        int wholeCount = ReferenceCheck.Count(wholeShape, wholeName, op);
        if (wholeLength < wholeCount)
            ThrowHelper.Shape(wholeName, $"{op}: '{wholeName}' has {wholeLength} elements but {Broadcast.Format(wholeShape)} needs {wholeCount}.");
        return (ReferenceCheck.Product(wholeShape[..a]), ReferenceCheck.Product(wholeShape[(a + 1)..]), a);
    }
}
