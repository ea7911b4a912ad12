using Lacuna.Tensors;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the element-wise ONNX operators: unary functions (<see cref="Unary"/> with the definitions in
/// <see cref="ReferenceMath"/>), Relu, Clip; binary operators (<see cref="Binary"/>: Add, Sub, Mul, Div, Pow, Max, Min),
/// PRelu and the variadic Sum, Max, Min, Mean with numpy multidirectional broadcasting (<see cref="Broadcast"/>).
/// Arithmetic is done in double and rounded once.
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

    /// <summary>y[i] = f(x[i]) in double, rounded once; <paramref name="output"/> length ≥ x length.</summary>
    public static void Unary(ReadOnlySpan<float> input, Span<float> output, Func<double, double> f, string op = "Unary")
    {
        if (f is null) ThrowHelper.ArgumentNull(nameof(f));
        ThrowHelper.IfTooShort(output.Length, input.Length, nameof(output), $"{op}'s input");
        for (int i = 0; i < input.Length; i++) output[i] = (float)f(input[i]);
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
        Binary(a, aShape, b, bShape, output, (x, y) => x + y, "Add");

    /// <summary>C = A ⊙ B, broadcast; <paramref name="output"/> holds the broadcast shape (<see cref="BinaryShape"/>).</summary>
    public static void Mul(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape, Span<float> output) =>
        Binary(a, aShape, b, bShape, output, (x, y) => x * y, "Mul");

    /// <summary>C = f(A, B) in double, broadcast; <paramref name="output"/> holds the broadcast shape (<see cref="BinaryShape"/>).</summary>
    public static void Binary(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape,
        Span<float> output, Func<double, double, double> f, string op)
    {
        if (f is null) ThrowHelper.ArgumentNull(nameof(f));
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
            output[i] = (float)f(x, y);
        }
    }

    /// <summary>
    /// The comparisons and logical operators (Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor) as
    /// 1/0 in double, for <see cref="Binary"/>: comparisons are false on NaN; logical operators read non-zero as true.
    /// </summary>
    public static Func<double, double, double> Logical(string op) => op switch
    {
        "Equal" => (a, b) => a == b ? 1 : 0,
        "Less" => (a, b) => a < b ? 1 : 0,
        "Greater" => (a, b) => a > b ? 1 : 0,
        "LessOrEqual" => (a, b) => a <= b ? 1 : 0,
        "GreaterOrEqual" => (a, b) => a >= b ? 1 : 0,
        "And" => (a, b) => a != 0 && b != 0 ? 1 : 0,
        "Or" => (a, b) => a != 0 || b != 0 ? 1 : 0,
        "Xor" => (a, b) => (a != 0) != (b != 0) ? 1 : 0,
        _ => throw new ArgumentException($"'{op}' is not a comparison or logical operator.", nameof(op)),
    };

    /// <summary>Logical Not: 1 where x is 0, else 0.</summary>
    public static void Not(ReadOnlySpan<float> input, Span<float> output) => Unary(input, output, v => v == 0 ? 1 : 0, "Not");

    /// <summary>
    /// PRelu: y = x &lt; 0 ? slope·x : x, the slope broadcast to x's shape (unidirectional: the output has x's shape).
    /// </summary>
    public static void PRelu(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, ReadOnlySpan<float> slope, ReadOnlySpan<int> slopeShape, Span<float> output)
    {
        int[] shape = BinaryShape(xShape, slopeShape, "PRelu");
        if (!shape.AsSpan().SequenceEqual(xShape))
            ThrowHelper.Shape("slope", $"PRelu: slope {Broadcast.Format(slopeShape)} does not broadcast to x {Broadcast.Format(xShape)}.");
        Binary(x, xShape, slope, slopeShape, output, ReferenceMath.LeakyRelu, "PRelu");
    }

    /// <summary>Output shape of Sum: the broadcast of all input shapes (at least one).</summary>
    public static int[] SumShape(IReadOnlyList<int[]> shapes) => VariadicShape(shapes, "Sum");

    /// <summary>Output shape of a variadic operator (Sum, Max, Min, Mean): the broadcast of all input shapes (at least one).</summary>
    public static int[] VariadicShape(IReadOnlyList<int[]> shapes, string op)
    {
        if (shapes is null) ThrowHelper.ArgumentNull(nameof(shapes));
        if (shapes.Count == 0) ThrowHelper.Argument(nameof(shapes), $"{op}: needs at least one input.");
        int[] shape = shapes[0];
        for (int k = 0; k < shapes.Count; k++)
        {
            ReferenceCheck.Count(shapes[k], $"inputs[{k}]", op);
            if (k > 0) shape = Broadcast.Shape(shape, shapes[k], op, $"inputs[{k}]");
        }
        return shape;
    }

    /// <summary>y = Σ_k inputs[k], each broadcast to <see cref="SumShape"/>, accumulated in double.</summary>
    public static void Sum(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, Span<float> output) =>
        Variadic(inputs, shapes, output, (acc, v) => acc + v, mean: false, "Sum");

    /// <summary>
    /// y = combine(…combine(inputs[0], inputs[1])…, inputs[k−1]) in double, each input broadcast to
    /// <see cref="VariadicShape"/>; divided by the count when <paramref name="mean"/> (Mean).
    /// </summary>
    public static void Variadic(IReadOnlyList<float[]> inputs, IReadOnlyList<int[]> shapes, Span<float> output,
        Func<double, double, double> combine, bool mean, string op)
    {
        if (inputs is null) ThrowHelper.ArgumentNull(nameof(inputs));
        if (combine is null) ThrowHelper.ArgumentNull(nameof(combine));
        int[] shape = VariadicShape(shapes, op);
        if (inputs.Count != shapes.Count)
            ThrowHelper.Argument(nameof(inputs), $"{op}: {inputs.Count} inputs but {shapes.Count} shapes.");
        var strides = new int[inputs.Count][];
        for (int k = 0; k < inputs.Count; k++)
        {
            ReferenceCheck.Data(inputs[k].Length, shapes[k], $"inputs[{k}]", op);
            strides[k] = Broadcast.Strides(shapes[k], shape);
        }
        ReferenceCheck.Output(output.Length, shape, op);
        int count = ReferenceCheck.Product(shape);
        for (int i = 0; i < count; i++)
        {
            double acc = inputs[0][Broadcast.SourceIndex(i, shape, strides[0])];
            for (int k = 1; k < inputs.Count; k++)
                acc = combine(acc, inputs[k][Broadcast.SourceIndex(i, shape, strides[k])]);
            output[i] = (float)(mean ? acc / inputs.Count : acc);
        }
    }
}
