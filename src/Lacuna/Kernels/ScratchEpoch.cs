namespace Lacuna.Kernels;

/// <summary>
/// Lets the grow-only per-thread scratch (<see cref="AlignedScratch"/>, <see cref="DirectConv.ConvScratch"/>,
/// <see cref="SparseConv.SparseConvScratch"/>) forget what planning grew it to. The planner times every candidate of
/// every layer, so each thread's scratch ended planning at the size of the largest candidate's need, not the chosen
/// kernels' (ResNet-50 at DLMC 0.9: the stem's dense im2col matrix, 7 MB, which the chosen sparse plans never use).
/// <see cref="Advance"/> marks every thread's scratch stale; a thread replaces a stale buffer on its next request for it
/// and grows it again only as far as the kernels it then runs need.
/// </summary>
internal static class ScratchEpoch
{
    private static int s_current;

    public static int Current => Volatile.Read(ref s_current);

    /// <summary>Marks all threads' scratch stale, and drops the calling thread's at once (so a collection now frees it).</summary>
    public static void Advance()
    {
        Interlocked.Increment(ref s_current);
        AlignedScratch.DropThisThread();
        DirectConv.ConvScratch.DropThisThread();
        SparseConv.SparseConvScratch.DropThisThread();
    }
}
