using Lacuna.Threading;

namespace Lacuna.Tests.Threading;

public class WorkerPoolTests
{
    [Fact]
    public void Every_part_runs_exactly_once()
    {
        using var pool = new WorkerPool(4);
        for (int parts = 0; parts <= 6; parts++)
        {
            var hits = new int[parts];
            pool.Run(parts, p => Interlocked.Increment(ref hits[p]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void Nested_and_concurrent_runs_do_not_deadlock()
    {
        using var pool = new WorkerPool(2);
        int total = 0;
        Parallel.For(0, 8, _ =>
            pool.Run(2, p => pool.Run(2, q => Interlocked.Increment(ref total))));
        Assert.Equal(8 * 2 * 2, total);
    }

    [Fact]
    public void Exceptions_in_parts_surface()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.Run(2, p => { if (p == 1) throw new InvalidOperationException("boom"); }));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        // The pool still works afterwards.
        int n = 0;
        pool.Run(2, _ => Interlocked.Increment(ref n));
        Assert.Equal(2, n);
    }

    [Theory]
    [InlineData(100, 3, 8)]
    [InlineData(7, 4, 1)]
    [InlineData(0, 2, 4)]
    [InlineData(5, 8, 6)]
    public void Ranges_cover_everything_once_on_grain_boundaries(int total, int parts, int grain)
    {
        int next = 0;
        for (int p = 0; p < parts; p++)
        {
            var (s, e) = WorkerPool.Range(total, parts, p, grain);
            Assert.Equal(next, s);
            Assert.True(e >= s);
            if (e < total) Assert.Equal(0, e % grain);
            next = e;
        }
        Assert.Equal(total, next);
    }
}
