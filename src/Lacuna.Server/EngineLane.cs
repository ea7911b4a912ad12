using Lacuna.Threading;

namespace Lacuna.Server;

/// <summary>
/// The server's one engine thread budget: every model's planning, warm-up and batch runs take turns here, one at a
/// time, each on up to <see cref="Budget"/> threads of the engine's worker pool. Two batches at once would only split
/// the same cores (the pool runs a second caller inline, single-threaded) and make both slower.
/// </summary>
public sealed class EngineLane(int budget)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public int Budget { get; } = budget >= 1 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), budget, "the thread budget must be at least 1.");

    /// <summary>Runs <paramref name="work"/> alone on <paramref name="threads"/> threads (capped by the budget).</summary>
    public T Run<T>(int? threads, Func<T> work)
    {
        _gate.Wait();
        try
        {
            // The engine reads its thread count from one process-wide setting; inside the lane nothing else runs,
            // so setting it here is safe.
            int want = Math.Min(threads ?? Budget, Budget);
            if (WorkerPool.DefaultThreads != want) WorkerPool.DefaultThreads = want;
            return work();
        }
        finally
        {
            _gate.Release();
        }
    }
}
