using Lacuna.Graph;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>Compact constants: a large, mostly-zero weight held as a mask and its non-zeros, expanded bit for bit.</summary>
public class GraphTensorCompactTests
{
    [Theory]
    [InlineData(4096, 0.5)]
    [InlineData(4097, 0.9)]
    [InlineData(10_000, 1.0)]
    public void A_sparse_weight_is_held_compactly_and_expands_bit_for_bit(int length, double sparsity)
    {
        float[] values = TestData.Random(length, (ulong)length);
        var rng = new Random(length);
        for (int i = 0; i < length; i++) if (rng.NextDouble() < sparsity) values[i] = 0f;
        if (sparsity < 1)
        {
            // Values a compaction must not confuse with +0: -0, NaN, a denormal, infinities.
            values[1] = -0f; values[2] = float.NaN; values[3] = float.Epsilon; values[4] = float.NegativeInfinity; values[^1] = 7f;
        }
        int zeros = values.Count(v => BitConverter.SingleToInt32Bits(v) == 0);
        var t = new GraphTensor("w", [length], values);
        var c = t.Compact();
        Assert.Equal(zeros * 2 >= length, c.IsCompact);
        Assert.Equal(length, c.Length);
        Assert.Equal("w", c.Name);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), c.Floats!.Select(BitConverter.SingleToInt32Bits));
        Assert.NotSame(c.Floats, c.Floats); // expanded anew for each planner read, dropped after
        Assert.Same(c.RuntimeFloats, c.RuntimeFloats); // a run-time read is expanded once and kept
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), c.RuntimeFloats.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), c.Rename("v").Floats!.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Small_dense_and_integer_tensors_stay_as_they_are()
    {
        var small = new GraphTensor("s", [100], new float[100]);
        Assert.Same(small, small.Compact());
        var dense = new GraphTensor("d", [8192], TestData.Random(8192, 3));
        Assert.Same(dense, dense.Compact());
        var ints = new GraphTensor("i", [5000], new long[5000]);
        Assert.Same(ints, ints.Compact());
        Assert.Equal(new float[5000], ints.RuntimeFloats);
    }
}
