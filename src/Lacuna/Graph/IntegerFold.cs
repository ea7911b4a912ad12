using Lacuna.Tensors;

namespace Lacuna.Graph;

/// <summary>
/// Exact integer arithmetic for element-wise nodes whose inputs are all integer constants (Add, Sub, Mul, Div, Max,
/// Min, Sum), evaluated at load in 64 bits and wrapped to the inputs' <see cref="IntegerType"/>: uint8 200 + 100 is 44,
/// Div truncates toward zero (as ONNX Runtime and the ONNX reference's astype do), unsigned types compare and divide
/// as unsigned. The float kernels the run time uses would round above 2^24 and not wrap.
/// </summary>
internal static class IntegerFold
{
    /// <summary>Whether <paramref name="n"/> is one of the operators above with NumPy broadcasting and only integer constant inputs.</summary>
    public static bool Handles(GraphNode n, GraphTensor?[] ins) =>
        (n.OpType is "Sum" or "Max" or "Min" || (n.OpType is "Add" or "Sub" or "Mul" or "Div" && n.Opset >= 7 && ins.Length == 2))
        && ins.Length > 0 && ins.All(t => t is { ElementType: GraphElementType.Int64 });

    public static GraphTensor Evaluate(GraphNode n, GraphTensor?[] ins)
    {
        var type = ins[0]!.IntegerType;
        int[] shape = ins[0]!.Dims;
        long[] acc = ins[0]!.Int64s!.Select(v => IntegerTypes.Wrap(v, type)).ToArray();
        for (int k = 1; k < ins.Length; k++)
        {
            var b = ins[k]!;
            int[] outShape = Broadcast.Shape(shape, b.Dims, n.Describe(), $"input {k}");
            int[] sa = Broadcast.Strides(shape, outShape), sb = Broadcast.Strides(b.Dims, outShape);
            var result = new long[Broadcast.ElementCount(outShape)];
            for (int i = 0; i < result.Length; i++)
                result[i] = IntegerTypes.Wrap(Apply(n, acc[Broadcast.SourceIndex(i, outShape, sa)], b.Int64s![Broadcast.SourceIndex(i, outShape, sb)], type), type);
            acc = result;
            shape = outShape;
        }
        return new GraphTensor("", shape, acc, type);
    }

    private static long Apply(GraphNode n, long a, long b, IntegerType type)
    {
        bool unsigned = IntegerTypes.IsUnsigned(type);
        return n.OpType switch
        {
            "Add" or "Sum" => unchecked(a + b),
            "Sub" => unchecked(a - b),
            "Mul" => unchecked(a * b),
            "Max" => (unsigned ? (ulong)a >= (ulong)b : a >= b) ? a : b,
            "Min" => (unsigned ? (ulong)a <= (ulong)b : a <= b) ? a : b,
            _ => b == 0 ? throw UnsupportedOperatorException.For(n, $"integer division by zero ({type}).")
                : unsigned ? (long)((ulong)a / (ulong)b)
                : b == -1 ? unchecked(-a) // long.MinValue / -1 overflows; the wrapped result is long.MinValue
                : a / b,
        };
    }
}
