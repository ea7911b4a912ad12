using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Lacuna.Server;

/// <summary>
/// What <c>/metrics</c> reports, in the Prometheus text format (version 0.0.4): requests and failures per model,
/// request, queue and compute latency histograms, the batch-size histogram and the requests in flight.
/// </summary>
public sealed class ServerMetrics
{
    private sealed class PerModel
    {
        public long Requests, Failures;
        public readonly Histogram Request = new(Histogram.SecondsBuckets);
        public readonly Histogram Queue = new(Histogram.SecondsBuckets);
        public readonly Histogram Compute = new(Histogram.SecondsBuckets);
        public readonly Histogram Batch = new(Histogram.BatchBuckets);
    }

    private readonly ConcurrentDictionary<string, PerModel> _models = new(StringComparer.Ordinal);
    private long _inFlight;

    private PerModel Of(string model) => _models.GetOrAdd(model, _ => new PerModel());

    public long InFlight => Interlocked.Read(ref _inFlight);
    public void RequestStarted() => Interlocked.Increment(ref _inFlight);
    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    /// <summary>One inference request answered (any status) for a known model.</summary>
    public void ObserveRequest(string model, bool failed, double seconds)
    {
        var m = Of(model);
        Interlocked.Increment(ref m.Requests);
        if (failed) Interlocked.Increment(ref m.Failures);
        m.Request.Observe(seconds);
    }

    public void ObserveQueue(string model, double seconds) => Of(model).Queue.Observe(seconds);

    public void ObserveBatch(string model, int rows, double computeSeconds)
    {
        var m = Of(model);
        m.Batch.Observe(rows);
        m.Compute.Observe(computeSeconds);
    }

    public long Requests(string model) => _models.TryGetValue(model, out var m) ? Interlocked.Read(ref m.Requests) : 0;
    public long Failures(string model) => _models.TryGetValue(model, out var m) ? Interlocked.Read(ref m.Failures) : 0;
    public long Batches(string model) => _models.TryGetValue(model, out var m) ? m.Batch.Count : 0;

    /// <summary>Rows run and engine seconds spent over every batch so far (a load test takes differences).</summary>
    public (double Rows, double ComputeSeconds) BatchTotals(string model) =>
        _models.TryGetValue(model, out var m) ? (m.Batch.Sum, m.Compute.Sum) : (0, 0);

    public string Write(IReadOnlyList<ServedModel> models)
    {
        var sb = new StringBuilder();
        var snapshot = _models.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        void Counter(string name, string help, Func<PerModel, long> value)
        {
            sb.Append($"# HELP {name} {help}\n# TYPE {name} counter\n");
            foreach (var (model, m) in snapshot) sb.Append(CultureInfo.InvariantCulture, $"{name}{{model=\"{Escape(model)}\"}} {value(m)}\n");
        }
        void Hist(string name, string help, Func<PerModel, Histogram> h)
        {
            sb.Append($"# HELP {name} {help}\n# TYPE {name} histogram\n");
            foreach (var (model, m) in snapshot) h(m).Write(sb, name, $"model=\"{Escape(model)}\"");
        }
        Counter("lacuna_inference_requests_total", "Inference requests answered, by model.", m => Interlocked.Read(ref m.Requests));
        Counter("lacuna_inference_failures_total", "Inference requests answered with an error status, by model.", m => Interlocked.Read(ref m.Failures));
        Hist("lacuna_request_duration_seconds", "Time from a request's arrival to its response, by model.", m => m.Request);
        Hist("lacuna_queue_duration_seconds", "Time a request waited in its model's queue before its batch ran.", m => m.Queue);
        Hist("lacuna_compute_duration_seconds", "Engine time of one batch run.", m => m.Compute);
        Hist("lacuna_batch_size", "Rows per engine run (before padding to a planned batch size).", m => m.Batch);
        sb.Append("# HELP lacuna_inflight_requests Inference requests being served now.\n# TYPE lacuna_inflight_requests gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"lacuna_inflight_requests {InFlight}\n");
        void Gauge(string name, string help, Func<ServedModel, double> value)
        {
            sb.Append($"# HELP {name} {help}\n# TYPE {name} gauge\n");
            foreach (var m in models)
                sb.Append(CultureInfo.InvariantCulture, $"{name}{{model=\"{Escape(m.Name)}\",version=\"{Escape(m.Version)}\"}} {value(m).ToString("R", CultureInfo.InvariantCulture)}\n");
        }
        Gauge("lacuna_model_ready", "Whether a model version is planned, warmed up and serving (1) or not (0).", m => m.State == ModelState.Ready ? 1 : 0);
        Gauge("lacuna_model_planning_seconds", "Time spent planning a model version for its batch sizes.", m => m.PlanningSeconds);
        Gauge("lacuna_model_queue_length", "Requests waiting in a model version's queue.", m => m.QueueLength);
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
