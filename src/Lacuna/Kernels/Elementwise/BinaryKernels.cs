using System.Numerics;
using System.Numerics.Tensors;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// The span forms of the binary element-wise operators that <see cref="BroadcastPlan"/> drives: TensorPrimitives
/// (vectorized on every tier) where it has the operation, <see cref="VectorMap"/> otherwise.
/// </summary>
public static class BinaryKernels
{
    public static BinarySpanOp Add { get; } = BinarySpanOp.Commutative("Add", TensorPrimitives.Add, TensorPrimitives.Add);
    public static BinarySpanOp Mul { get; } = BinarySpanOp.Commutative("Mul", TensorPrimitives.Multiply, TensorPrimitives.Multiply);
    public static BinarySpanOp Max { get; } = BinarySpanOp.Commutative("Max", TensorPrimitives.Max, TensorPrimitives.Max);
    public static BinarySpanOp Min { get; } = BinarySpanOp.Commutative("Min", TensorPrimitives.Min, TensorPrimitives.Min);
    public static BinarySpanOp Sub { get; } = new("Sub", TensorPrimitives.Subtract, TensorPrimitives.Subtract, TensorPrimitives.Subtract);
    public static BinarySpanOp Div { get; } = new("Div", TensorPrimitives.Divide, TensorPrimitives.Divide, TensorPrimitives.Divide);
    public static BinarySpanOp Pow { get; } = new("Pow", TensorPrimitives.Pow, TensorPrimitives.Pow, TensorPrimitives.Pow);

    /// <summary>y = x &lt; 0 ? slope·x : x, a = x, b = slope.</summary>
    public static BinarySpanOp PRelu { get; } = new("PRelu",
        (x, s, y) => VectorMap.Binary(x, s, y, default(PReluOp)),
        (x, s, y) => UnaryKernels.LeakyRelu(x, y, s),
        (x, s, y) =>
        {
            if (x < 0f) TensorPrimitives.Multiply(s, x, y);
            else y.Fill(x);
        });

    /// <summary>y = a broadcast (b unread): the first input of a variadic operator spread over the output shape.</summary>
    public static BinarySpanOp First { get; } = new("Expand", (a, _, y) => a.CopyTo(y), (a, _, y) => a.CopyTo(y), (a, _, y) => y.Fill(a));

    private readonly struct PReluOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> x, Vector<float> s) => Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), x * s, x);
        public float Apply(float x, float s) => x < 0f ? x * s : x;
    }
}
