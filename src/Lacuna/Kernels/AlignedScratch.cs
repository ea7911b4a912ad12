using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lacuna.Kernels;

/// <summary>
/// Grow-only, per-thread, pinned and 64-byte aligned scratch, one buffer per slot, so steady-state kernel calls
/// allocate nothing large and each worker thread works in its own. Aligned because the kernels read these buffers
/// with full-width vector loads: a 512-bit load at an address off a cache line always spans two lines, which cost
/// the AVX-512 SpMM tiles their edge on packed narrow N. Slots that one call can hold at the same time (a gathered
/// input that an SpMM then packs a panel from) are distinct.
/// </summary>
internal static unsafe class AlignedScratch
{
    /// <summary>GEMM's packed A and B blocks, SpMM's zero-padded X panel, the strided 1x1 conv's gathered input.</summary>
    public const int GemmA = 0, GemmB = 1, SpmmPanel = 2, StridedGather = 3;
    private const int Slots = 4;
    private const int AlignFloats = 16; // 64 bytes

    [ThreadStatic] private static float[]?[]? t_slots;
    [ThreadStatic] private static int[]? t_epochs; // per slot: the ScratchEpoch its buffer was allocated in

    /// <summary>A 64-byte aligned pointer to at least <paramref name="length"/> floats (contents undefined), valid until this thread's next Get of the slot.</summary>
    public static float* Get(int slot, long length)
    {
        var slots = t_slots ??= new float[Slots][];
        var epochs = t_epochs ??= new int[Slots];
        var arr = slots[slot];
        int epoch = ScratchEpoch.Current;
        // A stale buffer is replaced only when its own slot is asked for: pointers this thread took from its other
        // slots stay valid (another thread may advance the epoch while this one is inside a kernel).
        if (arr is null || arr.Length < length + AlignFloats || epochs[slot] != epoch)
        {
            if (length + AlignFloats > Array.MaxLength) ThrowHelper.NotSupported($"Kernel scratch of {length} floats exceeds the largest array.");
            slots[slot] = null; // let the old one go before allocating the new one
            arr = GC.AllocateUninitializedArray<float>((int)Math.Max(length + AlignFloats, 64), pinned: true);
            slots[slot] = arr;
            epochs[slot] = epoch;
        }
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(arr));
        return (float*)((p + 63) & ~(nint)63);
    }

    /// <summary>Forgets all of this thread's buffers (<see cref="ScratchEpoch.Advance"/>, outside any kernel call).</summary>
    internal static void DropThisThread()
    {
        t_slots = null;
        t_epochs = null;
    }
}
