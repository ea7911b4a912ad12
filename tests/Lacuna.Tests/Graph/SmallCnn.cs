using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// A small residual CNN built as an ONNX model in code:
/// x[N,3,8,8] → Conv3x3(8) → BN → Relu → MaxPool2 → Conv3x3(8, auto_pad SAME_UPPER) → Add(residual with the pool)
/// → GlobalAveragePool → Dropout → Flatten → Gemm(10, transB) → Softmax. Batch N is symbolic.
/// <see cref="Reference"/> computes the same function with the reference operators, node by node.
/// </summary>
internal static class SmallCnn
{
    public const int C = 3, H = 8, W = 8, M = 8, Classes = 10;

    public static readonly float[] W1 = TestData.Random(M * C * 9, 11, -0.5f, 0.5f), B1 = TestData.Random(M, 12);
    public static readonly float[] Scale = TestData.Random(M, 13, 0.5f, 1.5f), Shift = TestData.Random(M, 14),
        Mean = TestData.Random(M, 15, -0.2f, 0.2f), Var = TestData.Random(M, 16, 0.5f, 2f);
    public static readonly float[] W2 = TestData.Random(M * M * 9, 17, -0.3f, 0.3f), B2 = TestData.Random(M, 18);
    public static readonly float[] W3 = TestData.Random(Classes * M, 19), B3 = TestData.Random(Classes, 20);

    public static byte[] Bytes()
    {
        var g = new GraphProto { Name = "small_cnn" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, "N", C, H, W));
        g.Output.Add(ValueInfoProto.Tensor("probs", TensorDataType.Float, "N", Classes));
        void Init(string name, float[] v, params long[] dims) => g.Initializer.Add(TensorProto.FromFloats(name, dims, v));
        Init("W1", W1, M, C, 3, 3); Init("B1", B1, M);
        Init("scale", Scale, M); Init("shift", Shift, M); Init("mean", Mean, M); Init("var", Var, M);
        Init("W2", W2, M, M, 3, 3); Init("B2", B2, M);
        Init("W3", W3, Classes, M); Init("B3", B3, Classes);
        g.Node.Add(new NodeProto("Conv", "conv1", ["x", "W1", "B1"], ["c1"], AttributeProto.IntList("pads", 1, 1, 1, 1), AttributeProto.IntList("kernel_shape", 3, 3)));
        g.Node.Add(new NodeProto("BatchNormalization", "bn1", ["c1", "scale", "shift", "mean", "var"], ["b1"], AttributeProto.Float("epsilon", 1e-3f)));
        g.Node.Add(new NodeProto("Relu", "relu1", ["b1"], ["r1"]));
        g.Node.Add(new NodeProto("MaxPool", "pool1", ["r1"], ["p1"], AttributeProto.IntList("kernel_shape", 2, 2), AttributeProto.IntList("strides", 2, 2)));
        g.Node.Add(new NodeProto("Conv", "conv2", ["p1", "W2", "B2"], ["c2"], AttributeProto.String("auto_pad", "SAME_UPPER"), AttributeProto.IntList("kernel_shape", 3, 3)));
        g.Node.Add(new NodeProto("Add", "residual", ["c2", "p1"], ["a1"]));
        g.Node.Add(new NodeProto("GlobalAveragePool", "gap", ["a1"], ["g1"]));
        g.Node.Add(new NodeProto("Dropout", "drop", ["g1"], ["d1"]));
        g.Node.Add(new NodeProto("Flatten", "flat", ["d1"], ["f1"], AttributeProto.Int("axis", 1)));
        g.Node.Add(new NodeProto("Gemm", "fc", ["f1", "W3", "B3"], ["logits"], AttributeProto.Int("transB", 1)));
        g.Node.Add(new NodeProto("Softmax", "softmax", ["logits"], ["probs"], AttributeProto.Int("axis", 1)));
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 13));
        return new OnnxModel(model).ToBytes();
    }

    /// <summary>The network through the reference operators: probs [n, 10].</summary>
    public static float[] Reference(float[] x, int n)
    {
        int[] xs = [n, C, H, W], c1s = [n, M, H, W], p1s = [n, M, H / 2, W / 2];
        var c1 = new float[n * M * H * W];
        ReferenceConv2d.Compute(x, xs, W1, [M, C, 3, 3], B1, c1, Conv2dParams.Square(3, pad: 1));
        var b1 = new float[c1.Length];
        ReferenceNormalization.BatchNormalization(c1, c1s, Scale, Shift, Mean, Var, b1, 1e-3f);
        ReferenceElementwise.Relu(b1, b1);
        var p1 = new float[n * M * (H / 2) * (W / 2)];
        ReferencePool.MaxPool(b1, c1s, p1, Pool2dParams.Square(2, 2));
        var c2 = new float[p1.Length];
        ReferenceConv2d.Compute(p1, p1s, W2, [M, M, 3, 3], B2, c2, Conv2dParams.Square(3, pad: 1));
        var a1 = new float[p1.Length];
        ReferenceElementwise.Add(c2, p1s, p1, p1s, a1);
        var g1 = new float[n * M];
        ReferencePool.GlobalAveragePool(a1, p1s, g1);
        var logits = new float[n * Classes];
        ReferenceGemm.Compute(n, Classes, M, g1, M, false, W3, M, true, logits, Classes, bias: B3, biasAxis: BiasAxis.Column);
        var probs = new float[logits.Length];
        ReferenceNormalization.Softmax(logits, [n, Classes], probs, 1);
        return probs;
    }
}
