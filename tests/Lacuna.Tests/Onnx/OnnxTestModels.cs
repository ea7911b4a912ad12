using Lacuna.Onnx;
using Lacuna.Tensors;

namespace Lacuna.Tests.Onnx;

/// <summary>Small valid ONNX models built in code: the seeds for round-trip, hostile-input and fuzz tests.</summary>
internal static class OnnxTestModels
{
    /// <summary>
    /// x[N,1,8,8] → Conv(4, 3x3, pad 1) → Relu → MaxPool(2x2) → Flatten → Gemm(64→10) → y[N,10].
    /// Weights in raw_data (the writer's form); the Gemm bias in float_data (the other common form).
    /// </summary>
    public static ModelProto ConvNet(ulong seed = 1)
    {
        var rng = new DeterministicRandom(seed);
        var g = new GraphProto { Name = "tiny_convnet", DocString = "conv → relu → maxpool → gemm" };
        g.Input.Add(ValueInfoProto.Tensor("x", TensorDataType.Float, "N", 1, 8, 8));
        g.Output.Add(ValueInfoProto.Tensor("y", TensorDataType.Float, "N", 10));
        g.ValueInfo.Add(ValueInfoProto.Tensor("conv_out", TensorDataType.Float, "N", 4, 8, 8));

        g.Initializer.Add(TensorProto.FromFloats("conv.w", [4, 1, 3, 3], Random(ref rng, 36)));
        g.Initializer.Add(TensorProto.FromFloats("conv.b", [4], Random(ref rng, 4)));
        g.Initializer.Add(TensorProto.FromFloats("fc.w", [10, 64], Random(ref rng, 640)));
        var fcBias = new TensorProto { Name = "fc.b", DataType = TensorDataType.Float };
        fcBias.Dims.Add(10);
        fcBias.FloatData.AddRange(Random(ref rng, 10));
        g.Initializer.Add(fcBias);

        g.Node.Add(new NodeProto("Conv", "conv", ["x", "conv.w", "conv.b"], ["conv_out"],
            AttributeProto.IntList("kernel_shape", 3, 3), AttributeProto.IntList("pads", 1, 1, 1, 1),
            AttributeProto.IntList("strides", 1, 1), AttributeProto.Int("group", 1)));
        g.Node.Add(new NodeProto("Relu", "relu", ["conv_out"], ["relu_out"]));
        g.Node.Add(new NodeProto("MaxPool", "pool", ["relu_out"], ["pool_out"],
            AttributeProto.IntList("kernel_shape", 2, 2), AttributeProto.IntList("strides", 2, 2),
            AttributeProto.String("auto_pad", "NOTSET")));
        g.Node.Add(new NodeProto("Flatten", "flatten", ["pool_out"], ["flat"], AttributeProto.Int("axis", 1)));
        g.Node.Add(new NodeProto("Gemm", "fc", ["flat", "fc.w", "fc.b"], ["y"],
            AttributeProto.Float("alpha", 1f), AttributeProto.Float("beta", 1f), AttributeProto.Int("transB", 1)));

        var m = new ModelProto
        {
            IrVersion = 8, ProducerName = "lacuna-tests", ProducerVersion = "0.1", Domain = "ai.lacuna",
            ModelVersion = 3, DocString = "a tiny CNN", Graph = g,
        };
        m.OpsetImport.Add(new OperatorSetIdProto("", 13));
        m.MetadataProps.Add(new StringStringEntryProto("author", "Ω tests")); // non-ASCII survives
        return m;
    }

    /// <summary>A model with every attribute kind and tensor storage form Lacuna models, and a subgraph.</summary>
    public static ModelProto EveryField()
    {
        var m = ConvNet(seed: 7);
        var g = m.Graph!;
        var shape = TensorProto.FromInt64s("shape", [2], [-1, 64]);
        g.Initializer.Add(shape);
        g.Initializer.Add(Typed(TensorDataType.Double, t => t.DoubleData.AddRange([1.5, -2.25, double.Epsilon])));
        g.Initializer.Add(Typed(TensorDataType.Int32, t => t.Int32Data.AddRange([-1, 0, int.MaxValue])));
        g.Initializer.Add(Typed(TensorDataType.Int64, t => t.Int64Data.AddRange([long.MinValue, 0, 42])));
        g.Initializer.Add(Typed(TensorDataType.UInt64, t => t.UInt64Data.AddRange([0, 1, 7])));
        g.Initializer.Add(Typed(TensorDataType.Float16, t => t.Int32Data.AddRange([0x3C00, 0xC000, 0x7BFF])));
        g.Initializer.Add(Typed(TensorDataType.String, t => t.StringData.AddRange([[0x61], [], [0xFF, 0xFE]])));
        var empty = new TensorProto { Name = "empty", DataType = TensorDataType.Float, RawData = [] };
        empty.Dims.AddRange([0, 5]);
        g.Initializer.Add(empty);
        g.Initializer.Add(new TensorProto { Name = "scalar", DataType = TensorDataType.Float, RawData = [0, 0, 0x80, 0x3F] });

        var then = new GraphProto { Name = "then_branch" };
        then.Node.Add(new NodeProto("Identity", "id", ["x"], ["t_out"]));
        then.Output.Add(ValueInfoProto.Tensor("t_out", TensorDataType.Float, "N", 1, 8, 8));
        var attrs = new AttributeProto
        {
            Name = "everything", Type = AttributeType.Floats, F = -0.0f, I = -7, S = [1, 2, 3], T = shape,
            G = then, DocString = "doc", RefAttrName = "outer",
        };
        attrs.Floats.AddRange([float.NaN, float.PositiveInfinity, -1e-38f]);
        attrs.Ints.AddRange([long.MaxValue, -1, 0]);
        attrs.Strings.AddRange([[], [0x41, 0x42]]);
        attrs.Tensors.Add(shape);
        attrs.Graphs.Add(then);
        g.Node.Add(new NodeProto("Custom", "custom", ["", "x"], ["c"], attrs) { Domain = "com.lacuna", DocString = "custom op" });

        var dim = new TensorShapeDimension { Value = 0, Denotation = "DATA_BATCH" };
        var scalarType = new TypeProto { TensorType = new TensorTypeProto { ElemType = TensorDataType.Int64, Shape = new TensorShapeProto() }, Denotation = "TENSOR" };
        g.ValueInfo.Add(new ValueInfoProto { Name = "scalar_value", Type = scalarType, DocString = "rank 0" });
        g.ValueInfo.Add(new ValueInfoProto { Name = "unknown_rank", Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = TensorDataType.Float } } });
        var zeroDim = ValueInfoProto.Tensor("zero_dim", TensorDataType.Float, "B");
        zeroDim.Type!.TensorType!.Shape!.Dims.Add(dim);
        zeroDim.Type.TensorType.Shape.Dims.Add(new TensorShapeDimension()); // neither value nor param: unknown
        g.ValueInfo.Add(zeroDim);
        m.OpsetImport.Add(new OperatorSetIdProto("com.lacuna", 1));
        return m;

        static TensorProto Typed(TensorDataType type, Action<TensorProto> fill)
        {
            var t = new TensorProto { Name = $"typed_{type}", DataType = type, DocString = "typed" };
            t.Dims.Add(3);
            fill(t);
            return t;
        }
    }

    private static float[] Random(ref DeterministicRandom rng, int n)
    {
        var v = new float[n];
        rng.Fill(v);
        return v;
    }
}
