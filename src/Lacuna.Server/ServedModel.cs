using System.Diagnostics;
using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Microsoft.Extensions.Logging;

namespace Lacuna.Server;

public enum ModelState { Loading, Ready, Failed }

/// <summary>
/// One version of one model: loaded from its ONNX file, planned for its batch sizes and warmed up (only then ready),
/// then fed by its <see cref="DynamicBatcher"/> through the server's <see cref="EngineLane"/>.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private InferenceSession? _session;
    private DynamicBatcher? _batcher;
    private Dictionary<int, Tensor[]>[] _batchInputs = [new()]; // per instance and planned size, reused: only that instance's thread touches them
    private volatile ModelState _state = ModelState.Loading;

    public ServedModel(string name, string version, string path, ModelConfig config)
    {
        Name = name;
        Version = version;
        Path = path;
        Config = config;
    }

    public string Name { get; }
    public string Version { get; }
    public string Path { get; }
    public ModelConfig Config { get; }
    public ModelState State => _state;
    public string? LoadError { get; private set; }

    /// <summary>True when every input's first dimension is the batch (symbolic): requests then carry it, and batch.</summary>
    public bool Batched { get; private set; }
    public IReadOnlyList<TensorSpec> Inputs { get; private set; } = [];
    public IReadOnlyList<TensorSpec> Outputs { get; private set; } = [];
    public IReadOnlyList<int> PlannedBatchSizes { get; private set; } = [];
    public double LoadSeconds { get; private set; }
    public double PlanningSeconds { get; private set; }
    public double WarmupSeconds { get; private set; }

    /// <summary>Run time at each planned batch size, from the warm-up (the batcher's padding-or-trimming choice).</summary>
    public IReadOnlyDictionary<int, double> RunMilliseconds { get; private set; } = new Dictionary<int, double>();

    /// <summary>Engine threads each batch of this model runs on (the plans were made at this count).</summary>
    public int RunThreads { get; private set; } = 1;
    public int QueueLength => _batcher?.QueueLength ?? 0;

    /// <summary>The planned session once ready (benchmarks time it in process against the server); null before.</summary>
    public InferenceSession? Session => _state == ModelState.Ready ? _session : null;

    /// <summary>Reads, plans and warms the model; on failure the model stays <see cref="ModelState.Failed"/> with the reason.</summary>
    /// <remarks>
    /// <paramref name="stop"/> (the server stopping) interrupts planning between layers: the model then ends failed
    /// ("stopped while planning") at once, so a SIGTERM never waits for a minutes-long plan.
    /// </remarks>
    public void Load(EngineLane lane, ServerMetrics metrics, ILogger log, CancellationToken stop = default)
    {
        try
        {
            long t0 = Stopwatch.GetTimestamp();
            var options = (Config.Plan == PlanKind.Dense ? PassOptions.Dense : new PassOptions()) with { PlanningCancellation = stop };
            var session = OnnxGraphImporter.LoadSession(Path, options);
            LoadSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Batched = session.RuntimeInputs.Count > 0 && session.RuntimeInputs.All(i => i.Shape is { Length: > 0 } s && s[0] == GraphValue.Symbolic);
            foreach (var i in session.RuntimeInputs)
                if (i.Shape is null || i.Shape.Skip(Batched ? 1 : 0).Any(d => d < 0))
                    throw new NotSupportedException($"input '{i.Name}' has shape {i.ShapeText}: only the first (batch) dimension may be symbolic.");
            // An unbatched model runs one request at a time at its declared shape; its "batch" is that one request.
            PlannedBatchSizes = Batched ? Config.PlannedBatchSizes : [1];
            Inputs = session.RuntimeInputs.Select(i => new TensorSpec(i.Name, "FP32", i.Shape!)).ToArray();

            // Planning is the slow step (the sparse planner times every candidate kernel per layer at each batch size),
            // then one run per size warms the kernels and the arenas: a model is ready only after both. Plans are made
            // at the threads each instance runs on.
            RunThreads = lane.ThreadsFor(Config.Threads ?? Math.Max(1, lane.Budget / Config.Instances));
            _batchInputs = Enumerable.Range(0, Config.Instances).Select(_ => new Dictionary<int, Tensor[]>()).ToArray();
            t0 = Stopwatch.GetTimestamp();
            var plans = lane.Run(RunThreads, () => PlannedBatchSizes.Select(session.PlanFor).ToArray());
            PlanningSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Outputs = session.Outputs.Select(o => new TensorSpec(o.Name, "FP32", OutputShape(o.Name, plans))).ToArray();
            t0 = Stopwatch.GetTimestamp();
            _session = session;
            var runMs = new Dictionary<int, double>();
            foreach (int b in PlannedBatchSizes)
            {
                var inputs = BatchInputs(0, b);
                for (int k = 0; k < inputs.Length; k++) inputs[k].FillRandom((ulong)(k + 1));
                // The first run warms; the faster of two more is the size's run time, which batch sizing weighs.
                for (int run = 0; run < 3; run++)
                {
                    long r0 = Stopwatch.GetTimestamp();
                    var outs = lane.Run(RunThreads, () => session.Run(Feeds(inputs)));
                    double ms = Stopwatch.GetElapsedTime(r0).TotalMilliseconds;
                    foreach (var t in outs.Values) t.Dispose();
                    if (run > 0) runMs[b] = Math.Min(ms, runMs.GetValueOrDefault(b, double.MaxValue));
                }
            }
            RunMilliseconds = runMs;
            WarmupSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            _batcher = new DynamicBatcher($"{Name}-{Version}", Config with { MaxBatchSize = Batched ? Config.MaxBatchSize : 1 },
                (batch, instance) => RunBatch(batch, instance, lane, metrics), cumulative => BatchSizing.Take(cumulative, PlannedBatchSizes, runMs));
            _state = ModelState.Ready;
            log.LogInformation("model {Model} version {Version} ready: loaded in {LoadSeconds:F2} s, planned batch sizes {BatchSizes} ({Plan}) in {PlanningSeconds:F2} s, warmed up in {WarmupSeconds:F2} s",
                Name, Version, LoadSeconds, string.Join(",", PlannedBatchSizes), Config.Plan.ToString().ToLowerInvariant(), PlanningSeconds, WarmupSeconds);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            LoadError = "the server stopped while this model was loading or planning.";
            _state = ModelState.Failed;
            log.LogWarning("model {Model} version {Version}: planning interrupted by shutdown", Name, Version);
        }
        catch (Exception e)
        {
            // Any failure (a bad file, an unsupported operator, a planner error) leaves this model failed and the others
            // loading: the server keeps answering, /ready says why, and readiness stays 503.
            LoadError = e.Message;
            _state = ModelState.Failed;
            log.LogError("model {Model} version {Version} failed to load from {Path}: {Error}", Name, Version, Path, e.Message);
        }
    }

    /// <summary>Leaves a model that was never loaded failed with <paramref name="reason"/> (shutdown before its turn).</summary>
    internal void MarkNotLoaded(string reason)
    {
        LoadError = reason;
        _state = ModelState.Failed;
    }

    /// <summary>The output's shape with -1 for the batch: its dimension 0 follows the planned batch size.</summary>
    private int[] OutputShape(string name, ExecutionPlan[] plans)
    {
        var shape = (int[])plans[0].Shapes[name].Clone();
        if (!Batched) return shape;
        foreach (var p in plans)
            if (p.Shapes[name] is not { Length: > 0 } s || s[0] != p.Batch)
                throw new NotSupportedException($"output '{name}' does not carry the batch in its first dimension (shape [{string.Join(", ", p.Shapes[name])}] at batch {p.Batch}), so requests cannot be batched.");
        shape[0] = -1;
        return shape;
    }

    /// <summary>Queues a request's inputs (validated already); a full queue answers 503 at once.</summary>
    public Task<BatchResult> Submit(BatchWork work)
    {
        if (_state != ModelState.Ready || _batcher is null)
            throw ProtocolException.Unavailable($"model '{Name}' version {Version} is not ready ({StateText}).");
        if (!_batcher.TryEnqueue(work))
            throw ProtocolException.Unavailable($"model '{Name}' version {Version}: the queue is full ({Config.MaxQueueSize} requests waiting); retry later.");
        return work.Completion.Task;
    }

    public string StateText => _state switch
    {
        ModelState.Ready => "ready",
        ModelState.Failed => $"failed to load: {LoadError}",
        _ => "loading and planning",
    };

    private Tensor[] BatchInputs(int instance, int batch)
    {
        var mine = _batchInputs[instance];
        if (mine.TryGetValue(batch, out var tensors)) return tensors;
        tensors = Inputs.Select(i => new Tensor(Batched ? [batch, .. i.Shape.AsSpan(1)] : i.Shape)).ToArray();
        return mine[batch] = tensors;
    }

    private Dictionary<string, Tensor> Feeds(Tensor[] inputs)
    {
        var feeds = new Dictionary<string, Tensor>(inputs.Length, StringComparer.Ordinal);
        for (int k = 0; k < inputs.Length; k++) feeds[Inputs[k].Name] = inputs[k];
        return feeds;
    }

    /// <summary>
    /// Merges the requests' rows into the smallest planned batch that holds them (zero rows pad the rest), runs it once,
    /// and hands each request exactly its own rows of every output.
    /// </summary>
    private void RunBatch(List<BatchWork> batch, int instance, EngineLane lane, ServerMetrics metrics)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            int rows = batch.Sum(w => w.Rows);
            int planned = PlannedBatchSizes.First(b => b >= rows);
            var inputs = BatchInputs(instance, planned);
            for (int k = 0; k < inputs.Length; k++)
            {
                var dst = inputs[k].Span;
                int at = 0;
                foreach (var w in batch) { w.Input(k).CopyTo(dst[at..]); at += w.Lengths[k]; }
                dst[at..].Clear(); // padding rows: their outputs are dropped, zeros keep them finite and cheap
            }
            var session = _session!;
            var outs = lane.Run(RunThreads, () => session.Run(Feeds(inputs)));
            double compute = Stopwatch.GetElapsedTime(start).TotalSeconds;
            try
            {
                var spans = Outputs.Select(o => outs[o.Name]).ToArray();
                int row = 0;
                foreach (var w in batch)
                {
                    var result = new float[spans.Length][];
                    for (int o = 0; o < spans.Length; o++)
                    {
                        int per = spans[o].Length / planned; // unbatched models: planned = rows = 1, the whole output
                        result[o] = spans[o].Span.Slice(row * per, w.Rows * per).ToArray();
                    }
                    row += w.Rows;
                    metrics.ObserveQueue(Name, (double)(start - w.EnqueuedAt) / Stopwatch.Frequency);
                    w.Completion.TrySetResult(new BatchResult(result, rows, (double)(start - w.EnqueuedAt) / Stopwatch.Frequency, compute));
                }
                metrics.ObserveBatch(Name, rows, compute);
            }
            finally
            {
                foreach (var t in outs.Values) t.Dispose();
            }
        }
        catch (Exception e)
        {
            // An engine failure fails this batch's requests (500), not the server.
            foreach (var w in batch) w.Completion.TrySetException(e);
        }
    }

    /// <summary>Stops taking requests, finishes the queued ones, frees the reused batch tensors.</summary>
    public void Dispose()
    {
        _batcher?.Dispose();
        foreach (var mine in _batchInputs)
        {
            foreach (var ts in mine.Values) foreach (var t in ts) t.Dispose();
            mine.Clear();
        }
    }
}
