using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Tests.Kernels.Elementwise;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Range: constant (or shape-derived, DynamicShapeTests) operands fix its length at plan time; one computed from input
/// values is refused naming the node, the operand and why, since a plan sizes every buffer before it runs.
/// </summary>
public class RangeOpTests
{
    [Fact]
    public void ConstantOperands_FillTheRange()
    {
        var n = new GraphNode("range", "Range", ["s", "l", "d"], ["y"], opset: 11);
        GraphTensor Scalar(float v) => new("c", [], [v]);
        GraphTensor?[] constants = [Scalar(3f), Scalar(-2f), Scalar(-1.5f)];
        var y = ElementwiseCheck.RunNode(n, [[3f], [-2f], [-1.5f]], [[], [], []], i => constants[i])[0];
        Assert.Equal(new[] { 3f, 1.5f, 0f, -1.5f }, y);
    }

    [Fact]
    public void OperandFromInputValues_IsRefusedWithTheReason()
    {
        var n = new GraphNode("range_rt", "Range", ["s", "l", "d"], ["y"], opset: 11);
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpCompiler.Compile(n, [[], [], []], i => i == 1 ? null : new GraphTensor("c", [], [1f]), null));
        Assert.Contains("'range_rt'", e.Message);
        Assert.Contains("limit is computed from input values", e.Message);
        Assert.Contains("output length depends on start, limit and delta", e.Message);
    }
}
