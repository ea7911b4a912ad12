using Lacuna.Tensors;

namespace Lacuna.Kernels.Reference;

/// <summary>How <see cref="ReferenceShapeOps.Pad"/> fills positions outside the input (ONNX Pad modes).</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant = 0,
    /// <summary>Mirror without repeating the border element (numpy "reflect"): ..., x2, x1, | x0, x1, x2, ...</summary>
    Reflect = 1,
    /// <summary>Repeat the border element.</summary>
    Edge = 2,
}

/// <summary>
/// The specification of the ONNX data-movement operators: Concat, Split, Flatten, Transpose, Pad, and Reshape's shape
/// inference. Each has a shape function that validates and a compute function that moves elements (row-major).
/// </summary>
public static class ReferenceShapeOps
{
    // ---- Concat ----

    /// <summary>Inputs of equal rank ≥ 1 agreeing on every dimension but <paramref name="axis"/> (in [-rank, rank-1]); the output sums that one.</summary>
    public static int[] ConcatShape(IReadOnlyList<int[]> shapes, int axis)
    {
        const string op = "Concat";
        if (shapes is null) ThrowHelper.ArgumentNull(nameof(shapes));
        if (shapes.Count == 0) ThrowHelper.Argument(nameof(shapes), $"{op}: needs at least one input.");
        int rank = shapes[0].Length;
        if (rank == 0) ThrowHelper.Shape("inputs[0]", $"{op}: inputs must be rank ≥ 1; inputs[0] is a scalar.");
        int a = ReferenceCheck.Axis(axis, rank, nameof(axis), op);
        var result = (int[])shapes[0].Clone();
        result[a] = 0;
        for (int k = 0; k < shapes.Count; k++)
        {
            ReferenceCheck.Count(shapes[k], $"inputs[{k}]", op);
            bool ok = shapes[k].Length == rank;
            for (int d = 0; ok && d < rank; d++) ok = d == a || shapes[k][d] == shapes[0][d];
            if (!ok)
                ThrowHelper.Shape($"inputs[{k}]", $"{op}: shapes {Broadcast.Format(shapes[0])} and {Broadcast.Format(shapes[k])} (inputs[{k}]) differ outside axis {axis}.");
            result[a] += shapes[k][a];
        }
        return result;
    }

    /// <summary>Joins inputs along <paramref name="axis"/>: each outer index copies input 0's slab, then input 1's, and so on.</summary>
    public static void Concat(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, int axis, Span<float> output)
    {
        int[] shape = CheckConcat(inputs, shapes, axis, output.Length);
        int a = axis < 0 ? axis + shape.Length : axis;
        int outer = ReferenceCheck.Product(shape.AsSpan(0, a));
        int inner = ReferenceCheck.Product(shape.AsSpan(a + 1));
        int at = 0;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < inputs.Count; k++)
            {
                int slab = shapes[k][a] * inner;
                for (int i = 0; i < slab; i++) output[at++] = inputs[k][o * slab + i];
            }
    }

    /// <summary>The checks of <see cref="Concat"/>, shared with the fast kernel; returns the output shape.</summary>
    internal static int[] CheckConcat(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, int axis, int outputLength)
    {
        if (inputs is null) ThrowHelper.ArgumentNull(nameof(inputs));
        int[] shape = ConcatShape(shapes, axis);
        if (inputs.Count != shapes.Count) ThrowHelper.Argument(nameof(inputs), $"Concat: {inputs.Count} inputs but {shapes.Count} shapes.");
        for (int k = 0; k < inputs.Count; k++)
        {
            if (inputs[k] is null) ThrowHelper.ArgumentNull($"inputs[{k}]");
            ReferenceCheck.Data(inputs[k].Length, shapes[k], $"inputs[{k}]", "Concat");
        }
        ReferenceCheck.Output(outputLength, shape, "Concat");
        return shape;
    }

    // ---- Split ----

    /// <summary>
    /// Part sizes along <paramref name="axis"/>: the explicit <paramref name="splits"/> (non-negative, summing to the
    /// axis length), or without them <paramref name="numOutputs"/> parts of ceil(length / numOutputs) with a smaller
    /// last one (ONNX opset 18).
    /// </summary>
    public static int[] SplitSizes(ReadOnlySpan<int> inputShape, int axis, ReadOnlySpan<int> splits, int numOutputs = 0)
    {
        const string op = "Split";
        ReferenceCheck.Count(inputShape, "input", op);
        if (inputShape.Length == 0) ThrowHelper.Shape("input", $"{op}: input must be rank ≥ 1; got a scalar.");
        int a = ReferenceCheck.Axis(axis, inputShape.Length, nameof(axis), op);
        int length = inputShape[a];
        if (!splits.IsEmpty)
        {
            long sum = 0;
            foreach (int v in splits)
            {
                if (v < 0) ThrowHelper.Argument(nameof(splits), $"{op}: split [{string.Join(", ", splits.ToArray())}] has a negative size.");
                sum += v;
            }
            if (sum != length)
                ThrowHelper.Argument(nameof(splits), $"{op}: split [{string.Join(", ", splits.ToArray())}] sums to {sum} but axis {axis} of input {Broadcast.Format(inputShape)} has {length}.");
            return splits.ToArray();
        }
        if (numOutputs < 1) ThrowHelper.OutOfRange(nameof(numOutputs), numOutputs, $"{op}: without split sizes, num_outputs must be at least 1.");
        int chunk = (length + numOutputs - 1) / numOutputs;
        int last = length - chunk * (numOutputs - 1);
        if (last < 0)
            ThrowHelper.Argument(nameof(numOutputs), $"{op}: axis {axis} of input {Broadcast.Format(inputShape)} cannot be split into {numOutputs} parts of {chunk}.");
        var sizes = new int[numOutputs];
        sizes.AsSpan().Fill(chunk);
        sizes[^1] = last;
        return sizes;
    }

    /// <summary>The inverse of Concat: part k takes <paramref name="splits"/>[k] consecutive entries along the axis.</summary>
    public static void Split(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, int axis, ReadOnlySpan<int> splits, IReadOnlyList<float[]> outputs)
    {
        CheckSplit(input.Length, inputShape, axis, splits, outputs);
        int a = axis < 0 ? axis + inputShape.Length : axis;
        int outer = ReferenceCheck.Product(inputShape[..a]);
        int inner = ReferenceCheck.Product(inputShape[(a + 1)..]);
        int at = 0;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < splits.Length; k++)
            {
                int slab = splits[k] * inner;
                for (int i = 0; i < slab; i++) outputs[k][o * slab + i] = input[at++];
            }
    }

    /// <summary>The checks of <see cref="Split"/>, shared with the fast kernel.</summary>
    internal static void CheckSplit(int inputLength, ReadOnlySpan<int> inputShape, int axis, ReadOnlySpan<int> splits, IReadOnlyList<float[]> outputs)
    {
        if (outputs is null) ThrowHelper.ArgumentNull(nameof(outputs));
        if (splits.IsEmpty) ThrowHelper.Argument(nameof(splits), "Split: give the part sizes (see SplitSizes).");
        SplitSizes(inputShape, axis, splits);
        ReferenceCheck.Data(inputLength, inputShape, "input", "Split");
        if (outputs.Count != splits.Length)
            ThrowHelper.Argument(nameof(outputs), $"Split: {outputs.Count} outputs for {splits.Length} split sizes.");
        int a = axis < 0 ? axis + inputShape.Length : axis;
        for (int k = 0; k < outputs.Count; k++)
        {
            var shape = inputShape.ToArray();
            shape[a] = splits[k];
            if (outputs[k] is null) ThrowHelper.ArgumentNull($"outputs[{k}]");
            ReferenceCheck.Output(outputs[k].Length, shape, "Split");
        }
    }

    // ---- Flatten ----

    /// <summary>[d0 ⋯ d(axis-1), d(axis) ⋯ d(r-1)] → [product of the first, product of the rest]; axis in [-r, r] (default 1).</summary>
    public static int[] FlattenShape(ReadOnlySpan<int> inputShape, int axis = 1)
    {
        ReferenceCheck.Count(inputShape, "input", "Flatten");
        int a = ReferenceCheck.Axis(axis, inputShape.Length, nameof(axis), "Flatten", inclusiveEnd: true);
        return new[] { ReferenceCheck.Product(inputShape[..a]), ReferenceCheck.Product(inputShape[a..]) };
    }

    /// <summary>Flatten keeps the row-major element order: the output is a copy of the input.</summary>
    public static void Flatten(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, int axis, Span<float> output)
    {
        int[] shape = FlattenShape(inputShape, axis);
        ReferenceCheck.Data(input.Length, inputShape, nameof(input), "Flatten");
        ReferenceCheck.Output(output.Length, shape, "Flatten");
        input.CopyTo(output);
    }

    // ---- Transpose ----

    /// <summary>output dim i = input dim perm[i]; perm must be a permutation of 0..r-1 (empty means reversed, the ONNX default).</summary>
    public static int[] TransposeShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm)
    {
        ReferenceCheck.Count(inputShape, "input", "Transpose");
        int[] p = ResolvePerm(inputShape, perm);
        var result = new int[p.Length];
        for (int i = 0; i < p.Length; i++) result[i] = inputShape[p[i]];
        return result;
    }

    /// <summary>y[i0, ..., i(r-1)] = x[j] with j[perm[k]] = i[k].</summary>
    public static void Transpose(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm, Span<float> output)
    {
        int[] shape = TransposeShape(inputShape, perm);
        int[] p = ResolvePerm(inputShape, perm);
        ReferenceCheck.Data(input.Length, inputShape, nameof(input), "Transpose");
        ReferenceCheck.Output(output.Length, shape, "Transpose");
        int[] inStrides = ReferenceCheck.Strides(inputShape);
        var strides = new int[p.Length]; // input stride of each output axis
        for (int k = 0; k < p.Length; k++) strides[k] = inStrides[p[k]];
        int count = ReferenceCheck.Product(shape);
        for (int i = 0; i < count; i++) output[i] = input[Broadcast.SourceIndex(i, shape, strides)];
    }

    internal static int[] ResolvePerm(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm)
    {
        int rank = inputShape.Length;
        if (perm.IsEmpty)
        {
            var reversed = new int[rank];
            for (int i = 0; i < rank; i++) reversed[i] = rank - 1 - i;
            return reversed;
        }
        string text = $"perm [{string.Join(", ", perm.ToArray())}] for input {Broadcast.Format(inputShape)}";
        if (perm.Length != rank) ThrowHelper.Argument(nameof(perm), $"Transpose: {text} must have {rank} entries.");
        var seen = new bool[rank];
        foreach (int v in perm)
        {
            if (v < 0 || v >= rank || seen[v]) ThrowHelper.Argument(nameof(perm), $"Transpose: {text} is not a permutation of 0..{rank - 1}.");
            seen[v] = true;
        }
        return perm.ToArray();
    }

    // ---- Pad ----

    /// <summary>
    /// pads = [begin_0 ⋯ begin_(r-1), end_0 ⋯ end_(r-1)] (ONNX order); output dim = d + begin + end, which must be ≥ 0.
    /// Negative pads remove elements from that side.
    /// </summary>
    public static int[] PadShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> pads)
    {
        ReferenceCheck.Count(inputShape, "input", "Pad");
        int rank = inputShape.Length;
        if (pads.Length != 2 * rank)
            ThrowHelper.Argument(nameof(pads), $"Pad: pads has {pads.Length} entries but input {Broadcast.Format(inputShape)} needs 2·{rank}.");
        var result = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = (long)inputShape[d] + pads[d] + pads[d + rank];
            if (size < 0 || size > int.MaxValue)
                ThrowHelper.Argument(nameof(pads), $"Pad: pads [{string.Join(", ", pads.ToArray())}] give axis {d} of input {Broadcast.Format(inputShape)} size {size}.");
            result[d] = (int)size;
        }
        return result;
    }

    /// <summary>
    /// Output position o along axis d reads input coordinate i = o - begin_d. Inside [0, size) it is the input element;
    /// outside, Constant gives <paramref name="value"/>, Edge clamps i to [0, size-1], Reflect mirrors i about the
    /// borders without repeating them (period 2·(size-1), as numpy.pad "reflect", so pads may exceed the size).
    /// Reflect and Edge need a non-empty axis where they must fill anything.
    /// </summary>
    public static void Pad(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> pads, Span<float> output,
        PadMode mode = PadMode.Constant, float value = 0f)
    {
        int[] shape = CheckPad(input.Length, inputShape, pads, output.Length, mode);
        int rank = inputShape.Length;

        int[] inStrides = ReferenceCheck.Strides(inputShape);
        int count = ReferenceCheck.Product(shape);
        var coord = new int[rank];
        for (int o = 0; o < count; o++)
        {
            int rest = o, source = 0;
            bool outside = false;
            for (int d = rank - 1; d >= 0; d--)
            {
                coord[d] = rest % shape[d] - pads[d];
                rest /= shape[d];
                int size = inputShape[d], i = coord[d];
                if (i < 0 || i >= size)
                {
                    if (mode == PadMode.Constant) { outside = true; continue; }
                    i = mode == PadMode.Edge ? Math.Clamp(i, 0, size - 1) : Reflect(i, size);
                }
                source += i * inStrides[d];
            }
            output[o] = outside ? value : input[source];
        }
    }

    /// <summary>The checks of <see cref="Pad"/>, shared with the fast kernel; returns the output shape.</summary>
    internal static int[] CheckPad(int inputLength, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> pads, int outputLength, PadMode mode)
    {
        int[] shape = PadShape(inputShape, pads);
        ReferenceCheck.Data(inputLength, inputShape, "input", "Pad");
        ReferenceCheck.Output(outputLength, shape, "Pad");
        if (!Enum.IsDefined(mode)) ThrowHelper.OutOfRange(nameof(mode), mode, "Pad: unknown mode.");
        if (mode != PadMode.Constant)
            for (int d = 0; d < inputShape.Length; d++)
                if (inputShape[d] == 0 && shape[d] > 0)
                    ThrowHelper.Shape("input", $"Pad: {mode} mode cannot fill axis {d} of input {Broadcast.Format(inputShape)}: it is empty.");
        return shape;
    }

    /// <summary>Mirrors i into [0, size) without repeating the border: period 2·(size-1); size 1 maps everything to 0.</summary>
    internal static int Reflect(int i, int size)
    {
        if (size == 1) return 0;
        int period = 2 * (size - 1);
        int m = ((i % period) + period) % period;
        return m < size ? m : period - m;
    }

    // ---- Reshape ----

    /// <summary>
    /// ONNX Reshape's output shape: each entry of <paramref name="requested"/> is a dimension, 0 copies the input's
    /// dimension at the same index (unless <paramref name="allowZero"/>, where 0 is a literal zero), and one -1 is
    /// inferred so the element count is unchanged.
    /// </summary>
    public static int[] ReshapeShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<long> requested, bool allowZero = false)
    {
        const string op = "Reshape";
        int count = ReferenceCheck.Count(inputShape, "input", op);
        string text = $"shape [{string.Join(", ", requested.ToArray())}] for input {Broadcast.Format(inputShape)}";
        var result = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        bool hasZero = false;
        for (int i = 0; i < requested.Length; i++)
        {
            long r = requested[i];
            if (r == -1)
            {
                if (inferred >= 0) ThrowHelper.Argument("shape", $"{op}: {text} has more than one -1.");
                inferred = i;
                continue;
            }
            if (r < -1) ThrowHelper.Argument("shape", $"{op}: {text} has invalid entry {r} at index {i}.");
            if (r == 0 && !allowZero)
            {
                if (i >= inputShape.Length) ThrowHelper.Argument("shape", $"{op}: {text} copies dimension {i} (0) but the input has rank {inputShape.Length}.");
                r = inputShape[i];
            }
            if (r > int.MaxValue) ThrowHelper.Argument("shape", $"{op}: {text} has entry {r} beyond int.MaxValue.");
            result[i] = (int)r;
            if (r == 0) hasZero = true;
            known *= r;
            if (known > int.MaxValue) ThrowHelper.Argument("shape", $"{op}: {text} has more than int.MaxValue elements.");
        }
        if (inferred >= 0)
        {
            if (allowZero && hasZero) ThrowHelper.Argument("shape", $"{op}: {text} has both -1 and a literal 0 (allowzero), which is ambiguous.");
            if (known == 0 || count % known != 0)
                ThrowHelper.Argument("shape", $"{op}: {text}: cannot infer the -1 dimension ({count} elements, {known} from the others).");
            result[inferred] = (int)(count / known);
        }
        else if (known != count)
            ThrowHelper.Argument("shape", $"{op}: {text} has {known} elements but the input has {count}.");
        return result;
    }
}
