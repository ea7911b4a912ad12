using Lacuna.Threading;

namespace Lacuna.Server.Tests;

/// <summary>
/// The engine lane: single-threaded runs (engine instances) run side by side up to the budget; a multi-threaded run
/// runs alone. Each test proves overlap or its absence with events, never with timing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EngineLaneTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Single_threaded_runs_overlap_up_to_the_budget_on_one_engine_thread_each()
    {
        int before = WorkerPool.DefaultThreads;
        try
        {
            var lane = new EngineLane(2);
            using var bothIn = new CountdownEvent(2);
            using var third = new ManualResetEventSlim();
            int inside = 0, most = 0;
            int Run()
            {
                int now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                int threads = WorkerPool.DefaultThreads;
                bothIn.Signal();
                // Each waits for the other to be inside too: only runs that overlap get past this.
                bool overlapped = bothIn.Wait(Wait);
                third.Wait(Wait); // held until the third run is known to be waiting
                Interlocked.Decrement(ref inside);
                return overlapped ? threads : -1;
            }
            var a = Task.Factory.StartNew(() => lane.Run(1, Run), TaskCreationOptions.LongRunning);
            var b = Task.Factory.StartNew(() => lane.Run(1, Run), TaskCreationOptions.LongRunning);
            Assert.True(bothIn.Wait(Wait), "two single-threaded runs did not run at once on a budget of 2");
            // A third is over the budget: it waits until one of the two ends.
            int thirdSawInside = -1;
            var c = Task.Factory.StartNew(() => lane.Run(1, () => thirdSawInside = Volatile.Read(ref inside)), TaskCreationOptions.LongRunning);
            await BatchingTests.WaitUntil(() => lane.Waiting == 1);
            Assert.False(c.IsCompleted, "a third single-threaded run started over the budget of 2");
            third.Set();
            Assert.Equal(1, await a);
            Assert.Equal(1, await b);
            await c;
            Assert.True(thirdSawInside < 2, $"the third run ran with {thirdSawInside} others inside");
            Assert.Equal(2, most);
        }
        finally
        {
            WorkerPool.DefaultThreads = before;
        }
    }

    [Fact]
    public async Task A_multi_threaded_run_runs_alone_and_single_threaded_runs_wait_behind_it()
    {
        int before = WorkerPool.DefaultThreads;
        try
        {
            var lane = new EngineLane(2);
            using var narrowIn = new ManualResetEventSlim();
            using var releaseNarrow = new ManualResetEventSlim();
            var narrow = Task.Factory.StartNew(() => lane.Run(1, () => { narrowIn.Set(); return releaseNarrow.Wait(Wait); }), TaskCreationOptions.LongRunning);
            Assert.True(narrowIn.Wait(Wait));
            int wideSaw = -1;
            bool wideDone = false;
            var wide = Task.Factory.StartNew(() => lane.Run(null, () => { wideSaw = WorkerPool.DefaultThreads; Volatile.Write(ref wideDone, true); return 0; }), TaskCreationOptions.LongRunning);
            // The wide run waits for the narrow one; a second narrow run, arriving after it, waits behind it.
            await BatchingTests.WaitUntil(() => lane.Waiting == 1);
            bool lateRan = false;
            var late = Task.Factory.StartNew(() => lane.Run(1, () => lateRan = Volatile.Read(ref wideDone)), TaskCreationOptions.LongRunning);
            await BatchingTests.WaitUntil(() => lane.Waiting == 2);
            Assert.False(wide.IsCompleted, "a two-thread run started while a single-threaded run was in progress");
            Assert.False(late.IsCompleted, "a single-threaded run overtook a waiting two-thread run");
            releaseNarrow.Set();
            Assert.True(await narrow);
            await wide;
            await late;
            Assert.Equal(2, wideSaw);
            Assert.True(lateRan, "the single-threaded run that arrived after the two-thread run ran before it finished");
        }
        finally
        {
            WorkerPool.DefaultThreads = before;
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
