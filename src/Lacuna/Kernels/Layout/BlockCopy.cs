namespace Lacuna.Kernels.Layout;

/// <summary>
/// The strided block copy under Concat and Split: <c>outer</c> blocks of <c>block</c> floats, block o read at
/// o·srcStride and written at o·dstStride. Each block is one memmove (vectorized by the runtime); threads split the
/// blocks, or the single block itself when there is only one.
/// </summary>
internal static class BlockCopy
{
    public static unsafe void Run(float* src, long srcStride, float* dst, long dstStride, int outer, int block, int threads)
    {
        if (outer <= 0 || block <= 0) return;
        long total = (long)outer * block;
        if (outer == 1)
        {
            // One big block (Concat on axis 0 or 1 at batch 1): split it into equal pieces instead.
            int pieces = KernelParallel.Parts(threads, block, total);
            KernelParallel.For(block, pieces, (s, e) =>
                new ReadOnlySpan<float>(src + s, e - s).CopyTo(new Span<float>(dst + s, e - s)));
            return;
        }
        int parts = KernelParallel.Parts(threads, outer, total);
        KernelParallel.For(outer, parts, (s, e) =>
        {
            for (int o = s; o < e; o++)
                new ReadOnlySpan<float>(src + o * srcStride, block).CopyTo(new Span<float>(dst + o * dstStride, block));
        });
    }
}
