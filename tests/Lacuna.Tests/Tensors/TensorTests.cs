using Lacuna.Tensors;

namespace Lacuna.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public unsafe void Memory_is_64_byte_aligned()
    {
        foreach (int n in new[] { 0, 1, 3, 17, 1000 })
        {
            using var t = new Tensor(n);
            Assert.Equal(0L, (long)t.Pointer % 64);
            Assert.Equal(n, t.Length);
        }
    }

    [Fact]
    public void Random_fill_is_deterministic_and_not_zero()
    {
        using var a = Tensor.Random(42, new[] { 2, 3, 5, 7 });
        using var b = Tensor.Random(42, new[] { 2, 3, 5, 7 });
        using var c = Tensor.Random(43, new[] { 2, 3, 5, 7 });
        Assert.True(a.Span.SequenceEqual(b.Span));
        Assert.False(a.Span.SequenceEqual(c.Span));
        Assert.Contains(a.ToArray(), v => v != 0f);
        Assert.All(a.ToArray(), v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Indexer_is_row_major()
    {
        using var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        Assert.Equal(23f, t[1, 2, 3]);
        Assert.Equal(13f, t[1, 0, 1]);
        Assert.Equal(new[] { 12, 4, 1 }, t.Shape.Strides());
    }

    [Fact]
    public void Bad_shapes_name_the_argument_and_shape()
    {
        var neg = Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, -1));
        Assert.Equal("dims", neg.ParamName);
        Assert.Contains("[2, -1]", neg.Message);

        var mismatch = Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray(new float[5], 2, 3));
        Assert.Equal("data", mismatch.ParamName);
        Assert.Contains("[2, 3]", mismatch.Message);

        using var t = new Tensor(2, 3);
        var reshape = Assert.Throws<ShapeMismatchException>(() => t.Reshape(4, 2));
        Assert.Contains("[2, 3]", reshape.Message);
        Assert.Contains("[4, 2]", reshape.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t[2, 0]);
        Assert.Throws<ArgumentNullException>(() => new Tensor((Shape)null!));
    }

    [Fact]
    public void Huge_shapes_are_rejected_before_allocation()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(1 << 20, 1 << 20));
        Assert.Contains("int.MaxValue", e.Message);
    }
}
