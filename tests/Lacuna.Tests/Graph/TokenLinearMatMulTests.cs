using Lacuna.Graph;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// MatMul(x [B, T, K], constant B [K, N]) + Add(bias [N]) (+ Relu), the linear layer of exported transformers:
/// fused into one MatMul node and run as a token-linear kernel, sparse in a sparse session when the weight is
/// pruned, dense in a dense session, both equal to the reference MatMul + bias (+ ReLU) at 1, 7 and 128 tokens.
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public class TokenLinearMatMulTests
{
    private const int K = 37, N = 45;

    private static (ModelGraph Graph, float[] W, float[] Bias) LinearGraph(double sparsity, bool relu, bool biasFirst = false)
    {
        float[] w = TestData.Random(K * N, 11, -0.5f, 0.5f), bias = TestData.Random(N, 12);
        if (sparsity > 0) Pruner.Magnitude(w, sparsity);
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, GraphValue.Symbolic, K], "N"));
        g.Outputs.Add(new GraphValue("y", null));
        g.AddInitializer(new GraphTensor("W", [K, N], w));
        g.AddInitializer(new GraphTensor("b", [N], bias));
        g.Nodes.Add(new GraphNode("fc", "MatMul", ["x", "W"], ["xw"]));
        g.Nodes.Add(new GraphNode("fc_bias", "Add", biasFirst ? ["b", "xw"] : ["xw", "b"], [relu ? "pre" : "y"]));
        if (relu) g.Nodes.Add(new GraphNode("act", "Relu", ["pre"], ["y"]));
        return (g, w, bias);
    }

    private static float[] Expected(float[] x, int rows, float[] w, float[] bias, bool relu)
    {
        var y = new float[rows * N];
        ReferenceMatMul.Compute(x, [rows, K], w, [K, N], y);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] += bias[i % N];
            if (relu) y[i] = MathF.Max(0f, y[i]);
        }
        return y;
    }

    [Theory]
    [InlineData(0.9, false, 1, 1)]
    [InlineData(0.9, true, 1, 7)]
    [InlineData(0.9, false, 2, 64)]
    [InlineData(0.7, true, 1, 128)]
    [InlineData(0.0, true, 1, 7)]
    public void FusedLinear_MatchesTheReference_InSparseAndDensePlans(double sparsity, bool relu, int batch, int seq)
    {
        var (g, w, bias) = LinearGraph(sparsity, relu, biasFirst: seq == 7);
        var sparse = InferenceSession.Create(g);
        var dense = InferenceSession.Create(g, PassOptions.Dense);
        // One MatMul node with the bias as its third input (and the ReLU as its epilogue).
        var fused = Assert.Single(sparse.Graph.Nodes);
        Assert.Equal("MatMul", fused.OpType);
        Assert.Equal(["x", "W", "b"], fused.Inputs);
        Assert.Equal(relu ? Lacuna.Kernels.ActivationKind.Relu : Lacuna.Kernels.ActivationKind.None, fused.FusedActivation.Kind);

        int rows = batch * seq;
        float[] x = TestData.Random(rows * K, (ulong)(rows + 3));
        var expected = Expected(x, rows, w, bias, relu);
        foreach (var (session, name) in new[] { (sparse, "sparse session"), (dense, "dense session") })
        {
            var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [batch, seq, K]) })["y"];
            Assert.Equal(new[] { batch, seq, N }, y.Shape.Dims.ToArray());
            ElementwiseCheck.Close(expected, y.Span, $"{name} sparsity {sparsity} relu {relu} rows {rows}", rtol: 1e-4f, atol: 1e-5f);
            string kernel = session.PlanFor(new Dictionary<string, int[]> { ["x"] = [batch, seq, K] }).Steps.Single().Kernel;
            Assert.StartsWith("TokenLinear ", kernel);
            // A dense session never builds a sparse candidate; a sparse one has one only for a pruned weight.
            if (session == dense || sparsity == 0) Assert.DoesNotContain("sparse", kernel);
            else Assert.Contains("sparse", kernel);
        }
    }

    [Fact]
    public void FusedLinear_ExportsAsMatMulAddRelu_AndReimportsToTheSameFunction()
    {
        var (g, w, bias) = LinearGraph(0.9, relu: true);
        var session = InferenceSession.Create(g);
        var exported = OnnxGraphExporter.ToModel(session.Graph);
        Assert.Equal(["MatMul", "Add", "Relu"], exported.Graph.Node.Select(n => n.OpType));
        var again = InferenceSession.Create(OnnxGraphImporter.ToGraph(exported), PassOptions.None);
        float[] x = TestData.Random(5 * K, 9);
        var y = again.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [1, 5, K]) })["y"];
        ElementwiseCheck.Close(Expected(x, 5, w, bias, relu: true), y.Span, "re-imported export", rtol: 1e-4f, atol: 1e-5f);
    }

    [Fact]
    public void MatMul_WhoseOutputIsAlsoUsedElsewhere_IsNotFused()
    {
        var (g, _, _) = LinearGraph(0.9, relu: false);
        g.Outputs.Add(new GraphValue("xw", null));
        Assert.Equal(0, GraphPasses.FuseMatMulBias(g));
        Assert.Equal(2, g.Nodes.Count);
    }
}
