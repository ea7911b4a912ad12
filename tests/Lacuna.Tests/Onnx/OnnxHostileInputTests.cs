using Lacuna.Onnx;
using static Google.Protobuf.WireFormat;

namespace Lacuna.Tests.Onnx;

/// <summary>
/// Malformed input must fail fast with a <see cref="LacunaFormatException"/> that names the message path,
/// the field and the byte offset; never another exception, a hang, or an allocation the input can't back.
/// </summary>
public class OnnxHostileInputTests
{
    private static LacunaFormatException ParseModelFails(byte[] bytes) =>
        Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseModel(bytes));

    private static RawProto Graph(RawProto node) => new RawProto().Message(1, node).String(2, "g");

    private static byte[] ModelWith(RawProto graph) => new RawProto().Varint(1, 8).Message(7, graph).ToArray();

    [Fact]
    public void EveryTruncationEitherParsesOrFailsWithFormatException()
    {
        byte[] bytes = OnnxSerializer.ToBytes(OnnxTestModels.ConvNet());
        int failed = 0;
        for (int n = 0; n < bytes.Length; n++)
        {
            try { OnnxSerializer.ParseModel(bytes.AsSpan(0, n)); }
            catch (LacunaFormatException) { failed++; }
        }
        // Cutting exactly at a top-level field boundary leaves a valid (smaller) model; anywhere else fails.
        Assert.True(failed > bytes.Length * 9 / 10, $"only {failed} of {bytes.Length} truncations were rejected");
    }

    [Fact]
    public void TruncationIsReportedAtTheOutermostFieldThatRunsPastTheEnd()
    {
        byte[] bytes = OnnxSerializer.ToBytes(OnnxTestModels.ConvNet());
        var e = ParseModelFails(bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.Contains("model › field 'graph' at byte", e.Message);
        Assert.Contains("remain", e.Message);
    }

    [Fact]
    public void InflatedLengthInsideAnInitializerNamesTheTensorFieldAndOffset()
    {
        var model = OnnxTestModels.ConvNet();
        byte[] bytes = OnnxSerializer.ToBytes(model);
        // fc.w's raw_data: tag 0x4A, length 2560 = varint 80 14. Claim 2561: one byte past the tensor's end.
        byte[] w = model.Graph!.FindInitializer("fc.w")!.RawData!;
        int data = bytes.AsSpan().IndexOf(w.AsSpan(0, 64));
        Assert.Equal([0x4A, 0x80, 0x14], bytes[(data - 3)..data]);
        bytes[data - 2] = 0x81;
        var e = ParseModelFails(bytes);
        Assert.Contains($"model › graph 'tiny_convnet' › initializer[2] 'fc.w' › field 'raw_data' at byte {data - 3}", e.Message);
        Assert.Contains("claims 2561 bytes", e.Message);
    }

    [Fact]
    public void WrongWireTypeForAKnownFieldIsRejected()
    {
        var e = ParseModelFails(new RawProto().Varint(7, 1).ToArray()); // graph as a varint
        Assert.Contains("'graph'", e.Message);
        Assert.Contains("wire type", e.Message);

        var node = new RawProto().String(4, "Conv").String(3, "conv1").Message(5, new RawProto().String(1, "pads").Fixed64(8, 1));
        e = ParseModelFails(ModelWith(Graph(node)));
        Assert.Contains("node[0] 'conv1' › attribute[0] 'pads' › field 'ints'", e.Message);

        e = Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(new RawProto().Fixed32(8, 1).ToArray()));
        Assert.Contains("'name'", e.Message);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    public void InvalidWireTypesAreRejected(int wireType)
    {
        var e = ParseModelFails([(byte)((1 << 3) | wireType), 0]);
        Assert.Contains("wire type", e.Message);
    }

    [Fact]
    public void StrayEndGroupAndFieldZeroAreRejected()
    {
        ParseModelFails(new RawProto().Tag(50, WireType.EndGroup).ToArray());
        ParseModelFails([0x00, 0x01]);
        ParseModelFails(new RawProto().Tag(50, WireType.StartGroup).Tag(51, WireType.EndGroup).ToArray()); // mismatched group
        ParseModelFails(new RawProto().Tag(50, WireType.StartGroup).Varint(1, 1).ToArray()); // unterminated group
        ParseModelFails([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]); // 11-byte varint
    }

    [Theory]
    [InlineData(new long[] { -1, 4 }, "negative")]
    [InlineData(new long[] { 1L << 20, 1L << 20 }, "more than 2147483647 elements")]
    [InlineData(new long[] { long.MaxValue, long.MaxValue }, "exceeds 2147483647")]
    [InlineData(new long[] { 65536, 32768 }, "more than 2147483647 elements")]
    public void NegativeOrAbsurdDimsAreRejected(long[] dims, string expected)
    {
        var tensor = new RawProto().String(8, "weights").Varint(2, 1);
        foreach (long d in dims) tensor.Varint(1, d);
        var e = Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(tensor.ToArray()));
        Assert.Contains("'weights'", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("at byte 0", e.Message);
    }

    [Fact]
    public void TwoGigabyteClaimInASmallFileFailsBeforeAllocating()
    {
        var tensor = new RawProto().String(8, "huge").Varint(2, 1).Varint(1, 536_870_911)
            .LengthOnly(9, int.MaxValue).Raw(1, 2, 3, 4, 5, 6, 7, 8).ToArray();
        var model = ModelWith(new RawProto().Message(5, new RawProto().Raw(tensor)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ParseModelFails(model);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("initializer[0] 'huge' › field 'raw_data'", e.Message);
        Assert.Contains("claims 2147483647 bytes but only 8 remain", e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        // Packed data, strings and embedded messages are checked the same way.
        ParseModelFails(new RawProto().LengthOnly(7, 1_000_000).Raw(0x0A, 0x00).ToArray());
        Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(new RawProto().LengthOnly(4, 1 << 30).ToArray()));
        Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(new RawProto().LengthOnly(8, -1).ToArray()));
    }

    [Fact]
    public void StoredDataMustMatchDims()
    {
        var e = Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(
            new RawProto().Varint(1, 3).Varint(2, 1).String(8, "w").Bytes(9, new byte[8]).ToArray()));
        Assert.Contains("raw_data has 8 bytes but dims [3] of Float need 12", e.Message);

        e = Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(
            new RawProto().Varint(1, 2).Varint(2, (int)TensorDataType.Int64).String(8, "s").Fixed32(4, 0).Fixed32(4, 0).ToArray()));
        Assert.Contains("stored in FloatData but Int64 belongs in Int64Data", e.Message);

        e = Assert.Throws<LacunaFormatException>(() => OnnxSerializer.ParseTensor(
            new RawProto().Varint(1, 2).Varint(2, 1).String(8, "f").Bytes(4, new byte[7]).ToArray()));
        Assert.Contains("not a multiple of 4", e.Message);
    }

    [Fact]
    public void NestingDepthIsLimited()
    {
        // Each subgraph level is attribute › graph › node: three messages.
        static RawProto Nest(int levels)
        {
            var graph = new RawProto().String(2, "leaf");
            for (int i = 0; i < levels; i++)
            {
                var attr = new RawProto().String(1, "body").Message(6, graph).Varint(20, 5);
                var node = new RawProto().String(4, "Loop").Message(5, attr);
                graph = new RawProto().Message(1, node);
            }
            return graph;
        }
        var ok = OnnxSerializer.ParseModel(ModelWith(Nest(10)));
        Assert.Equal("Loop", ok.Graph!.Node[0].OpType);

        var e = ParseModelFails(ModelWith(Nest(40)));
        Assert.Contains("nest deeper than 64", e.Message);

        // Unknown groups nested 200 deep: the skip has its own limit.
        var deep = new RawProto();
        for (int i = 0; i < 200; i++) deep.Tag(99, WireType.StartGroup);
        for (int i = 0; i < 200; i++) deep.Tag(99, WireType.EndGroup);
        ParseModelFails(deep.ToArray());
    }

    [Fact]
    public void InvalidUtf8InANameIsRejected()
    {
        var node = new RawProto().Bytes(3, [0x63, 0xC3, 0x28]).String(4, "Relu");
        var e = ParseModelFails(ModelWith(Graph(node)));
        Assert.Contains("graph › node[0] › field 'name'", e.Message);
        Assert.Contains("UTF-8", e.Message);

        var model = new RawProto().Message(14, new RawProto().String(1, "k").Bytes(2, [0xFF])).ToArray();
        e = ParseModelFails(model);
        Assert.Contains("metadata_props[0] 'k' › field 'value'", e.Message);
    }

    [Fact]
    public void ErrorsNameTheModelFile()
    {
        string dir = Directory.CreateTempSubdirectory("lacuna-onnx-").FullName;
        try
        {
            string path = Path.Combine(dir, "broken.onnx");
            File.WriteAllBytes(path, new RawProto().Varint(7, 1).ToArray());
            var e = Assert.Throws<LacunaFormatException>(() => OnnxModel.Load(path));
            Assert.StartsWith("model 'broken.onnx'", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
