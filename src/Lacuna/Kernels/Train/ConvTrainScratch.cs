namespace Lacuna.Kernels.Train;

/// <summary>
/// Grow-only, per-thread, pinned scratch for the training kernels (padded operands, packed weights), so
/// steady-state calls allocate nothing large. Workers of one call touch disjoint parts of the caller's arrays.
/// </summary>
internal static class ConvTrainScratch
{
    public const int Padded = 0, Second = 1, Packed = 2;

    [ThreadStatic] private static float[]?[]? t_slots;

    /// <summary>A pinned array of at least <paramref name="length"/> floats (contents undefined).</summary>
    public static float[] Get(int slot, long length)
    {
        var slots = t_slots ??= new float[3][];
        var a = slots[slot];
        if (a is null || a.Length < length)
        {
            if (length > Array.MaxLength) ThrowHelper.NotSupported($"Training-conv scratch of {length} floats exceeds the largest array.");
            slots[slot] = null;
            a = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 16), pinned: true);
            slots[slot] = a;
        }
        return a;
    }
}
