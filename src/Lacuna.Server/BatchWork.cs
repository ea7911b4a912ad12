namespace Lacuna.Server;

/// <summary>
/// One inference request waiting for the engine: its inputs (one flat row-major array per model input, in the model's
/// input order), its row count, and where its own rows of the outputs go.
/// </summary>
public sealed class BatchWork(float[][] inputs, int rows)
{
    public float[][] Inputs { get; } = inputs;
    public int Rows { get; } = rows;
    public long EnqueuedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Completed off the batcher's thread, so response writing never holds up the next batch.</summary>
    public TaskCompletionSource<BatchResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A request's outputs (one flat array per model output, its rows only) and where its time went.</summary>
public sealed record BatchResult(float[][] Outputs, int BatchRows, double QueueSeconds, double ComputeSeconds);
