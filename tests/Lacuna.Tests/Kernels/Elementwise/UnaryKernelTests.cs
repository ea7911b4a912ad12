using Lacuna.Graph;
using Lacuna.Graph.Ops.Operators;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Elementwise;

/// <summary>
/// Every unary element-wise row's fast span form against its double-precision definition: lengths around each vector
/// width, wide value ranges, NaN/±Inf/±0 inputs, NaN-poisoned outputs, and in place; on every ISA tier the suite runs on.
/// </summary>
public class UnaryKernelTests
{
    public static TheoryData<string> Rows()
    {
        var d = new TheoryData<string>();
        foreach (var r in ActivationOps.UnaryRows) d.Add(r.Name);
        return d;
    }

    /// <summary>Non-default attributes, so a row that ignored them would fail.</summary>
    private static GraphNode NodeFor(UnaryRow row) => new("u", row.Name, ["x"], ["y"], row.Name switch
    {
        "LeakyRelu" => [GraphAttribute.Of("alpha", 0.3f)],
        "Elu" => [GraphAttribute.Of("alpha", 0.7f)],
        "Selu" => [GraphAttribute.Of("alpha", 1.5f), GraphAttribute.Of("gamma", 1.2f)],
        "HardSigmoid" => [GraphAttribute.Of("alpha", 0.25f), GraphAttribute.Of("beta", 0.4f)],
        _ => [],
    }, opset: row.Opsets.To);

    [Theory]
    [MemberData(nameof(Rows))]
    public void Fast_form_matches_the_reference(string name)
    {
        var row = ActivationOps.UnaryRows.Single(r => r.Name == name);
        var fns = row.Bind(NodeFor(row));
        foreach (int n in TestData.EdgeSizes(4, 8, 16, 32, 64))
            foreach (bool specials in new[] { false, true })
            {
                var x = ElementwiseCheck.Data(n, (ulong)(n + 1), specials, -6f, 6f);
                var expected = new float[n];
                ReferenceElementwise.Unary(x, expected, fns.Reference, name);
                var actual = TestData.Poisoned(n);
                fns.Fast(x, actual);
                ElementwiseCheck.Close(expected, actual, $"{name} n={n} specials={specials}");
                fns.Fast(x, x); // in place
                ElementwiseCheck.Close(expected, x, $"{name} in place n={n} specials={specials}");
            }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Node_runs_the_fast_form(string name)
    {
        var row = ActivationOps.UnaryRows.Single(r => r.Name == name);
        var node = NodeFor(row);
        int[] shape = [2, 3, 7];
        var x = ElementwiseCheck.Data(42, 9, false, -3f, 3f);
        var expected = new float[42];
        ReferenceElementwise.Unary(x, expected, row.Bind(node).Reference, name);
        ElementwiseCheck.Close(expected, ElementwiseCheck.RunNode(node, [x], [shape])[0], name);
    }

    /// <summary>Small arguments where eˣ−1, ln(1+e) and erf's series decide the relative error.</summary>
    [Fact]
    public void Small_arguments_keep_their_relative_accuracy()
    {
        float[] x = [1e-7f, -1e-7f, 3e-4f, -3e-4f, 0.009f, -0.009f, 0.49f, -0.51f, -30f, -80f, 30f];
        foreach (var (name, reference, fast) in new (string, Func<double, double>, SpanUnaryOp)[]
        {
            ("Erf", ReferenceMath.Erf, UnaryKernels.Erf),
            ("Elu", v => ReferenceMath.Elu(v, 1), (a, b) => UnaryKernels.Elu(a, b, 1f)),
            ("Softplus", ReferenceMath.Softplus, UnaryKernels.Softplus),
        })
        {
            var expected = new float[x.Length];
            ReferenceElementwise.Unary(x, expected, reference, name);
            var actual = TestData.Poisoned(x.Length);
            fast(x, actual);
            ElementwiseCheck.Close(expected, actual, name, rtol: 1e-5f, atol: 0f);
        }
    }

    [Fact]
    public void Reference_erf_matches_known_values()
    {
        Assert.Equal(0.8427007929497149, ReferenceMath.Erf(1), 12);
        Assert.Equal(-0.9953222650189527, ReferenceMath.Erf(-2), 12);
        Assert.Equal(0.0112834155558496, ReferenceMath.Erf(0.01), 12);
        Assert.Equal(1.0, ReferenceMath.Erf(7), 15);
        Assert.True(double.IsNaN(ReferenceMath.Erf(double.NaN)));
    }

    [Fact]
    public void Clip_equals_the_reference_bit_for_bit()
    {
        foreach (int n in TestData.EdgeSizes(8, 16))
            foreach (var (lo, hi) in new[] { (-0.5f, 0.5f), (0f, 6f), (1f, -1f), (float.NegativeInfinity, 0.25f) })
            {
                var x = ElementwiseCheck.Data(n, (ulong)n, specials: true);
                var expected = new float[n];
                ReferenceElementwise.Clip(x, expected, lo, hi);
                var actual = TestData.Poisoned(n);
                UnaryKernels.Clip(x, actual, lo, hi);
                KernelAssert.Exact(expected, actual, $"Clip({lo}, {hi}) n={n}");
            }
    }
}

/// <summary>Large tensors split across threads compute what one thread does, for unary and broadcast binary work.</summary>
public class ElementwiseParallelTests
{
    [Theory]
    [InlineData(1 << 16)]
    [InlineData(200_003)]
    public void Threaded_unary_equals_one_thread(int n)
    {
        var x = ElementwiseCheck.Data(n, 7, specials: true, -6f, 6f);
        var one = TestData.Poisoned(n);
        var two = TestData.Poisoned(n);
        ElementwiseParallel.Unary(UnaryKernels.Erf, x, one, threads: 1);
        ElementwiseParallel.Unary(UnaryKernels.Erf, x, two, threads: 2);
        KernelAssert.Exact(one, two, $"Erf n={n}");
        var expected = new float[n];
        ReferenceElementwise.Unary(x, expected, ReferenceMath.Erf, "Erf");
        ElementwiseCheck.Close(expected, two, "Erf threaded");
    }

    [Theory]
    [InlineData(new[] { 1, 64, 56, 56 }, new[] { 1, 64, 56, 56 })] // one long run, split by elements
    [InlineData(new[] { 2, 64, 33, 35 }, new[] { 1, 64, 1, 1 })]   // per-channel runs, split by runs
    [InlineData(new[] { 70001 }, new int[0])]                       // scalar
    [InlineData(new[] { 3, 1, 40000 }, new[] { 1, 2, 1 })]          // both repeat: 6 runs of 40000
    public void Threaded_broadcast_equals_one_thread(int[] aShape, int[] bShape)
    {
        var plan = new BroadcastPlan(aShape, bShape);
        var a = ElementwiseCheck.Data(plan.ALength, 8, specials: false);
        var b = ElementwiseCheck.Data(plan.BLength, 9, specials: false);
        var one = TestData.Poisoned(plan.Count);
        var two = TestData.Poisoned(plan.Count);
        plan.Run(a, b, one, BinaryKernels.Sub, threads: 1);
        plan.Run(a, b, two, BinaryKernels.Sub, threads: 2);
        KernelAssert.Exact(one, two, "Sub threaded");
        var expected = new float[plan.Count];
        ReferenceElementwise.Binary(a, aShape, b, bShape, expected, (p, q) => p - q, "Sub");
        ElementwiseCheck.Close(expected, two, "Sub threaded vs reference");
    }
}
