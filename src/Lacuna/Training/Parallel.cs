using Lacuna.Threading;

namespace Lacuna.Training;

/// <summary>Splits per-image or per-channel loops of the training layers over the shared worker pool.</summary>
internal static class Parallel
{
    /// <summary>Runs body(start, end) over [0, count) in up to <paramref name="threads"/> contiguous ranges.</summary>
    public static void For(int count, int threads, Action<int, int> body)
    {
        int parts = Math.Min(WorkerPool.Resolve(threads), count);
        if (parts <= 1) { body(0, count); return; }
        WorkerPool.Shared.Run(parts, p =>
        {
            var (s, e) = WorkerPool.Range(count, parts, p);
            body(s, e);
        });
    }
}
