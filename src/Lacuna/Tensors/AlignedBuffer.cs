using System.Runtime.InteropServices;

namespace Lacuna.Tensors;

/// <summary>
/// Native float memory aligned to 64 bytes (a cache line; also the widest vector), so vector loads
/// never split lines at the start of a row. Freed on Dispose or by the finalizer.
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    public const int Alignment = 64;
    private float* _ptr;

    public AlignedBuffer(int length, bool clear = true)
    {
        ThrowHelper.IfNegative(length, nameof(length));
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        _ptr = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        if (_ptr == null) throw new OutOfMemoryException($"Could not allocate {bytes} bytes.");
        if (clear) NativeMemory.Clear(_ptr, bytes);
        NativeMemoryUse.Add((long)bytes);
    }

    public int Length { get; }

    public float* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_ptr == null, this);
            return _ptr;
        }
    }

    public Span<float> Span => new(Pointer, Length);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~AlignedBuffer() => Free();

    private void Free()
    {
        if (_ptr == null) return;
        NativeMemory.AlignedFree(_ptr);
        _ptr = null;
        NativeMemoryUse.Add(-(long)Math.Max(1, Length) * sizeof(float));
    }
}
