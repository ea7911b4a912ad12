using System.Diagnostics;

namespace Lacuna.Server;

/// <summary>
/// Dynamic batching as Triton defines it, for one model version: requests queue (bounded: a full queue refuses at once),
/// and a dedicated thread per engine instance (<see cref="ModelConfig.Instances"/>) merges them into batches of at most
/// <see cref="ModelConfig.MaxBatchSize"/> rows when its instance is free. A batch is
/// dispatched as soon as it is full or has reached a preferred batch size with nothing else waiting, and otherwise
/// when its first request has waited the queue delay. A batch may then be trimmed to fewer whole requests (see
/// <see cref="BatchSizing"/>), the rest going back to the front of the queue. Requests are never split: each caller
/// gets exactly its own rows.
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    private readonly LinkedList<BatchWork> _queue = new(); // a batch trimmed to a planned size puts its tail back in front
    private readonly ModelConfig _config;
    private readonly Action<List<BatchWork>, int> _runBatch;
    private readonly Func<IReadOnlyList<int>, int>? _take;
    private readonly Thread[] _threads;
    private bool _closed;

    /// <param name="runBatch">
    /// Runs one merged batch on an instance (0 to <see cref="ModelConfig.Instances"/> - 1) and completes every request in
    /// it; called on that instance's thread, so an instance's buffers are never used by two batches at once.
    /// </param>
    /// <param name="take">
    /// Given the merged requests' cumulative rows, how many of them the batch keeps (the rest go back to the front of
    /// the queue, in order); null: all (<see cref="BatchSizing.Take"/> is the server's).
    /// </param>
    public DynamicBatcher(string name, ModelConfig config, Action<List<BatchWork>, int> runBatch, Func<IReadOnlyList<int>, int>? take = null)
    {
        _config = config;
        _runBatch = runBatch;
        _take = take;
        _threads = new Thread[config.Instances];
        for (int i = 0; i < _threads.Length; i++)
        {
            int instance = i;
            _threads[i] = new Thread(() => Loop(instance)) { IsBackground = true, Name = $"lacuna-batcher-{name}-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Requests waiting (not yet in a running batch).</summary>
    public int QueueLength { get { lock (_queue) return _queue.Count; } }

    /// <summary>Queues a request; false when the queue is full or closed (the caller answers 503).</summary>
    public bool TryEnqueue(BatchWork work)
    {
        lock (_queue)
        {
            if (_closed || _queue.Count >= _config.MaxQueueSize) return false;
            _queue.AddLast(work);
            Monitor.Pulse(_queue);
            return true;
        }
    }

    private void Loop(int instance)
    {
        var batch = new List<BatchWork>();
        while (Next(batch))
        {
            _runBatch(batch, instance);
            batch.Clear();
        }
    }

    /// <summary>Waits for the next batch; false once closed and drained.</summary>
    private bool Next(List<BatchWork> batch)
    {
        lock (_queue)
        {
            while (_queue.Count == 0)
            {
                if (_closed) return false;
                Monitor.Wait(_queue);
            }
            var first = _queue.First!.Value;
            _queue.RemoveFirst();
            batch.Add(first);
            int rows = first.Rows;
            long deadline = first.EnqueuedAt + (long)(_config.MaxQueueDelayMicroseconds * (Stopwatch.Frequency / 1e6));
            while (rows < _config.MaxBatchSize)
            {
                if (_queue.First?.Value is { } next)
                {
                    if (rows + next.Rows > _config.MaxBatchSize) break; // it starts the next batch
                    batch.Add(next);
                    _queue.RemoveFirst();
                    rows += next.Rows;
                    continue;
                }
                if (_closed || _config.PreferredBatchSizes.Contains(rows)) break;
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) break;
                Monitor.Wait(_queue, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            }
            if (_take is not null && batch.Count > 1)
            {
                var cumulative = new int[batch.Count];
                for (int i = 0, sum = 0; i < batch.Count; i++) cumulative[i] = sum += batch[i].Rows;
                int keep = Math.Clamp(_take(cumulative), 1, batch.Count);
                if (keep < batch.Count)
                {
                    for (int i = batch.Count - 1; i >= keep; i--) _queue.AddFirst(batch[i]);
                    batch.RemoveRange(keep, batch.Count - keep);
                    Monitor.PulseAll(_queue); // an idle instance may take them at once
                }
            }
            return true;
        }
    }

    /// <summary>Refuses new requests, lets the queued ones finish, and waits for the threads.</summary>
    public void Dispose()
    {
        lock (_queue)
        {
            _closed = true;
            Monitor.PulseAll(_queue);
        }
        foreach (var t in _threads) t.Join();
    }
}
