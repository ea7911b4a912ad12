using System.Runtime.InteropServices;

namespace Lacuna.Tensors;

/// <summary>
/// Native memory for <see cref="Length"/> elements of <typeparamref name="T"/>, aligned to 64 bytes and owned by this
/// object: freed by <see cref="Dispose"/> (at once, e.g. for a planner candidate that lost) or else by the finalizer.
/// Kernel plans keep their packed weights here rather than in pinned arrays: pinned arrays live on the GC's
/// pinned-object heap, which is never compacted, so the candidates the planner prepared and dropped left free
/// blocks between the chosen plans' arrays that stayed resident (ResNet-50 at DLMC 0.9: 9.8 of 82 MB of managed heap).
/// A plan reads <see cref="Pointer"/> per call, so a disposed array fails with <see cref="ObjectDisposedException"/>,
/// and calls <c>GC.KeepAlive(this)</c> after its kernels so that the finalizer cannot free the memory mid-call.
/// </summary>
public sealed unsafe class NativeArray<T> : IDisposable where T : unmanaged
{
    private T* _ptr;

    /// <param name="length">Elements (0 allocates one, so <see cref="Pointer"/> is never null).</param>
    /// <param name="clear">Zero the memory (false: contents undefined).</param>
    public NativeArray(long length, bool clear = false)
    {
        if (length < 0) ThrowHelper.OutOfRange(nameof(length), length, $"'length' must be non-negative but was {length}.");
        Length = length;
        Bytes = checked((long)Math.Max(1, length) * sizeof(T));
        _ptr = (T*)NativeMemory.AlignedAlloc((nuint)Bytes, AlignedBuffer.Alignment);
        if (_ptr == null) throw new OutOfMemoryException($"Could not allocate {Bytes} bytes of native memory.");
        if (clear) NativeMemory.Clear(_ptr, (nuint)Bytes);
        NativeMemoryUse.Add(Bytes);
    }

    /// <summary>A native copy of <paramref name="source"/>.</summary>
    public NativeArray(ReadOnlySpan<T> source) : this(source.Length) => source.CopyTo(new Span<T>(_ptr, source.Length));

    public long Length { get; }

    /// <summary>Bytes allocated (at least one element's).</summary>
    public long Bytes { get; }

    public bool IsDisposed => _ptr == null;

    /// <summary>The first element; throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    public T* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_ptr == null, this);
            return _ptr;
        }
    }

    /// <summary>The elements (for packing; at most <see cref="int.MaxValue"/> of them).</summary>
    public Span<T> Span => new(Pointer, checked((int)Length));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeArray() => Free();

    private void Free()
    {
        var p = _ptr;
        if (p == null) return;
        _ptr = null;
        NativeMemory.AlignedFree(p);
        NativeMemoryUse.Add(-Bytes);
    }
}

/// <summary>Bytes of native memory the engine's buffers (<see cref="NativeArray{T}"/>, <see cref="AlignedBuffer"/>) hold now.</summary>
public static class NativeMemoryUse
{
    private static long s_bytes;

    public static long LiveBytes => Interlocked.Read(ref s_bytes);

    internal static void Add(long bytes)
    {
        Interlocked.Add(ref s_bytes, bytes);
        if (bytes > 0) GC.AddMemoryPressure(bytes); else GC.RemoveMemoryPressure(-bytes);
    }
}
