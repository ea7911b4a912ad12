using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// How the layer kernels (normalization, pooling, layout) split their work over <see cref="WorkerPool"/>: into at
/// most the requested thread count of contiguous unit ranges, and not at all when the whole job is too small for a
/// dispatch to pay off.
/// </summary>
internal static class KernelParallel
{
    /// <summary>About this many elements moved or computed per part before a second thread is worth waking.</summary>
    public const long MinElementsPerPart = 1 << 15;

    /// <summary>Parts for <paramref name="units"/> work units totalling <paramref name="elements"/> elements.</summary>
    public static int Parts(int threads, int units, long elements)
    {
        int t = WorkerPool.Resolve(threads);
        long bySize = Math.Max(1, elements / MinElementsPerPart);
        return (int)Math.Max(1, Math.Min(Math.Min(t, units), bySize));
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, units) split into <paramref name="parts"/> ranges.</summary>
    public static void For(int units, int parts, Action<int, int> body)
    {
        if (units <= 0) return;
        if (parts <= 1) { body(0, units); return; }
        WorkerPool.Shared.Run(parts, part =>
        {
            var (s, e) = WorkerPool.Range(units, parts, part);
            if (s < e) body(s, e);
        });
    }
}
