using System.Numerics;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// Comparisons and logical operators as <see cref="BinarySpanOp"/>s writing bool as 1/0 floats (the engine carries
/// bool and int64 values as exact floats), on <see cref="VectorMap"/> (<see cref="Vector{T}"/> on every tier).
/// Comparisons are ordered: any NaN operand gives 0 (false). Logical operators read any non-zero as true.
/// </summary>
public static class CompareKernels
{
    public static BinarySpanOp Equal { get; } = Make("Equal", default(EqualOp));
    public static BinarySpanOp Less { get; } = Make("Less", default(LessOp));
    public static BinarySpanOp Greater { get; } = Make("Greater", default(GreaterOp));
    public static BinarySpanOp LessOrEqual { get; } = Make("LessOrEqual", default(LessOrEqualOp));
    public static BinarySpanOp GreaterOrEqual { get; } = Make("GreaterOrEqual", default(GreaterOrEqualOp));
    public static BinarySpanOp And { get; } = Make("And", default(AndOp));
    public static BinarySpanOp Or { get; } = Make("Or", default(OrOp));
    public static BinarySpanOp Xor { get; } = Make("Xor", default(XorOp));

    /// <summary>y = (x == 0) as 1/0: logical Not.</summary>
    public static void Not(ReadOnlySpan<float> x, Span<float> y) => VectorMap.Unary(x, y, default(NotOp));

    private static BinarySpanOp Make<T>(string name, T op) where T : struct, IVectorBinary =>
        new(name, (a, b, y) => VectorMap.Binary(a, b, y, op), (a, b, y) => VectorMap.RightScalar(a, b, y, op), (a, b, y) => VectorMap.LeftScalar(a, b, y, op));

    private static Vector<float> OneWhere(Vector<int> mask) => Vector.ConditionalSelect(mask, Vector<float>.One, Vector<float>.Zero);
    private static Vector<int> IsZero(Vector<float> v) => Vector.Equals(v, Vector<float>.Zero);

    private readonly struct EqualOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.Equals(a, b));
        public float Apply(float a, float b) => a == b ? 1f : 0f;
    }

    private readonly struct LessOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.LessThan(a, b));
        public float Apply(float a, float b) => a < b ? 1f : 0f;
    }

    private readonly struct GreaterOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.GreaterThan(a, b));
        public float Apply(float a, float b) => a > b ? 1f : 0f;
    }

    private readonly struct LessOrEqualOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.LessThanOrEqual(a, b));
        public float Apply(float a, float b) => a <= b ? 1f : 0f;
    }

    private readonly struct GreaterOrEqualOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.GreaterThanOrEqual(a, b));
        public float Apply(float a, float b) => a >= b ? 1f : 0f;
    }

    private readonly struct AndOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.OnesComplement(IsZero(a) | IsZero(b)));
        public float Apply(float a, float b) => a != 0 && b != 0 ? 1f : 0f;
    }

    private readonly struct OrOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(Vector.OnesComplement(IsZero(a) & IsZero(b)));
        public float Apply(float a, float b) => a != 0 || b != 0 ? 1f : 0f;
    }

    private readonly struct XorOp : IVectorBinary
    {
        public Vector<float> Apply(Vector<float> a, Vector<float> b) => OneWhere(IsZero(a) ^ IsZero(b));
        public float Apply(float a, float b) => (a != 0) != (b != 0) ? 1f : 0f;
    }

    private readonly struct NotOp : IVectorUnary
    {
        public Vector<float> Apply(Vector<float> x) => OneWhere(IsZero(x));
        public float Apply(float x) => x == 0 ? 1f : 0f;
    }
}
