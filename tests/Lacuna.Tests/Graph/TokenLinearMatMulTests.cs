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

    /// <summary>
    /// A Gelu after the fused linear becomes its epilogue (<see cref="GraphPasses.FuseGeluIntoMatMul"/>): one node in
    /// sparse and dense sessions, both equal to the reference MatMul + bias + Gelu; exported back as MatMul, Add, Gelu.
    /// </summary>
    [Theory]
    [InlineData(0.9, "none", 1, 1)]
    [InlineData(0.9, "tanh", 1, 7)]
    [InlineData(0.9, "none", 2, 64)]
    [InlineData(0.0, "none", 1, 128)]
    [InlineData(0.7, "tanh", 1, 128)]
    public void Gelu_AfterTheLinear_IsItsEpilogue(double sparsity, string approximate, int batch, int seq)
    {
        var (g, w, bias) = LinearGraph(sparsity, relu: false);
        g.Nodes[^1].Outputs[0] = "pre";
        g.Nodes.Add(new GraphNode("gelu", "Gelu", ["pre"], ["y"], [GraphAttribute.Of("approximate", approximate)], opset: 20));
        int rows = batch * seq;
        float[] x = TestData.Random(rows * K, (ulong)(rows + 5));
        var expected = Expected(x, rows, w, bias, relu: false);
        Lacuna.Kernels.Reference.ReferenceTransformer.Gelu(expected, expected, tanh: approximate == "tanh");
        foreach (var session in new[] { InferenceSession.Create(g), InferenceSession.Create(g, PassOptions.Dense) })
        {
            var fused = Assert.Single(session.Graph.Nodes);
            Assert.Equal(approximate == "tanh" ? Lacuna.Kernels.Elementwise.GeluApproximation.Tanh : Lacuna.Kernels.Elementwise.GeluApproximation.None, fused.FusedGelu);
            var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [batch, seq, K]) })["y"];
            ElementwiseCheck.Close(expected, y.Span, $"sparsity {sparsity} gelu {approximate} rows {rows}", rtol: 1e-4f, atol: 1e-5f);
        }
        // At the graph's opset 13 the Gelu goes back as the form exporters write; the re-import fuses it again.
        var exported = OnnxGraphExporter.ToModel(InferenceSession.Create(g).Graph);
        Assert.Equal(["MatMul", "Add"], exported.Graph.Node.Take(2).Select(n => n.OpType));
        Assert.Contains(exported.Graph.Node, n => n.OpType == (approximate == "tanh" ? "Tanh" : "Erf"));
        Assert.DoesNotContain(exported.Graph.Node, n => n.OpType == "Gelu");
        var reimported = OnnxGraphImporter.ToGraph(exported);
        Assert.Single(InferenceSession.Create(reimported).Graph.Nodes, n => n.FusedGelu is not null);
        var again = InferenceSession.Create(reimported, PassOptions.None);
        var y2 = again.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, [batch, seq, K]) })["y"];
        ElementwiseCheck.Close(expected, y2.Span, "re-imported export", rtol: 1e-4f, atol: 1e-5f);
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
