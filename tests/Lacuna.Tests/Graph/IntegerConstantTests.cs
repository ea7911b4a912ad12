using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Narrow integer constants (UINT8 .. UINT64, INT8, INT16, INT32): imported widened with their type, folded at load
/// with the type's wrap-around (NumPy semantics), checked element by element against arithmetic done in the narrow
/// C# type itself.
/// </summary>
public class IntegerConstantTests
{
    private static GraphTensor Fold(string op, GraphTensor a, GraphTensor? b = null, int opset = 13, params GraphAttribute[] attrs)
    {
        var g = new ModelGraph { Opset = opset };
        g.AddInitializer(a.Rename("a"));
        if (b is not null) g.AddInitializer(b.Rename("b"));
        g.Nodes.Add(new GraphNode("n", op, b is null ? ["a"] : ["a", "b"], ["y"], attrs, opset));
        g.Outputs.Add(new GraphValue("y", null));
        ConstantFolder.Fold(g);
        return g.Initializers["y"];
    }

    private static long[] Random(int n, int seed, long min, long max)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.NextInt64(min, max + 1)).ToArray();
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("Div")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void Uint8_and_int8_arithmetic_wraps_like_the_narrow_type(string op)
    {
        long[] ua = Random(60, 1, 0, 255), ub = Random(60, 2, 1, 255), sa = Random(60, 3, -128, 127), sb = Random(60, 4, -128, 127);
        for (int i = 0; i < sb.Length; i++) if (sb[i] == 0) sb[i] = 3;
        var u = Fold(op, new GraphTensor("", [3, 20], ua, IntegerType.UInt8), new GraphTensor("", [3, 20], ub, IntegerType.UInt8));
        var s = Fold(op, new GraphTensor("", [3, 20], sa, IntegerType.Int8), new GraphTensor("", [3, 20], sb, IntegerType.Int8));
        Assert.Equal(IntegerType.UInt8, u.IntegerType);
        Assert.Equal(IntegerType.Int8, s.IntegerType);
        for (int i = 0; i < 60; i++)
        {
            byte x = (byte)ua[i], y = (byte)ub[i];
            sbyte p = (sbyte)sa[i], q = (sbyte)sb[i];
            long wantU = op switch { "Add" => (byte)(x + y), "Sub" => (byte)(x - y), "Mul" => (byte)(x * y), "Div" => (byte)(x / y), "Max" => Math.Max(x, y), _ => Math.Min(x, y) };
            long wantS = op switch { "Add" => (sbyte)(p + q), "Sub" => (sbyte)(p - q), "Mul" => (sbyte)(p * q), "Div" => (sbyte)(p / q), "Max" => Math.Max(p, q), _ => Math.Min(p, q) };
            Assert.True(wantU == u.Int64s![i], $"uint8 {x} {op} {y}: {u.Int64s[i]}, expected {wantU}");
            Assert.True(wantS == s.Int64s![i], $"int8 {p} {op} {q}: {s.Int64s[i]}, expected {wantS}");
        }
    }

    [Fact]
    public void Wider_types_wrap_and_broadcast()
    {
        var a = new GraphTensor("", [2, 3], [0, 1, 65535, 40000, 7, 30000], IntegerType.UInt16);
        var b = new GraphTensor("", [3], [1, 65535, 1], IntegerType.UInt16);
        Assert.Equal(new long[] { 65535, 2, 65534, 39999, 8, 29999 }, Fold("Sub", a, b).Int64s);
        var i16 = new GraphTensor("", [2], [30000, -30000], IntegerType.Int16);
        Assert.Equal(new long[] { -5536, 5536 }, Fold("Add", i16, i16).Int64s);
        var u32 = new GraphTensor("", [2], [4_000_000_000, 3], IntegerType.UInt32);
        Assert.Equal(new long[] { unchecked((uint)(4_000_000_000L * 2)), 6 }, Fold("Mul", u32, new GraphTensor("", [], [2], IntegerType.UInt32)).Int64s);
        // Exact above 2^24, where the float kernels would round.
        var i32 = new GraphTensor("", [1], [16_777_217], IntegerType.Int32);
        Assert.Equal(new long[] { 16_777_218 }, Fold("Add", i32, new GraphTensor("", [1], [1], IntegerType.Int32)).Int64s);
    }

    [Fact]
    public void Uint64_compares_and_divides_its_bit_pattern_as_unsigned()
    {
        var big = new GraphTensor("", [1], [unchecked((long)ulong.MaxValue)], IntegerType.UInt64); // 2^64 - 1, held as -1
        var one = new GraphTensor("", [1], [1], IntegerType.UInt64);
        Assert.Equal(unchecked((long)ulong.MaxValue), Fold("Max", big, one).Int64s![0]);
        Assert.Equal(1, Fold("Min", big, one).Int64s![0]);
        Assert.Equal(unchecked((long)(ulong.MaxValue / 2)), Fold("Div", big, new GraphTensor("", [1], [2], IntegerType.UInt64)).Int64s![0]);
        Assert.Equal(0, Fold("Add", big, one).Int64s![0]);
    }

    [Fact]
    public void Variadic_Sum_and_results_of_float_kernels_keep_the_type()
    {
        var a = new GraphTensor("", [3], [200, 100, 5], IntegerType.UInt8);
        var g = new ModelGraph { Opset = 13 };
        g.AddInitializer(a.Rename("a"));
        g.Nodes.Add(new GraphNode("s", "Sum", ["a", "a", "a"], ["y"], opset: 13));
        g.Outputs.Add(new GraphValue("y", null));
        ConstantFolder.Fold(g);
        Assert.Equal(new long[] { 88, 44, 15 }, g.Initializers["y"].Int64s);
        // Clip runs on the float kernel at load; the result is narrowed back to INT8.
        var clipped = Fold("Clip", new GraphTensor("", [3], [-128, 5, 127], IntegerType.Int8), new GraphTensor("", [], [-3], IntegerType.Int8));
        Assert.Equal(IntegerType.Int8, clipped.IntegerType);
        Assert.Equal(new long[] { -3, 5, 127 }, clipped.Int64s);
        Assert.Equal(IntegerType.Bool, Fold("Less", a, a).IntegerType);
    }

    [Fact]
    public void Integer_division_by_zero_is_a_one_line_error()
    {
        var a = new GraphTensor("", [2], [4, 5], IntegerType.UInt8);
        var e = Assert.Throws<UnsupportedOperatorException>(() => Fold("Div", a, new GraphTensor("", [2], [1, 0], IntegerType.UInt8)));
        Assert.Contains("division by zero", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void The_importer_tags_narrow_types_and_names_unsupported_ones()
    {
        var u8 = new TensorProto { Name = "u", DataType = TensorDataType.UInt8, RawData = [0, 200, 255] };
        u8.Dims.Add(3);
        var t = OnnxGraphImporter.ToTensor(u8, null);
        Assert.Equal(IntegerType.UInt8, t.IntegerType);
        Assert.Equal(new long[] { 0, 200, 255 }, t.Int64s);
        var i16 = new TensorProto { Name = "s", DataType = TensorDataType.Int16, RawData = [0x00, 0x80] };
        i16.Dims.Add(1);
        Assert.Equal(new long[] { -32768 }, OnnxGraphImporter.ToTensor(i16, null).Int64s);
        var str = new TensorProto { Name = "text", DataType = TensorDataType.String };
        str.Dims.Add(1);
        str.StringData.Add("a"u8.ToArray());
        var e = Assert.Throws<NotSupportedException>(() => OnnxGraphImporter.ToTensor(str, null));
        Assert.Contains("'text'", e.Message);
        Assert.Contains("String", e.Message);
    }
    [Theory]
    [InlineData(2, new float[] { 44, 255, 0, 7 })]     // UINT8
    [InlineData(3, new float[] { 44, -1, 0, 7 })]      // INT8
    [InlineData(4, new float[] { 300, 65535, 0, 7 })]  // UINT16
    [InlineData(5, new float[] { 300, -1, 0, 7 })]     // INT16
    public void Run_time_Cast_to_a_narrow_type_truncates_and_wraps(long to, float[] expected)
    {
        var node = new GraphNode("c", "Cast", ["x"], ["y"], [GraphAttribute.Of("to", to)], 13);
        Assert.Equal(expected, Lacuna.Tests.Kernels.Elementwise.ElementwiseCheck.RunNode(node, [[300f, -1f, 0.7f, 7.9f]], [[4]])[0]);
    }
    [Fact]
    public void Reshape_of_a_float_constant_by_an_int64_shape_keeps_the_floats()
    {
        var y = Fold("Reshape", new GraphTensor("", [2, 2], new[] { 0.5f, -1.25f, 2.75f, 3f }), new GraphTensor("", [1], [4L]));
        Assert.Equal(GraphElementType.Float, y.ElementType);
        Assert.Equal(new[] { 4 }, y.Dims);
        Assert.Equal(new[] { 0.5f, -1.25f, 2.75f, 3f }, y.Floats);
    }
}
