using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Layout;

/// <summary>
/// ONNX Split with the contract of <see cref="ReferenceShapeOps.Split"/> (part sizes from
/// <see cref="ReferenceShapeOps.SplitSizes"/>): the inverse strided block copy of <see cref="Concat"/>, one per part
/// (<see cref="ReadPart"/>, usable alone by a consumer that reads one part).
/// </summary>
public static class Split
{
    public static void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, int axis, ReadOnlySpan<int> splits,
        IReadOnlyList<float[]> outputs, int threads = 0)
    {
        ReferenceShapeOps.CheckSplit(input.Length, inputShape, axis, splits, outputs);
        int a = axis < 0 ? axis + inputShape.Length : axis;
        var partShape = inputShape.ToArray();
        int offset = 0;
        for (int k = 0; k < splits.Length; k++)
        {
            partShape[a] = splits[k];
            ReadPart(input, inputShape, axis, offset, outputs[k], partShape, threads);
            offset += splits[k];
        }
    }

    /// <summary>
    /// Copies entries [axisOffset, axisOffset + partShape[axis]) along <paramref name="axis"/> of the input into
    /// <paramref name="part"/> (shape <paramref name="partShape"/>, the input's elsewhere).
    /// </summary>
    public static unsafe void ReadPart(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, int axis, int axisOffset,
        Span<float> part, ReadOnlySpan<int> partShape, int threads = 0)
    {
        int count = ReferenceCheck.Count(partShape, "part", "Split");
        var (outer, inner, a) = Concat.CheckPart(count, partShape, axis, axisOffset, input.Length, inputShape, "Split", "part", "input");
        if (part.Length < count)
            ThrowHelper.Shape("part", $"Split: 'part' has {part.Length} elements but its shape needs {count}.");
        int block = partShape[a] * inner, stride = inputShape[a] * inner;
        fixed (float* src = input, dst = part)
            BlockCopy.Run(src + (long)axisOffset * inner, stride, dst, block, outer, block, threads);
    }
}
