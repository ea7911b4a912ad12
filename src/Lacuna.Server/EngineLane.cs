using Lacuna.Threading;

namespace Lacuna.Server;

/// <summary>
/// The server's one engine thread budget: every model's planning, warm-up and batch runs go through here. A run on
/// more than one thread runs alone: the engine's worker pool runs one parallel job at a time (a second caller runs
/// inline, single-threaded) and its thread setting is process-wide, so two such runs would only split the same cores
/// and both be slower. Runs on one thread each, though, share nothing: up to <see cref="Budget"/> of them run at once,
/// each on its caller's thread. That is what a model's engine instances (<see cref="ModelConfig.Instances"/>) use.
/// </summary>
public sealed class EngineLane(int budget)
{
    private readonly object _lock = new();
    private int _running;      // runs in progress
    private int _runThreads;   // the thread setting of the runs in progress
    private int _waitingWide;  // multi-threaded runs waiting: single-threaded ones queue behind them rather than starve them
    private int _waiting;      // all runs waiting (tests)

    public int Budget { get; } = budget >= 1 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), budget, "the thread budget must be at least 1.");

    /// <summary>The threads a run asking for <paramref name="threads"/> gets (null: the whole budget).</summary>
    public int ThreadsFor(int? threads) => Math.Clamp(threads ?? Budget, 1, Budget);

    /// <summary>Runs <paramref name="work"/> on <paramref name="threads"/> threads (capped by the budget), alone unless single-threaded.</summary>
    public T Run<T>(int? threads, Func<T> work)
    {
        int want = ThreadsFor(threads);
        lock (_lock)
        {
            if (want > 1) _waitingWide++;
            _waiting++;
            try
            {
                while (!CanStart(want)) Monitor.Wait(_lock);
            }
            finally
            {
                if (want > 1) _waitingWide--;
                _waiting--;
            }
            _running++;
            _runThreads = want;
            // The engine reads its thread count from one process-wide setting; every run in progress agrees on it.
            if (WorkerPool.DefaultThreads != want) WorkerPool.DefaultThreads = want;
        }
        try
        {
            return work();
        }
        finally
        {
            lock (_lock)
            {
                _running--;
                Monitor.PulseAll(_lock);
            }
        }
    }

    /// <summary>Runs waiting for their turn, themselves included (tests).</summary>
    internal int Waiting { get { lock (_lock) return _waiting; } }

    // A multi-threaded run starts on an idle lane; a single-threaded one also beside other single-threaded ones, up to
    // the budget, but never ahead of a waiting multi-threaded run.
    private bool CanStart(int want) =>
        want > 1 ? _running == 0 : _waitingWide == 0 && (_running == 0 || (_runThreads == 1 && _running < Budget));
}
