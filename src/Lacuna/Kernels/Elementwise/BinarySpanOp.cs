namespace Lacuna.Kernels.Elementwise;

/// <summary>y[i] = op(a[i], b[i]) over equal-length spans.</summary>
public delegate void SpanSpanOp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

/// <summary>y[i] = op(a[i], b): the right operand repeated over the run.</summary>
public delegate void SpanScalarOp(ReadOnlySpan<float> a, float b, Span<float> y);

/// <summary>y[i] = op(a, b[i]): the left operand repeated over the run.</summary>
public delegate void ScalarSpanOp(float a, ReadOnlySpan<float> b, Span<float> y);

/// <summary>y[i] = op(x[i]) over equal-length spans (y may be x).</summary>
public delegate void SpanUnaryOp(ReadOnlySpan<float> x, Span<float> y);

/// <summary>
/// A binary element-wise operation as the three contiguous-run shapes <see cref="BroadcastPlan"/> reduces any
/// broadcast to. Each may write in place (y aliasing a or b element for element).
/// </summary>
public sealed record BinarySpanOp(string Name, SpanSpanOp Both, SpanScalarOp RightScalar, ScalarSpanOp LeftScalar)
{
    /// <summary>A commutative operation: the left-scalar form reuses the right-scalar one with the operands swapped.</summary>
    public static BinarySpanOp Commutative(string name, SpanSpanOp both, SpanScalarOp rightScalar) =>
        new(name, both, rightScalar, (a, b, y) => rightScalar(b, a, y));
}
