using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// A Gemm node with constant weights runs matrix-vector products at batch ≤ GemvMaxRows and on the weights packed once
/// above, stored transposed or not.
/// </summary>
public class GemmConstantWeightTests
{
    private static byte[] Model(int k, int n, bool transB, float[] w, float[] bias)
    {
        var g = new GraphProto { Name = "fc" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, "N", k));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, "N", n));
        g.Initializer.Add(TensorProto.FromFloats("W", transB ? new long[] { n, k } : new long[] { k, n }, w));
        g.Initializer.Add(TensorProto.FromFloats("B", new long[] { n }, bias));
        g.Node.Add(new NodeProto("Gemm", "fc", ["x", "W", "B"], ["y"], AttributeProto.Int("transB", transB ? 1 : 0)));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        return new OnnxModel(model).ToBytes();
    }

    [Fact]
    public void PackedConstantB_MatchesReference_TransposedOrNot_AtSeveralBatches()
    {
        foreach (bool transB in new[] { false, true })
            foreach (var (k, n) in new[] { (37, 17), (200, 33) })
            {
                float[] w = TestData.Random(k * n, (ulong)(k + n)), bias = TestData.Random(n, 3);
                var s = InferenceSession.Create(OnnxGraphImporter.ToGraph(OnnxModel.Parse(Model(k, n, transB, w, bias))));
                foreach (int batch in new[] { 1, 2, 5, 19 })
                {
                    var plan = s.PlanFor(batch);
                    Assert.Contains(batch <= Lacuna.Graph.Ops.GemmKernel.GemvMaxRows ? "Gemv" : "packed once",
                        plan.Steps.Single(st => st.Node.OpType == "Gemm").Kernel);
                    float[] x = TestData.Random(batch * k, (ulong)batch);
                    var expected = TestData.Poisoned(batch * n);
                    ReferenceGemm.Compute(batch, n, k, x, k, false, w, transB ? k : n, transB, expected, n, 1f, 0f, bias, BiasAxis.Column);
                    var y = s.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, batch, k) })["y"].ToArray();
                    KernelAssert.Close(expected, y, k, $"transB={transB} k={k} n={n} batch={batch}");
                }
            }
    }
}
