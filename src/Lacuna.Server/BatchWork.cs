using System.Buffers;

namespace Lacuna.Server;

/// <summary>
/// One inference request waiting for the engine: its inputs (one flat row-major array per model input, in the model's
/// input order, rented from the shared pool and possibly longer than <see cref="Lengths"/>), its row count, and where
/// its own rows of the outputs go.
/// </summary>
public sealed class BatchWork(float[][] inputs, int[] lengths, int rows)
{
    private int _released;

    public float[][] Inputs { get; } = inputs;
    public int[] Lengths { get; } = lengths;
    public int Rows { get; } = rows;

    public ReadOnlySpan<float> Input(int k) => Inputs[k].AsSpan(0, Lengths[k]);

    /// <summary>
    /// Returns the input arrays to the pool, once: an image request is hundreds of KB, and fresh arrays that size live
    /// on the large-object heap until a full collection, which made resident memory climb under load.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        foreach (var a in Inputs) if (a is not null) ArrayPool<float>.Shared.Return(a);
    }
    public long EnqueuedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Completed off the batcher's thread, so response writing never holds up the next batch.</summary>
    public TaskCompletionSource<BatchResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A request's outputs (one flat array per model output, its rows only) and where its time went.</summary>
public sealed record BatchResult(float[][] Outputs, int BatchRows, double QueueSeconds, double ComputeSeconds);
