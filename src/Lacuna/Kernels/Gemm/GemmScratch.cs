using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lacuna.Kernels;

/// <summary>
/// Grow-only, per-thread, pinned and 64-byte aligned packing buffers (one for A blocks, one for B blocks),
/// so steady-state GEMM calls allocate nothing large. Each worker thread packs into its own.
/// </summary>
internal static unsafe class GemmScratch
{
    public const int APanels = 0, BPanels = 1;
    private const int AlignFloats = 16; // 64 bytes

    [ThreadStatic] private static float[]?[]? t_slots;

    /// <summary>A 64-byte aligned pointer to at least <paramref name="length"/> floats (contents undefined), valid until this thread's next Get of the slot.</summary>
    public static float* Get(int slot, long length)
    {
        var slots = t_slots ??= new float[2][];
        var arr = slots[slot];
        if (arr is null || arr.Length < length + AlignFloats)
        {
            if (length + AlignFloats > Array.MaxLength) ThrowHelper.NotSupported($"GEMM packing scratch of {length} floats exceeds the largest array.");
            slots[slot] = null; // let the old one go before allocating the new one
            arr = GC.AllocateUninitializedArray<float>((int)Math.Max(length + AlignFloats, 64), pinned: true);
            slots[slot] = arr;
        }
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(arr));
        return (float*)((p + 63) & ~(nint)63);
    }
}
