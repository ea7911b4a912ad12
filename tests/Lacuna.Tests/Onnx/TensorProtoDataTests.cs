using System.Buffers.Binary;
using Lacuna.Onnx;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Onnx;

/// <summary>Every stored form of every supported type reads back the same values; counts are checked against dims.</summary>
public class TensorProtoDataTests
{
    private static TensorProto Tensor(TensorDataType type, params long[] dims)
    {
        var t = new TensorProto { Name = $"t_{type}", DataType = type };
        t.Dims.AddRange(dims);
        return t;
    }

    [Fact]
    public void FloatFromRawDataAndFloatDataAgree()
    {
        float[] values = TestData.Random(24, seed: 11);
        var raw = TensorProto.FromFloats("w", [2, 3, 4], values);
        var typed = Tensor(TensorDataType.Float, 2, 3, 4);
        typed.FloatData.AddRange(values);
        Assert.Equal(values, raw.ToFloatArray());
        Assert.Equal(values, typed.ToFloatArray());
        Assert.Equal(values.Length * 4, raw.ReadRawBytes().Length);
    }

    [Fact]
    public void HalfAndBFloat16FromBothForms()
    {
        float[] expected = [1f, -2f, 0.5f, 65504f];
        ushort[] half = [0x3C00, 0xC000, 0x3800, 0x7BFF];
        ushort[] bf16 = [0x3F80, 0xC000, 0x3F00, 0x477F]; // 0x477F = 65280 in bfloat16
        float[] expectedBf = [1f, -2f, 0.5f, 65280f];

        foreach (var (type, bits, want) in new[] { (TensorDataType.Float16, half, expected), (TensorDataType.BFloat16, bf16, expectedBf) })
        {
            var typed = Tensor(type, 4);
            foreach (ushort b in bits) typed.Int32Data.Add(b);
            var raw = Tensor(type, 2, 2);
            raw.RawData = new byte[8];
            for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt16LittleEndian(raw.RawData.AsSpan(2 * i), bits[i]);
            Assert.Equal(want, typed.ToFloatArray());
            Assert.Equal(want, raw.ToFloatArray());
        }
    }

    [Fact]
    public void DoubleAndIntegerTypesFromBothForms()
    {
        var d = Tensor(TensorDataType.Double, 3);
        d.DoubleData.AddRange([1.5, -2.25, 1e300]);
        Assert.Equal([1.5f, -2.25f, float.PositiveInfinity], d.ToFloatArray());
        var dRaw = Tensor(TensorDataType.Double, 1);
        dRaw.RawData = BitConverter.GetBytes(-0.125);
        Assert.Equal([-0.125f], dRaw.ToFloatArray());

        var i64 = TensorProto.FromInt64s("shape", [3], [-1, 0, long.MaxValue]);
        Assert.Equal([-1L, 0L, long.MaxValue], i64.ToInt64Array());
        var i64Typed = Tensor(TensorDataType.Int64, 3);
        i64Typed.Int64Data.AddRange([-1, 0, 5]);
        Assert.Equal([-1L, 0L, 5L], i64Typed.ToInt64Array());
        Assert.Equal([-1f, 0f, 5f], i64Typed.ToFloatArray());

        var i32 = Tensor(TensorDataType.Int32, 2);
        i32.RawData = [0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0, 0, 0];
        Assert.Equal([-1L, 7L], i32.ToInt64Array());

        var i8 = Tensor(TensorDataType.Int8, 3);
        i8.RawData = [0xFF, 0x7F, 0x80];
        Assert.Equal([-1L, 127L, -128L], i8.ToInt64Array());
        var u8 = Tensor(TensorDataType.UInt8, 3);
        u8.RawData = [0xFF, 0x7F, 0x80];
        Assert.Equal([255f, 127f, 128f], u8.ToFloatArray());
        var u8Typed = Tensor(TensorDataType.UInt8, 2);
        u8Typed.Int32Data.AddRange([200, 3]);
        Assert.Equal([200L, 3L], u8Typed.ToInt64Array());

        var b = Tensor(TensorDataType.Bool, 3);
        b.RawData = [0, 1, 2];
        Assert.Equal([0L, 1L, 1L], b.ToInt64Array());
        var bTyped = Tensor(TensorDataType.Bool, 2);
        bTyped.Int32Data.AddRange([1, 0]);
        Assert.Equal([1f, 0f], bTyped.ToFloatArray());

        var u64 = Tensor(TensorDataType.UInt64, 1);
        u64.UInt64Data.Add(ulong.MaxValue);
        Assert.Contains("does not fit in a long", Assert.Throws<LacunaFormatException>(() => u64.ToInt64Array()).Message);
    }

    [Fact]
    public void ScalarsAndEmptyTensors()
    {
        var scalar = Tensor(TensorDataType.Float);
        scalar.FloatData.Add(3f);
        Assert.Equal(1, scalar.GetElementCount());
        Assert.Equal([3f], scalar.ToFloatArray());

        var empty = Tensor(TensorDataType.Float, 4, 0, 3);
        Assert.Equal(0, empty.GetElementCount());
        Assert.Empty(empty.ToFloatArray());
        Assert.Equal(TensorStorage.None, empty.Storage);
    }

    [Fact]
    public void CountMismatchAndWrongConversionsNameTheTensor()
    {
        var t = Tensor(TensorDataType.Float, 2, 3);
        t.FloatData.AddRange([1, 2, 3, 4, 5]);
        var e = Assert.Throws<LacunaFormatException>(() => t.ToFloatArray());
        Assert.Equal("tensor 't_Float'", e.Where);
        Assert.Contains("FloatData has 5 entries but dims [2, 3] of Float need 6", e.Message);

        var raw = Tensor(TensorDataType.Int64, 2);
        raw.RawData = new byte[12];
        Assert.Contains("raw_data has 12 bytes", Assert.Throws<LacunaFormatException>(() => raw.ToInt64Array()).Message);

        var f = TensorProto.FromFloats("w", [1], [1f]);
        Assert.Contains("cannot be read as long", Assert.Throws<LacunaFormatException>(() => f.ToInt64Array()).Message);

        var s = Tensor(TensorDataType.String, 1);
        s.StringData.Add([0x61]);
        Assert.Throws<LacunaFormatException>(() => s.ToFloatArray());

        var neg = Tensor(TensorDataType.Float, 3, -2);
        Assert.Contains("negative", Assert.Throws<LacunaFormatException>(() => neg.ToFloatArray()).Message);
        Assert.Throws<LacunaFormatException>(() => neg.GetElementCount());

        Assert.Throws<ShapeMismatchException>(() => TensorProto.FromFloats("x", [2, 2], [1f, 2f, 3f]));
    }
}
