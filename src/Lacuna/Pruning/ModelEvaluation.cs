using System.Diagnostics;
using Lacuna.Graph;
using Lacuna.Tensors;
using Lacuna.Threading;
using Lacuna.Training.Data;

namespace Lacuna.Pruning;

/// <summary>
/// What a pruned model costs in quality and what it gains in time: classifier accuracy on a labelled image set, the
/// relative output error against reference outputs, and the sparse plan timed against the dense plan.
/// </summary>
public static class ModelEvaluation
{
    /// <summary>
    /// Top-1 accuracy of a classifier session (one image input [N, C, H, W], first output [N, classes]) on the first
    /// <paramref name="images"/> images of <paramref name="data"/> (0: all), run <paramref name="batch"/> images at a time.
    /// </summary>
    public static double ClassifierAccuracy(InferenceSession session, ImageDataset data, int batch, int images = 0)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(data);
        if (batch < 1) ThrowHelper.OutOfRange(nameof(batch), batch, "Batch must be at least 1.");
        if (session.RuntimeInputs.Count != 1)
            ThrowHelper.Argument(nameof(session), $"a classifier has one input; this model has {session.RuntimeInputs.Count}.");
        int count = images <= 0 ? data.Count : Math.Min(images, data.Count);
        int pixels = data.Height * data.Width;
        string input = session.RuntimeInputs[0].Name;
        int correct = 0;
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            using var x = Tensor.FromArray(data.Images.AsSpan(start * pixels, n * pixels), n, 1, data.Height, data.Width);
            var outputs = session.Run(new Dictionary<string, Tensor> { [input] = x });
            var logits = outputs[session.Outputs[0].Name];
            int classes = logits.Length / n;
            var s = logits.Span;
            for (int b = 0; b < n; b++)
            {
                int arg = 0;
                for (int i = 1; i < classes; i++)
                    if (s[b * classes + i] > s[b * classes + arg]) arg = i;
                if (arg == data.Labels[start + b]) correct++;
            }
            foreach (var t in outputs.Values) t.Dispose();
        }
        return count == 0 ? 0 : (double)correct / count;
    }

    /// <summary>Every output of every run, concatenated in output order (the reference an output error is measured against).</summary>
    public static float[] Outputs(InferenceSession session, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> inputs)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(inputs);
        var all = new List<float>();
        foreach (var feed in inputs)
        {
            var outputs = session.Run(feed);
            foreach (var o in session.Outputs) all.AddRange(outputs[o.Name].ToArray());
            foreach (var t in outputs.Values) t.Dispose();
        }
        return all.ToArray();
    }

    /// <summary>‖actual − reference‖₂ / ‖reference‖₂ in double (0 when both are zero).</summary>
    public static double RelativeError(ReadOnlySpan<float> reference, ReadOnlySpan<float> actual)
    {
        if (reference.Length != actual.Length)
            ThrowHelper.Shape(nameof(actual), $"{actual.Length} outputs against {reference.Length} reference values.");
        double num = 0, den = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = (double)actual[i] - reference[i];
            num += d * d;
            den += (double)reference[i] * reference[i];
        }
        return den == 0 ? (num == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(num / den);
    }

    /// <summary>Median whole-model and per-node times of a model's sparse plan against its dense plan, and the kernels chosen.</summary>
    /// <param name="LayerDenseMs">Per node name: median ms of its step in the dense plan.</param>
    /// <param name="LayerSparseMs">Per node name: median ms of its step in the sparse plan.</param>
    /// <param name="SparseKernels">Per node name: the kernel the sparse plan runs.</param>
    public sealed record PlanTiming(double DenseMs, double SparseMs,
        IReadOnlyDictionary<string, double> LayerDenseMs, IReadOnlyDictionary<string, double> LayerSparseMs,
        IReadOnlyDictionary<string, string> SparseKernels)
    {
        public double Speedup => DenseMs / SparseMs;
    }

    /// <summary>
    /// Times <paramref name="graph"/>'s sparse plan (default passes: pattern metadata, detection, CSR) against its dense
    /// plan (<see cref="PassOptions.Dense"/>) at <paramref name="batch"/> on <paramref name="threads"/> threads: both
    /// planned first, then <paramref name="warmup"/> untimed runs each, then <paramref name="runs"/> profiled runs
    /// interleaved (dense, sparse, dense, ...) on the same seeded random input; medians reported.
    /// </summary>
    public static PlanTiming TimeSparseVsDense(ModelGraph graph, int batch, int threads, int runs = 5, int warmup = 1) =>
        TimeAgainstDense(graph, graph, batch, threads, runs, warmup);

    /// <summary>
    /// As <see cref="TimeSparseVsDense"/>, with the dense plan running <paramref name="dense"/> (the model before
    /// pruning, so a channel-shrunk layer is timed against its full-size original) and the sparse plan <paramref name="pruned"/>.
    /// </summary>
    public static PlanTiming TimeAgainstDense(ModelGraph dense, ModelGraph pruned, int batch, int threads, int runs = 5, int warmup = 1)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(pruned);
        if (batch < 1) ThrowHelper.OutOfRange(nameof(batch), batch, "Batch must be at least 1.");
        if (runs < 1) ThrowHelper.OutOfRange(nameof(runs), runs, "Runs must be at least 1.");
        int before = WorkerPool.DefaultThreads;
        WorkerPool.DefaultThreads = threads;
        try
        {
            var denseSession = InferenceSession.Create(dense, PassOptions.Dense);
            var sparse = InferenceSession.Create(pruned);
            var plan = sparse.PlanFor(batch);
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            ulong seed = 7;
            foreach (var (name, shape) in plan.InputShapes)
                // Integer inputs (token ids, masks, positions) get zeros, a valid value for each; float inputs get seeded noise.
                feeds[name] = sparse.RuntimeInputs.First(i => i.Name == name).ElementType == GraphElementType.Float
                    ? Tensor.Random(seed++, shape) : Tensor.Zeros(shape);
            var kernels = plan.Steps.GroupBy(s => s.Node.Name).ToDictionary(g => g.Key, g => g.First().Kernel, StringComparer.Ordinal);
            for (int i = 0; i < warmup; i++) { Dispose(denseSession.Run(feeds)); Dispose(sparse.Run(feeds)); }
            var total = (Dense: new List<double>(), Sparse: new List<double>());
            var layers = (Dense: new Dictionary<string, List<double>>(StringComparer.Ordinal), Sparse: new Dictionary<string, List<double>>(StringComparer.Ordinal));
            for (int r = 0; r < runs; r++)
            {
                Profile(denseSession, feeds, total.Dense, layers.Dense);
                Profile(sparse, feeds, total.Sparse, layers.Sparse);
            }
            foreach (var t in feeds.Values) t.Dispose();
            return new PlanTiming(Median(total.Dense), Median(total.Sparse),
                layers.Dense.ToDictionary(kv => kv.Key, kv => Median(kv.Value), StringComparer.Ordinal),
                layers.Sparse.ToDictionary(kv => kv.Key, kv => Median(kv.Value), StringComparer.Ordinal), kernels);
        }
        finally
        {
            WorkerPool.DefaultThreads = before;
        }
    }

    private static void Profile(InferenceSession s, Dictionary<string, Tensor> feeds, List<double> total, Dictionary<string, List<double>> layers)
    {
        long t0 = Stopwatch.GetTimestamp();
        var steps = s.Profile(feeds);
        total.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        // A node may run as several steps; its time is their sum.
        foreach (var g in steps.GroupBy(st => st.Node))
        {
            if (!layers.TryGetValue(g.Key, out var list)) layers[g.Key] = list = [];
            list.Add(g.Sum(st => st.Ms));
        }
    }

    private static void Dispose(IReadOnlyDictionary<string, Tensor> outputs)
    {
        foreach (var t in outputs.Values) t.Dispose();
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}

/// <summary>Per prunable layer at batch 1: activations read and written, and dense MACs (output elements × W's columns).</summary>
public sealed record LayerGeometry(double InputElements, double OutputElements, double DenseMacs)
{
    /// <summary>
    /// The geometry of every prunable layer of <paramref name="g"/> (by node name), from the shapes of its dense plan at
    /// batch 1 (every symbolic dimension 1). A layer the passes fused away falls back to one row of input (Gemm-like).
    /// </summary>
    public static IReadOnlyDictionary<string, LayerGeometry> Measure(ModelGraph g)
    {
        ArgumentNullException.ThrowIfNull(g);
        var session = InferenceSession.Create(g, PassOptions.Dense);
        var shapes = session.PlanFor(1).Shapes;
        var nodes = session.Graph.Nodes.GroupBy(n => n.Name).ToDictionary(x => x.Key, x => x.First(), StringComparer.Ordinal);
        var result = new Dictionary<string, LayerGeometry>(StringComparer.Ordinal);
        foreach (var l in PrunableLayer.Find(g))
        {
            double input = l.Cols, output = l.Rows;
            if (nodes.TryGetValue(l.Name, out var n) && shapes.TryGetValue(n.Inputs[0], out var si) && shapes.TryGetValue(n.Outputs[0], out var so))
            {
                input = si.Aggregate(1.0, (a, d) => a * d);
                output = so.Aggregate(1.0, (a, d) => a * d);
            }
            result[l.Name] = new LayerGeometry(input, output, output * l.Cols);
        }
        return result;
    }
}
