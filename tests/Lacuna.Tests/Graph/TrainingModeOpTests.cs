using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Training-mode Dropout and BatchNormalization through the registry. Dropout in training with ratio 0 (known at load
/// or read at run time) is the identity with an all-true mask; a non-zero ratio (a random mask) is refused naming the
/// node, at load when known and on the call otherwise. BatchNormalization at opset 14+ with training_mode = 1 outputs
/// Y and the running statistics of <see cref="ReferenceBatchNormTraining"/>; earlier opsets' statistics outputs are
/// refused. The ONNX node tests (test_training_dropout_zero_ratio*, test_batchnorm_*_training_mode) run in ConformanceTests.
/// </summary>
public class TrainingModeOpTests
{
    private static readonly int[] Shape = [2, 3, 5];
    private static readonly float[] X = TestData.Random(30, 41, -2f, 2f);

    private static GraphNode Dropout(bool mask) =>
        new("drop", "Dropout", ["x", "ratio", "training"], mask ? ["y", "mask"] : ["y"], opset: 13);

    private static GraphTensor Scalar(string name, float v) => new(name, [], [v]);

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Dropout_TrainingWithRatioZero_IsTheIdentityWithAnAllTrueMask(bool ratioKnown, bool mask)
    {
        var n = Dropout(mask);
        GraphTensor? Constant(int i) => i == 2 ? Scalar("training", 1f) : i == 1 && ratioKnown ? Scalar("ratio", 0f) : null;
        var outs = ElementwiseCheck.RunNode(n, [X, [0f], [1f]], [Shape, [], []], Constant);
        Assert.Equal(X, outs[0]);
        if (mask) Assert.All(outs[1], v => Assert.Equal(1f, v));
        Assert.Equal(mask ? 2 : 1, outs.Length);
    }

    [Fact]
    public void Dropout_RandomMask_IsRefusedNamingTheNode()
    {
        var known = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(Dropout(true), [X, [0.5f], [1f]], [Shape, [], []],
            i => i == 1 ? Scalar("ratio", 0.5f) : i == 2 ? Scalar("training", 1f) : null));
        Assert.Contains("'drop'", known.Message);
        Assert.Contains("ratio 0.5", known.Message);
        // Read at run time: the same refusal on the call, and a run-time training_mode = false is inference.
        var runtime = Assert.Throws<UnsupportedOperatorException>(() => ElementwiseCheck.RunNode(Dropout(false), [X, [0.25f], [1f]], [Shape, [], []]));
        Assert.Contains("ratio 0.25", runtime.Message);
        Assert.Equal(X, ElementwiseCheck.RunNode(Dropout(false), [X, [0.25f], [0f]], [Shape, [], []])[0]);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    public void BatchNorm_TrainingMode_OutputsTheReferenceStatistics(int outputs)
    {
        int[] shape = [3, 4, 2, 5];
        int c = 4, count = 120;
        var x = TestData.Random(count, 42, -1f, 3f);
        float[] scale = TestData.Random(c, 43), bias = TestData.Random(c, 44), mean = TestData.Random(c, 45), variance = TestData.Random(c, 46, 0.2f, 1.5f);
        var n = new GraphNode("bn", "BatchNormalization", ["x", "s", "b", "m", "v"], new[] { "y", "rm", "rv" }.Take(outputs),
            [GraphAttribute.Of("training_mode", 1L), GraphAttribute.Of("momentum", 0.6f), GraphAttribute.Of("epsilon", 1e-3f)], opset: 15);
        var outs = ElementwiseCheck.RunNode(n, [x, scale, bias, mean, variance], [shape, [c], [c], [c], [c]]);
        float[] y = new float[count], rm = new float[c], rv = new float[c];
        ReferenceBatchNormTraining.Compute(x, shape, scale, bias, mean, variance, y, rm, rv, 1e-3f, 0.6f);
        Assert.Equal(outputs, outs.Length);
        KernelAssert.Close(y, outs[0], 30, "Y", rtol: 1e-4f);
        if (outputs == 1) return;
        KernelAssert.Close(rm, outs[1], 30, "running_mean", rtol: 1e-4f);
        KernelAssert.Close(rv, outs[2], 30, "running_var", rtol: 1e-4f);
    }

    [Fact]
    public void BatchNorm_StatisticsOutputs_OutsideTrainingMode_AreRefused()
    {
        int[][] shapes = [[1, 2, 3], [2], [2], [2], [2]];
        var opset9 = new GraphNode("bn9", "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], opset: 9);
        Assert.Contains("before opset 14", Assert.Throws<UnsupportedOperatorException>(() => OpCompilerCompile(opset9, shapes)).Message);
        var inference = new GraphNode("bn15", "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], opset: 15);
        var e = Assert.Throws<UnsupportedOperatorException>(() => OpCompilerCompile(inference, shapes));
        Assert.Contains("'bn15'", e.Message);
        Assert.Contains("training_mode = 0", e.Message);
    }

    [Fact]
    public void FoldBatchNorm_LeavesATrainingModeBatchNormAlone()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [2, 3, 4, 4]));
        g.Outputs.Add(new GraphValue("y", null));
        g.AddInitializer(new GraphTensor("W", [3, 3, 1, 1], TestData.Random(9, 1)));
        foreach (var name in new[] { "s", "b", "m" }) g.AddInitializer(new GraphTensor(name, [3], TestData.Random(3, 2)));
        g.AddInitializer(new GraphTensor("v", [3], TestData.Random(3, 3, 0.5f, 1f)));
        g.Nodes.Add(new GraphNode("conv", "Conv", ["x", "W"], ["c"]));
        g.Nodes.Add(new GraphNode("bn", "BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], [GraphAttribute.Of("training_mode", 1L)], opset: 15));
        Assert.Equal(0, GraphPasses.FoldBatchNorm(g));
        Assert.Equal(2, g.Nodes.Count);
    }

    private static object OpCompilerCompile(GraphNode n, int[][] shapes) => Lacuna.Graph.Ops.OpCompiler.Compile(n, shapes, _ => null, null);
}
