using System.Collections.Concurrent;
using Lacuna.Graph.Ops;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Graph;

/// <summary>
/// A model compiled for inference: constants folded, passes applied, kernels prepared once (conv weights packed),
/// execution plans built per batch size and thread count on first use and cached. <see cref="Run"/> is safe to call from many
/// threads at once: plans are immutable and every call works in its own arena.
/// <code>
/// using var session = InferenceSession.Create(graph);
/// var outputs = session.Run(new Dictionary&lt;string, Tensor&gt; { ["input"] = x });
/// </code>
/// </summary>
public sealed class InferenceSession
{
    private readonly OpCompiler.PlanCache _cache;
    private readonly ConcurrentDictionary<(int Batch, int Threads), Lazy<ExecutionPlan>> _plans = new();
    private readonly List<GraphNode> _order;

    private InferenceSession(ModelGraph graph, PassOptions options)
    {
        _cache = new OpCompiler.PlanCache(options.SparseKernels) { SparsePrecision = options.SparsePrecision, Patterns = options.Patterns };
        Graph = graph;
        _order = graph.TopologicalOrder();
        RuntimeInputs = graph.Inputs.Where(i => !graph.Initializers.ContainsKey(i.Name)).ToList();
    }

    /// <summary>The optimized graph the session runs (a copy; the caller's graph is not changed).</summary>
    public ModelGraph Graph { get; }
    public IReadOnlyList<GraphValue> RuntimeInputs { get; }
    public IReadOnlyList<GraphValue> Outputs => Graph.Outputs;

    public static InferenceSession Create(ModelGraph graph, PassOptions? options = null)
    {
        if (graph is null) ThrowHelper.ArgumentNull(nameof(graph));
        var g = graph.Clone();
        ConstantFolder.Fold(g);
        options ??= new PassOptions();
        GraphPasses.Optimize(g, options);
        // Large mostly-zero weights are kept compact from here: planning expands each once into its kernel's own
        // packed or sparse form, and the graph's dense copy would double a pruned model's memory.
        foreach (var name in g.Initializers.Keys.ToList()) g.Initializers[name] = g.Initializers[name].Compact();
        var session = new InferenceSession(g, options);
        return session;
    }

    /// <summary>
    /// The plan for one batch size at the current thread setting (<see cref="WorkerPool.DefaultThreads"/>), built
    /// once and cached: the sparse planner times its candidates at exactly this batch and thread count.
    /// </summary>
    public ExecutionPlan PlanFor(int batch)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        return _plans.GetOrAdd((batch, WorkerPool.Resolve(0)), key => new Lazy<ExecutionPlan>(() => new ExecutionPlan(key.Batch, Graph, _order, _cache))).Value;
    }

    /// <summary>The batch size declared by the model's inputs, or 1 when the batch is symbolic.</summary>
    public int DefaultBatch => RuntimeInputs.Select(i => i.Shape is { Length: > 0 } s && s[0] != GraphValue.Symbolic ? s[0] : 1).DefaultIfEmpty(1).Max();

    /// <summary>
    /// Runs the model. Every runtime input must be given with its declared shape (dimension 0 may be any batch size
    /// where the model declares it symbolic; all inputs must agree on it). Returns new tensors, one per graph output.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) =>
        PlanFor(CheckInputs(inputs)).Run(inputs);

    /// <summary>Runs once, timing every step (for "where the time goes"); same checks as <see cref="Run"/>.</summary>
    public IReadOnlyList<StepTiming> Profile(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var timings = new List<StepTiming>();
        PlanFor(CheckInputs(inputs)).Run(inputs, timings);
        return timings;
    }

    /// <summary>Validates names and shapes of the inputs; returns the batch size they imply.</summary>
    private int CheckInputs(IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (inputs is null) ThrowHelper.ArgumentNull(nameof(inputs));
        foreach (var name in inputs.Keys)
            if (!RuntimeInputs.Any(i => i.Name == name))
                ThrowHelper.Argument(nameof(inputs), $"'{name}' is not an input of the model; inputs are {string.Join(", ", RuntimeInputs.Select(i => $"'{i.Name}' {i.ShapeText}"))}.");
        int? batch = null;
        foreach (var v in RuntimeInputs)
        {
            if (!inputs.TryGetValue(v.Name, out var t) || t is null)
                ThrowHelper.Argument(nameof(inputs), $"input '{v.Name}' {v.ShapeText} is missing.");
            var s = t!.Shape.AsSpan();
            var want = v.Shape!;
            bool ok = s.Length == want.Length;
            for (int d = 0; ok && d < want.Length; d++)
                ok = want[d] == GraphValue.Symbolic || want[d] == s[d];
            if (!ok) ThrowHelper.Shape(nameof(inputs), $"input '{v.Name}' has shape {t.Shape} but the model expects {v.ShapeText}.");
            if (want.Length > 0 && want[0] == GraphValue.Symbolic)
            {
                if (batch is int b && b != s[0])
                    ThrowHelper.Shape(nameof(inputs), $"input '{v.Name}' has batch {s[0]} but another input has batch {b}.");
                batch = s[0];
            }
        }
        return batch ?? 1;
    }
}
