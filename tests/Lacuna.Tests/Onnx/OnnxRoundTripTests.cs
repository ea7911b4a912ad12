using Google.Protobuf;
using Lacuna.Onnx;
using static Google.Protobuf.WireFormat;

namespace Lacuna.Tests.Onnx;

public class OnnxRoundTripTests
{
    [Fact]
    public void ConvNetRoundTripsWithIdenticalInitializerBytes()
    {
        var model = OnnxTestModels.ConvNet();
        byte[] bytes = OnnxSerializer.ToBytes(model);
        var back = OnnxSerializer.ParseModel(bytes);

        Assert.True(model.ContentEquals(back));
        Assert.Equal(bytes, OnnxSerializer.ToBytes(back));
        for (int i = 0; i < model.Graph!.Initializer.Count; i++)
        {
            var a = model.Graph.Initializer[i];
            var b = back.Graph!.Initializer[i];
            Assert.Equal(a.Name, b.Name);
            Assert.Equal(a.RawData, b.RawData);
            Assert.Equal(a.FloatData, b.FloatData);
            Assert.Equal(a.ToFloatArray(), b.ToFloatArray());
        }
        Assert.Equal(["Conv", "Relu", "MaxPool", "Flatten", "Gemm"], back.Graph!.Node.Select(n => n.OpType));
        Assert.Equal([3L, 3L], back.Graph.Node[0].FindAttribute("kernel_shape")!.Ints);
        Assert.Equal("NOTSET", back.Graph.Node[2].FindAttribute("auto_pad")!.StringValue);
        Assert.Equal("Ω tests", back.MetadataProps[0].Value);
        Assert.Equal("N", back.Graph.Input[0].Type!.TensorType!.Shape!.Dims[0].Param);
        Assert.Equal(8L, back.Graph.Input[0].Type!.TensorType!.Shape!.Dims[2].Value);
    }

    [Fact]
    public void EveryModelledFieldRoundTrips()
    {
        var model = OnnxTestModels.EveryField();
        byte[] bytes = OnnxSerializer.ToBytes(model);
        var back = OnnxSerializer.ParseModel(bytes);

        Assert.True(model.ContentEquals(back));
        Assert.Equal(bytes, OnnxSerializer.ToBytes(back));
        var attr = back.Graph!.Node.Single(n => n.OpType == "Custom").Attribute[0];
        Assert.Equal(BitConverter.SingleToInt32Bits(-0.0f), BitConverter.SingleToInt32Bits(attr.F)); // -0 kept
        Assert.True(float.IsNaN(attr.Floats[0]));
        Assert.Equal("then_branch", attr.G!.Name);
        Assert.Equal("outer", attr.RefAttrName);
        Assert.Equal([-1L, 64L], attr.T!.ToInt64Array());

        var scalar = back.Graph.ValueInfo.Single(v => v.Name == "scalar_value").Type!.TensorType!;
        Assert.NotNull(scalar.Shape); // rank 0, not "unknown rank"
        Assert.Empty(scalar.Shape.Dims);
        Assert.Null(back.Graph.ValueInfo.Single(v => v.Name == "unknown_rank").Type!.TensorType!.Shape);
        var dims = back.Graph.ValueInfo.Single(v => v.Name == "zero_dim").Type!.TensorType!.Shape!.Dims;
        Assert.Equal(0L, dims[1].Value); // dim_value 0 is present, not absent
        Assert.Null(dims[2].Value);
        Assert.Null(dims[2].Param);
    }

    [Fact]
    public void UnknownFieldsOfEveryWireTypeArePreservedVerbatim()
    {
        byte[] unknown = UnknownFieldsOfEveryWireType();
        var model = OnnxTestModels.ConvNet();
        // Hide the same unknown fields inside the first node too: graph = (node0 + unknown), other nodes.
        var graph = model.Graph!;
        byte[] node0 = [.. OnnxSerializer.ToBytes(graph.Node[0]), .. unknown];
        graph.Node.RemoveAt(0);
        byte[] graphBytes = [.. Field(1, node0), .. OnnxSerializer.ToBytes(graph)];
        model.Graph = null;
        byte[] modelBytes = [.. OnnxSerializer.ToBytes(model), .. Field(7, graphBytes), .. unknown];

        var parsed = OnnxSerializer.ParseModel(modelBytes);
        Assert.Equal(5, parsed.UnknownFields.Count);
        Assert.Equal(5, parsed.Graph!.Node[0].UnknownFields.Count);
        Assert.Equal("Conv", parsed.Graph.Node[0].OpType);

        byte[] written = OnnxSerializer.ToBytes(parsed);
        var reparsed = OnnxSerializer.ParseModel(written);
        Assert.True(parsed.ContentEquals(reparsed));
        Assert.Equal(written, OnnxSerializer.ToBytes(reparsed));
        Assert.True(written.AsSpan().IndexOf(unknown) >= 0, "unknown fields are written back byte for byte");
    }

    [Fact]
    public void UnpackedTensorDataAndPackedDimsAreAccepted()
    {
        // onnx.proto declares float_data packed and dims unpacked; a proto2 reader must accept either form.
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        o.WriteTag(1, WireType.LengthDelimited); o.WriteLength(2); o.WriteInt64(1); o.WriteInt64(3); // dims packed
        o.WriteTag(2, WireType.Varint); o.WriteInt32((int)TensorDataType.Float);
        foreach (float f in new[] { 1.5f, -2f, 3.25f }) { o.WriteTag(4, WireType.Fixed32); o.WriteFloat(f); } // unpacked
        o.WriteTag(8, WireType.LengthDelimited); o.WriteString("t");
        o.Flush();

        var t = OnnxSerializer.ParseTensor(ms.ToArray());
        Assert.Equal([1L, 3L], t.Dims);
        Assert.Equal([1.5f, -2f, 3.25f], t.ToFloatArray());
        Assert.True(t.ContentEquals(OnnxSerializer.ParseTensor(OnnxSerializer.ToBytes(t))));
    }

    [Fact]
    public void RepeatedEmbeddedMessagesMergeAsProtobufDoes()
    {
        // Concatenating two serialized messages merges them: singular fields take the last value, repeated append.
        var a = OnnxTestModels.ConvNet(seed: 1);
        var b = OnnxTestModels.ConvNet(seed: 2);
        b.ProducerName = "second";
        var merged = OnnxSerializer.ParseModel([.. OnnxSerializer.ToBytes(a), .. OnnxSerializer.ToBytes(b)]);
        Assert.Equal("second", merged.ProducerName);
        Assert.Equal(a.Graph!.Node.Count * 2, merged.Graph!.Node.Count);
        Assert.Equal(2, merged.OpsetImport.Count);
    }

    [Fact]
    public void DimensionOneofKeepsTheLastMemberSet()
    {
        var d = TensorShapeDimension.Of(5);
        d.Param = "N";
        Assert.Null(d.Value);
        var shape = new TensorShapeProto();
        shape.Dims.Add(d);
        var back = OnnxSerializer.ParseModel(OnnxSerializer.ToBytes(new ModelProto
        {
            Graph = new GraphProto { Input = { new ValueInfoProto { Name = "v", Type = new TypeProto { TensorType = new TensorTypeProto { Shape = shape } } } } },
        }));
        var dim = back.Graph!.Input[0].Type!.TensorType!.Shape!.Dims[0];
        Assert.Equal("N", dim.Param);
        Assert.Null(dim.Value);
    }

    /// <summary>Fields 100-104, unknown to every ONNX message: varint, fixed64, bytes, a group with a nested group, fixed32.</summary>
    internal static byte[] UnknownFieldsOfEveryWireType()
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        o.WriteTag(100, WireType.Varint); o.WriteInt64(-5);
        o.WriteTag(101, WireType.Fixed64); o.WriteFixed64(0x0123456789ABCDEF);
        o.WriteTag(102, WireType.LengthDelimited); o.WriteString("future field");
        o.WriteTag(103, WireType.StartGroup);
        o.WriteTag(1, WireType.Varint); o.WriteInt32(7);
        o.WriteTag(2, WireType.StartGroup); o.WriteTag(3, WireType.Fixed32); o.WriteFixed32(9); o.WriteTag(2, WireType.EndGroup);
        o.WriteTag(103, WireType.EndGroup);
        o.WriteTag(104, WireType.Fixed32); o.WriteFixed32(0xDEADBEEF);
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>A length-delimited field: tag, length, payload.</summary>
    internal static byte[] Field(int number, byte[] payload)
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        o.WriteTag(number, WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(payload));
        o.Flush();
        return ms.ToArray();
    }
}
