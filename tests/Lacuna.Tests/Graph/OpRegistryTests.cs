using Lacuna.Graph;
using Lacuna.Graph.Ops;

namespace Lacuna.Tests.Graph;

/// <summary>The operator registry: one definition per (name, opset), cases for every operator, actionable errors.</summary>
public class OpRegistryTests
{
    private const string NodeTests = "/usr/share/libonnx-testdata/data/node";

    [Fact]
    public void NoTwoDefinitionsOfOneOperatorOverlap()
    {
        var overlaps = OpRegistry.Overlaps(OpRegistry.All).Select(p => $"{p.A} and {p.B}").ToList();
        Assert.True(overlaps.Count == 0, string.Join("; ", overlaps));
        Assert.True(OpRegistry.All.Count >= 20, $"only {OpRegistry.All.Count} definitions");
    }

    [Fact]
    public void OverlapCheckFindsAnOverlap()
    {
        var relu = OpRegistry.Named("Relu")[0];
        var clash = new OpDef("Relu", new(6, 30), OpTraits.Elementwise, relu.InferShapes, relu.Compile);
        var found = OpRegistry.Overlaps([.. OpRegistry.All, clash]).ToList();
        Assert.Single(found);
        Assert.Equal("Relu", found[0].A.Name);
    }

    [Fact]
    public void EveryRangeIsBoundedAndOrdered()
    {
        foreach (var d in OpRegistry.All)
            Assert.True(d.Opsets.From >= 1 && d.Opsets.From <= d.Opsets.To && d.Opsets.To <= 30, d.ToString());
    }

    /// <summary>Every operator owns ONNX node tests (like ggml's coverage check): an operator without cases is untested.</summary>
    [Fact]
    public void EveryOperatorOwnsNodeTests()
    {
        Assert.True(Directory.Exists(NodeTests), $"{NodeTests} is missing: install libonnx-testdata.");
        var cases = Directory.GetDirectories(NodeTests).Select(Path.GetFileName).ToList();
        var without = OpRegistry.All.Where(d => !d.Traits.HasFlag(OpTraits.Internal) && d.NoNodeTests is null && !cases.Any(c => d.OwnsCase(c!))).Select(d => d.ToString()).ToList();
        Assert.True(without.Count == 0, $"no node tests for: {string.Join(", ", without)}");
    }

    [Fact]
    public void CaseOwnershipHonoursExclusions()
    {
        var softmax = OpRegistry.Named("Softmax")[^1];
        Assert.True(softmax.OwnsCase("test_softmax_axis_0"));
        Assert.True(softmax.OwnsCase("test_softmax"));
        Assert.False(softmax.OwnsCase("test_softmax_cross_entropy_mean"));
        Assert.False(softmax.OwnsCase("test_softmaxfoo"));
    }

    [Fact]
    public void UnsupportedOpsetNamesNodeOperatorOpsetAndRanges()
    {
        var n = new GraphNode("soft", "Softmax", ["x"], ["y"], opset: 99);
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpRegistry.Resolve(n));
        Assert.Contains("'soft'", e.Message);
        Assert.Contains("Softmax", e.Message);
        Assert.Contains("opset 99", e.Message);
        Assert.Contains("[1-12]", e.Message);
        Assert.Contains("[13-21]", e.Message);
    }

    [Fact]
    public void UnknownOperatorIsUnsupported()
    {
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpRegistry.Resolve(new GraphNode("q", "NoSuchOp", ["x"], ["y"])));
        Assert.Contains("NoSuchOp node 'q'", e.Message);
        Assert.Null(OpRegistry.AttributesOf("NoSuchOp"));
    }

    [Theory]
    [InlineData("Softmax", 12, 1)]
    [InlineData("Softmax", 13, 13)]
    [InlineData("Reshape", 4, 1)]
    [InlineData("Reshape", 5, 5)]
    public void ResolvePicksTheRangeHoldingTheOpset(string op, int opset, int from)
    {
        var d = OpRegistry.Resolve(new GraphNode("n", op, ["x"], ["y"], opset: opset));
        Assert.Equal(from, d.Opsets.From);
    }

    [Fact]
    public void AttributeOfAnotherRangeIsNamed()
    {
        var n = new GraphNode("a", "Add", ["x", "y"], ["z"], [GraphAttribute.Of("broadcast", 1L)], opset: 13);
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpRegistry.Resolve(n));
        Assert.Contains("attribute 'broadcast'", e.Message);
        Assert.Contains("Add [7-21]", e.Message);
        n.Opset = 6;
        Assert.Equal(1, OpRegistry.Resolve(n).Opsets.From);
    }
}
