using Lacuna.Graph;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Comparisons and logical operators against <see cref="ReferenceElementwise.Logical"/>: every broadcast form
/// (same shape, scalar either side, inner and outer broadcast), NaN/±Inf and ±0, bool (0/1) and integer data,
/// and the span kernels at lengths around every vector width, in place.
/// </summary>
public class LogicalOpTests
{
    public static TheoryData<string> Binary() => ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"];

    private static readonly (int[] A, int[] B)[] Shapes =
    [
        ([2, 3, 5, 17], [2, 3, 5, 17]), ([2, 3, 5, 17], [3, 1, 17]), ([33], []), ([], [15]), ([4, 1, 9], [1, 7, 1]), ([7, 1], [8]),
    ];

    [Theory]
    [MemberData(nameof(Binary))]
    public void Binary_operator_matches_the_reference_with_broadcasting(string op)
    {
        ulong seed = 11;
        foreach (var (a, b) in Shapes)
        foreach (string data in new[] { "float", "specials", "bool", "int" })
        {
            var x = Values(data, Broadcast.ElementCount(a), seed++);
            var w = Values(data, Broadcast.ElementCount(b), seed++);
            // Equal values must occur for Equal / LessOrEqual to be tested: copy some of x into w where shapes agree.
            if (a.AsSpan().SequenceEqual(b)) for (int i = 0; i < w.Length; i += 4) w[i] = x[i];
            int[] shape = ReferenceElementwise.BinaryShape(a, b, op);
            var expected = new float[Broadcast.ElementCount(shape)];
            ReferenceElementwise.Binary(x, a, w, b, expected, ReferenceElementwise.Logical(op), op);
            var node = new GraphNode("c", op, ["a", "b"], ["y"], opset: op.EndsWith("OrEqual", StringComparison.Ordinal) ? 16 : 13);
            var y = ElementwiseCheck.RunNode(node, [x, w], [a, b])[0];
            Assert.True(expected.AsSpan().SequenceEqual(y), $"{op} {Broadcast.Format(a)} vs {Broadcast.Format(b)} ({data}): first difference at {Diff(expected, y)}");
        }
    }

    [Fact]
    public void Not_matches_the_reference()
    {
        foreach (string data in new[] { "float", "specials", "bool" })
        {
            var x = Values(data, 37, 5);
            var expected = new float[37];
            ReferenceElementwise.Not(x, expected);
            var y = ElementwiseCheck.RunNode(new GraphNode("n", "Not", ["x"], ["y"], opset: 1), [x], [[37]])[0];
            Assert.Equal(expected, y);
        }
    }

    [Theory]
    [MemberData(nameof(Binary))]
    public void Span_kernels_match_the_scalar_definition_at_every_length_in_place(string op)
    {
        var kernel = (BinarySpanOp)typeof(CompareKernels).GetProperty(op)!.GetValue(null)!;
        var f = ReferenceElementwise.Logical(op);
        for (int n = 0; n <= 41; n++)
        {
            var a = Values("specials", n, (ulong)n + 100);
            var b = Values("specials", n, (ulong)n + 200);
            for (int i = 0; i < n; i += 3) b[i] = a[i];
            var both = a.ToArray();
            kernel.Both(both, b, both); // in place over a
            var right = new float[n];
            float s = n > 0 ? a[n / 2] : 1f;
            kernel.RightScalar(a, s, right);
            var left = new float[n];
            kernel.LeftScalar(s, b, left);
            for (int i = 0; i < n; i++)
            {
                Assert.True((float)f(a[i], b[i]) == both[i], $"{op} n={n} both[{i}] ({a[i]}, {b[i]})");
                Assert.True((float)f(a[i], s) == right[i], $"{op} n={n} right[{i}] ({a[i]}, {s})");
                Assert.True((float)f(s, b[i]) == left[i], $"{op} n={n} left[{i}] ({s}, {b[i]})");
            }
        }
    }

    [Fact]
    public void Comparisons_need_two_inputs_that_broadcast()
    {
        var node = new GraphNode("c", "Less", ["a", "b"], ["y"], opset: 13);
        var e = Assert.ThrowsAny<ArgumentException>(() => ElementwiseCheck.RunNode(node, [new float[6], new float[4]], [[2, 3], [4]]));
        Assert.Contains("Less", e.Message);
    }

    private static float[] Values(string kind, int n, ulong seed) => kind switch
    {
        "specials" => ElementwiseCheck.Data(n, seed, true),
        "bool" => ElementwiseCheck.Data(n, seed, false).Select(v => v > 0 ? 1f : 0f).ToArray(),
        "int" => ElementwiseCheck.Data(n, seed, false, -5, 5).Select(v => MathF.Round(v)).ToArray(),
        _ => ElementwiseCheck.Data(n, seed, false),
    };

    private static int Diff(float[] e, float[] a)
    {
        for (int i = 0; i < e.Length; i++) if (e[i] != a[i]) return i;
        return -1;
    }
}
