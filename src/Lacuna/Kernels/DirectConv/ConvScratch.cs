namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Grow-only, per-thread, pinned scratch arrays (the im2col matrix, the padded input copy, weights packed
/// for a one-off <see cref="DenseConv2d.Compute"/>), so steady-state calls allocate nothing large.
/// The calling thread owns its arrays; workers of the same call only read or write disjoint parts of them.
/// </summary>
internal static class ConvScratch
{
    public const int Columns = 0, Padded = 0, PackedWeights = 1, PackedBias = 2;

    [ThreadStatic] private static float[]?[]? t_slots;
    [ThreadStatic] private static int t_epoch;

    /// <summary>A pinned array of at least <paramref name="length"/> floats (contents undefined).</summary>
    public static float[] Get(int slot, long length)
    {
        DropIfStale();
        var slots = t_slots ??= new float[3][];
        var a = slots[slot];
        if (a is null || a.Length < length)
        {
            if (length > Array.MaxLength) ThrowHelper.NotSupported($"Convolution scratch of {length} floats exceeds the largest array.");
            slots[slot] = null; // let the old one go before allocating the new one
            a = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 16), pinned: true);
            slots[slot] = a;
        }
        return a;
    }

    /// <summary>Forgets this thread's arrays (<see cref="ScratchEpoch.Advance"/>, outside any kernel call).</summary>
    internal static void DropThisThread()
    {
        t_slots = null;
    }

    /// <summary>
    /// Forgets this thread's arrays once <see cref="ScratchEpoch.Advance"/> has marked them stale: all of them, since
    /// callers hold the arrays themselves (not pointers), which stay valid for as long as they are held.
    /// </summary>
    private static void DropIfStale()
    {
        int epoch = ScratchEpoch.Current;
        if (t_epoch == epoch) return;
        t_slots = null;
        t_epoch = epoch;
    }
}
