using Lacuna.Tensors;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the element-wise ONNX operators: Relu, Clip, and Add, Mul, Sum with numpy
/// multidirectional broadcasting (<see cref="Broadcast"/>). Arithmetic is done in double and rounded once.
/// NaN propagates as in numpy (Relu(NaN) = NaN, Clip(NaN) = NaN), unlike <see cref="Activation.Apply"/>
/// which is the epilogue contract of the fast kernels.
/// </summary>
public static class ReferenceElementwise
{
    /// <summary>y[i] = max(x[i], 0); <paramref name="output"/> length ≥ x length.</summary>
    public static void Relu(ReadOnlySpan<float> input, Span<float> output)
    {
        ThrowHelper.IfTooShort(output.Length, input.Length, nameof(output), "Relu's input");
        for (int i = 0; i < input.Length; i++)
            output[i] = input[i] < 0f ? 0f : input[i];
    }

    /// <summary>
    /// y[i] = min(max(x[i], min), max) (ONNX Clip-13; absent bounds are ±infinity). When min &gt; max every
    /// element becomes max, as the ONNX spec says. NaN bounds are rejected.
    /// </summary>
    public static void Clip(ReadOnlySpan<float> input, Span<float> output, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        if (float.IsNaN(min)) ThrowHelper.Argument(nameof(min), "Clip: min is NaN.");
        if (float.IsNaN(max)) ThrowHelper.Argument(nameof(max), "Clip: max is NaN.");
        ThrowHelper.IfTooShort(output.Length, input.Length, nameof(output), "Clip's input");
        for (int i = 0; i < input.Length; i++)
        {
            float v = input[i] < min ? min : input[i];
            output[i] = v > max ? max : v;
        }
    }

    /// <summary>Output shape of Add/Mul: the broadcast of both shapes; throws naming both when they are not broadcastable.</summary>
    public static int[] BinaryShape(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape, string op = "Add")
    {
        ReferenceCheck.Count(aShape, "a", op);
        ReferenceCheck.Count(bShape, "b", op);
        return Broadcast.Shape(aShape, bShape, op, "b");
    }

    /// <summary>C = A + B, broadcast; <paramref name="output"/> holds the broadcast shape (<see cref="BinaryShape"/>).</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape, Span<float> output) =>
        Binary(a, aShape, b, bShape, output, "Add", multiply: false);

    /// <summary>C = A ⊙ B, broadcast; <paramref name="output"/> holds the broadcast shape (<see cref="BinaryShape"/>).</summary>
    public static void Mul(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape, Span<float> output) =>
        Binary(a, aShape, b, bShape, output, "Mul", multiply: true);

    private static void Binary(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape,
        Span<float> output, string op, bool multiply)
    {
        int[] shape = BinaryShape(aShape, bShape, op);
        ReferenceCheck.Data(a.Length, aShape, "a", op);
        ReferenceCheck.Data(b.Length, bShape, "b", op);
        ReferenceCheck.Output(output.Length, shape, op);
        int[] sa = Broadcast.Strides(aShape, shape), sb = Broadcast.Strides(bShape, shape);
        int count = ReferenceCheck.Product(shape);
        for (int i = 0; i < count; i++)
        {
            double x = a[Broadcast.SourceIndex(i, shape, sa)];
            double y = b[Broadcast.SourceIndex(i, shape, sb)];
            output[i] = (float)(multiply ? x * y : x + y);
        }
    }

    /// <summary>Output shape of Sum: the broadcast of all input shapes (at least one).</summary>
    public static int[] SumShape(IReadOnlyList<int[]> shapes)
    {
        if (shapes is null) ThrowHelper.ArgumentNull(nameof(shapes));
        if (shapes.Count == 0) ThrowHelper.Argument(nameof(shapes), "Sum: needs at least one input.");
        int[] shape = shapes[0];
        for (int k = 0; k < shapes.Count; k++)
        {
            ReferenceCheck.Count(shapes[k], $"inputs[{k}]", "Sum");
            if (k > 0) shape = Broadcast.Shape(shape, shapes[k], "Sum", $"inputs[{k}]");
        }
        return shape;
    }

    /// <summary>y = Σ_k inputs[k], each broadcast to <see cref="SumShape"/>, accumulated in double.</summary>
    public static void Sum(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, Span<float> output)
    {
        if (inputs is null) ThrowHelper.ArgumentNull(nameof(inputs));
        int[] shape = SumShape(shapes);
        if (inputs.Count != shapes.Count)
            ThrowHelper.Argument(nameof(inputs), $"Sum: {inputs.Count} inputs but {shapes.Count} shapes.");
        var strides = new int[inputs.Count][];
        for (int k = 0; k < inputs.Count; k++)
        {
            ReferenceCheck.Data(inputs[k].Length, shapes[k], $"inputs[{k}]", "Sum");
            strides[k] = Broadcast.Strides(shapes[k], shape);
        }
        ReferenceCheck.Output(output.Length, shape, "Sum");
        int count = ReferenceCheck.Product(shape);
        for (int i = 0; i < count; i++)
        {
            double acc = 0;
            for (int k = 0; k < inputs.Count; k++)
                acc += inputs[k][Broadcast.SourceIndex(i, shape, strides[k])];
            output[i] = (float)acc;
        }
    }
}
