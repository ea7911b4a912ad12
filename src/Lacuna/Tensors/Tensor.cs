namespace Lacuna.Tensors;

/// <summary>
/// A dense float32 tensor in row-major (NCHW for images) order over 64-byte-aligned native memory.
/// The one tensor type of the engine: kernels take its <see cref="Span"/> or <see cref="Pointer"/>.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private readonly AlignedBuffer _buffer;

    public Tensor(Shape shape, bool clear = true)
    {
        if (shape is null) ThrowHelper.ArgumentNull(nameof(shape));
        Shape = shape;
        _buffer = new AlignedBuffer(shape.ElementCount, clear);
    }

    public Tensor(params int[] dims) : this(new Shape(dims)) { }

    public Shape Shape { get; }
    public int Length => Shape.ElementCount;
    public int Rank => Shape.Rank;
    public Span<float> Span => _buffer.Span;
    public float* Pointer => _buffer.Pointer;

    public static Tensor Zeros(params int[] dims) => new(new Shape(dims));

    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] dims)
    {
        var shape = new Shape(dims);
        if (data.Length != shape.ElementCount)
            ThrowHelper.Shape(nameof(data), $"'{nameof(data)}' has {data.Length} elements but shape {shape} needs {shape.ElementCount}.");
        var t = new Tensor(shape, clear: false);
        data.CopyTo(t.Span);
        return t;
    }

    /// <summary>A tensor of uniform values in [min, max) from <paramref name="seed"/>; the same on every machine.</summary>
    public static Tensor Random(ulong seed, int[] dims, float min = -1f, float max = 1f)
    {
        var t = new Tensor(new Shape(dims), clear: false);
        t.FillRandom(seed, min, max);
        return t;
    }

    public void FillRandom(ulong seed, float min = -1f, float max = 1f)
    {
        var rng = new DeterministicRandom(seed);
        rng.Fill(Span, min, max);
    }

    public void Fill(float value) => Span.Fill(value);

    public float this[params int[] index]
    {
        get => Span[Offset(index)];
        set => Span[Offset(index)] = value;
    }

    public int Offset(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
            ThrowHelper.Shape(nameof(index), $"Index of rank {index.Length} used on a tensor of shape {Shape}.");
        int offset = 0;
        for (int i = 0; i < index.Length; i++)
        {
            int d = Shape[i];
            if ((uint)index[i] >= (uint)d)
                ThrowHelper.OutOfRange(nameof(index), index[i], $"Index {index[i]} on axis {i} is outside shape {Shape}.");
            offset = offset * d + index[i];
        }
        return offset;
    }

    /// <summary>Same data, new shape with the same element count (a copy: tensors own their memory).</summary>
    public Tensor Reshape(params int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.ElementCount != Length)
            ThrowHelper.Shape(nameof(dims), $"Cannot reshape {Shape} ({Length} elements) to {shape} ({shape.ElementCount} elements).");
        var t = new Tensor(shape, clear: false);
        Span.CopyTo(t.Span);
        GC.KeepAlive(this); // as in ToArray: a GC on another thread must not free the source mid-copy
        return t;
    }

    // The span points into native memory the buffer's finalizer frees: without the KeepAlive, a tensor no longer
    // referenced after `.Span` was read could be finalized by a GC that the copy's own allocation triggers, and the
    // copy would read freed memory (bench model crashed so on a [1,32,16,28,28] output: session.Run(..)[y].ToArray()).
    public float[] ToArray()
    {
        var copy = Span.ToArray();
        GC.KeepAlive(this);
        return copy;
    }

    public Tensor Clone()
    {
        var copy = FromArray(Span, Shape.AsSpan().ToArray());
        GC.KeepAlive(this);
        return copy;
    }

    public void Dispose() => _buffer.Dispose();

    public override string ToString() => $"Tensor{Shape}";
}
