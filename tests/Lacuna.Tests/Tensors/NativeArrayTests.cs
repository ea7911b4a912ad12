using Lacuna.Tensors;

namespace Lacuna.Tests.Tensors;

public class NativeArrayTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(100_003)]
    public unsafe void Holds_a_copy_aligned_to_a_cache_line(int length)
    {
        var source = TestUtil.TestData.Random(length, (ulong)length + 3);
        using var a = new NativeArray<float>(source);
        Assert.Equal(length, a.Length);
        Assert.Equal(Math.Max(1, length) * sizeof(float), a.Bytes);
        Assert.True(a.Pointer != null);
        Assert.Equal(0, (long)a.Pointer % 64);
        Assert.Equal(source, a.Span.ToArray());
        a.Span.Fill(2.5f); // the array's own memory, not the source's
        Assert.Equal(source, TestUtil.TestData.Random(length, (ulong)length + 3));
    }

    [Fact]
    public unsafe void Clear_zeroes_and_other_element_types_work()
    {
        using var u = new NativeArray<ushort>(33, clear: true);
        Assert.All(u.Span.ToArray(), v => Assert.Equal(0, v));
        using var i = new NativeArray<int>(new[] { -1, 7, int.MaxValue });
        Assert.Equal(new[] { -1, 7, int.MaxValue }, i.Span.ToArray());
        Assert.Equal(3 * sizeof(int), i.Bytes);
    }

    [Fact]
    public unsafe void Dispose_twice_is_harmless_and_use_after_dispose_names_the_type()
    {
        var a = new NativeArray<float>(1000);
        Assert.False(a.IsDisposed);
        a.Dispose();
        a.Dispose();
        Assert.True(a.IsDisposed);
        var e = Assert.Throws<ObjectDisposedException>(() => (nint)a.Pointer);
        Assert.Contains("NativeArray", e.ObjectName);
        Assert.Throws<ObjectDisposedException>(() => a.Span.Length);
    }

    [Fact]
    public void Live_bytes_count_what_is_held_until_it_is_freed()
    {
        // Other tests allocate at the same time, so only this array's share is checked, with a margin far above theirs.
        const int Floats = 64 << 20 >> 2; // 64 MB
        long before = NativeMemoryUse.LiveBytes;
        var a = new NativeArray<float>(Floats);
        Assert.True(NativeMemoryUse.LiveBytes - before >= 60L << 20, $"{NativeMemoryUse.LiveBytes - before} bytes more");
        a.Dispose();
        Assert.True(NativeMemoryUse.LiveBytes - before < 32L << 20, $"{NativeMemoryUse.LiveBytes - before} bytes more after dispose");
    }

    [Fact]
    public void A_negative_length_is_a_one_line_error()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new NativeArray<float>(-1));
        Assert.Equal("length", e.ParamName);
        Assert.Contains("non-negative", e.Message);
    }

    [Fact]
    public void Trimming_the_C_heap_never_throws()
    {
        using (new NativeArray<byte>(1 << 20)) { }
        bool trimmed = NativeHeap.Trim();
        if (!OperatingSystem.IsLinux()) Assert.False(trimmed);
        NativeHeap.Trim(); // again, and with nothing to give back
    }
}
