using System.Text.Json;

namespace Lacuna.Server;

/// <summary>Whether a model is planned with the sparse planner (each layer's fastest kernel) or dense kernels only.</summary>
public enum PlanKind { Sparse, Dense }

/// <summary>
/// How one model is served: the batching limits and the plan. Read from the repository's optional
/// <c>NAME/config.json</c>; what the file leaves out comes from the command line's defaults.
/// <code>
/// { "max_batch_size": 16, "preferred_batch_sizes": [4, 8, 16], "max_queue_delay_microseconds": 500,
///   "max_queue_size": 128, "threads": 2, "instances": 1, "plan": "sparse" }
/// </code>
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Most rows one engine run takes; 1 turns dynamic batching off (each request runs alone).</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Batch sizes the batcher dispatches at once when reached (Triton's <c>preferred_batch_size</c>).</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [];

    /// <summary>How long the first queued request may wait for others to join its batch.</summary>
    public int MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Requests waiting in the queue at most; one more is answered 503 at once.</summary>
    public int MaxQueueSize { get; init; } = 128;

    /// <summary>
    /// Engine threads for each of this model's runs (capped by the server's budget); null: the whole budget divided
    /// among the <see cref="Instances"/>.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>
    /// Engine instances (Triton's <c>instance_group</c> count): batches of this model that run at once, each formed from
    /// the one queue and run by a thread of its own. Instances of one thread each run side by side with no barrier
    /// between them, where one run on all threads meets every layer's fork-join barrier and waits at it whenever the
    /// HTTP work on the same cores preempts one worker; runs of more than one thread still take turns.
    /// </summary>
    public int Instances { get; init; } = 1;

    public PlanKind Plan { get; init; } = PlanKind.Sparse;

    /// <summary>
    /// The batch sizes planned (and warmed up) at load: 1, the powers of two below the maximum, the preferred sizes and
    /// the maximum. A batch of another size runs padded to the next planned size, so no request ever waits for the
    /// planner (planning times every candidate kernel and takes seconds on a large model), and padding never doubles the
    /// work: with only 1 and 16 planned, 16 closed-loop callers settled into batches of 8, each run padded to 16 (ResNet-50
    /// at 0.9, 2 threads: 49 requests/s against 89 images/s in process).
    /// </summary>
    public IReadOnlyList<int> PlannedBatchSizes
    {
        get
        {
            var sizes = new SortedSet<int> { 1, MaxBatchSize };
            foreach (int p in PreferredBatchSizes) sizes.Add(p);
            for (int p = 2; p < MaxBatchSize; p *= 2) sizes.Add(p);
            return sizes.ToList();
        }
    }

    /// <summary>Checks the limits; returns a one-line problem or null.</summary>
    public string? Problem()
    {
        if (MaxBatchSize < 1) return $"max_batch_size must be at least 1 (got {MaxBatchSize}).";
        foreach (int p in PreferredBatchSizes)
            if (p < 1 || p > MaxBatchSize) return $"preferred batch size {p} is not in [1, max_batch_size = {MaxBatchSize}].";
        if (MaxQueueDelayMicroseconds < 0) return $"max_queue_delay_microseconds must be non-negative (got {MaxQueueDelayMicroseconds}).";
        if (MaxQueueSize < 1) return $"max_queue_size must be at least 1 (got {MaxQueueSize}).";
        if (Threads is < 1) return $"threads must be at least 1 (got {Threads}).";
        if (Instances is < 1 or > 64) return $"instances must be in [1, 64] (got {Instances}).";
        return null;
    }

    private static readonly string[] s_keys =
        ["max_batch_size", "preferred_batch_sizes", "max_queue_delay_microseconds", "max_queue_size", "threads", "instances", "plan"];

    /// <summary>Reads <c>config.json</c> over <paramref name="defaults"/>; a bad file throws naming the file and the key.</summary>
    public static ModelConfig Read(string path, ModelConfig defaults)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}: expected a JSON object.");
            var c = defaults;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                try
                {
                    c = p.Name switch
                    {
                        "max_batch_size" => c with { MaxBatchSize = p.Value.GetInt32() },
                        "preferred_batch_sizes" => c with { PreferredBatchSizes = p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray() },
                        "max_queue_delay_microseconds" => c with { MaxQueueDelayMicroseconds = p.Value.GetInt32() },
                        "max_queue_size" => c with { MaxQueueSize = p.Value.GetInt32() },
                        "threads" => c with { Threads = p.Value.GetInt32() },
                        "instances" => c with { Instances = p.Value.GetInt32() },
                        "plan" => c with { Plan = ParsePlan(p.Value.GetString()) ?? throw new FormatException("expected \"sparse\" or \"dense\"") },
                        _ => throw new FormatException($"unknown key; known: {string.Join(", ", s_keys)}"),
                    };
                }
                catch (Exception e) when (e is InvalidOperationException or FormatException)
                {
                    throw new FormatException($"{path}: \"{p.Name}\": {e.Message}");
                }
            }
            if (c.Problem() is string problem) throw new FormatException($"{path}: {problem}");
            return c;
        }
    }

    public static PlanKind? ParsePlan(string? text) => text switch
    {
        "sparse" => PlanKind.Sparse,
        "dense" => PlanKind.Dense,
        _ => null,
    };
}
