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
    private readonly ConcurrentDictionary<(string Shapes, int Threads), Lazy<ExecutionPlan>> _plans = new();
    private readonly List<GraphNode> _order;

    private InferenceSession(ModelGraph graph, PassOptions options)
    {
        _cache = new OpCompiler.PlanCache(options.SparseKernels) { SparsePrecision = options.SparsePrecision, Patterns = options.Patterns, Cancel = options.PlanningCancellation };
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
        // A model pruned by `lacuna prune` names each layer's pattern: those layers are planned with it directly.
        if (options.Patterns.Layers is null && Pruning.PruningMetadata.Read(g.Metadata) is { Count: > 0 } layers)
            options = options with { Patterns = options.Patterns with { Layers = layers } };
        GraphPasses.Optimize(g, options);
        // Large mostly-zero weights are kept compact from here: planning expands each once into its kernel's own
        // packed or sparse form, and the graph's dense copy would double a pruned model's memory.
        foreach (var name in g.Initializers.Keys.ToList()) g.Initializers[name] = g.Initializers[name].Compact();
        var session = new InferenceSession(g, options);
        return session;
    }

    /// <summary>
    /// The plan for one batch size at the current thread setting (<see cref="WorkerPool.DefaultThreads"/>), built
    /// once and cached: the sparse planner times its candidates at exactly this batch and thread count. Every
    /// symbolic input dimension takes the value <paramref name="batch"/> (models whose only symbolic dimension is the
    /// batch); use <see cref="PlanFor(IReadOnlyDictionary{string, int[]})"/> to give a sequence length of its own.
    /// </summary>
    public ExecutionPlan PlanFor(int batch)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        return PlanForShapes(ConstantFolder.InputShapes(Graph, batch));
    }

    /// <summary>
    /// The plan for concrete runtime input shapes (every input named, each shape matching the declared one where it is
    /// fixed), built once per shape signature and thread count and cached: (batch, sequence length) pairs each get one.
    /// </summary>
    public ExecutionPlan PlanFor(IReadOnlyDictionary<string, int[]> inputShapes)
    {
        if (inputShapes is null) ThrowHelper.ArgumentNull(nameof(inputShapes));
        foreach (var v in RuntimeInputs)
        {
            if (!inputShapes.TryGetValue(v.Name, out var s) || s is null)
                ThrowHelper.Argument(nameof(inputShapes), $"input '{v.Name}' {v.ShapeText} has no shape.");
            CheckShape(v, s!, nameof(inputShapes));
        }
        return PlanForShapes(RuntimeInputs.ToDictionary(v => v.Name, v => inputShapes[v.Name], StringComparer.Ordinal));
    }

    private ExecutionPlan PlanForShapes(Dictionary<string, int[]> shapes)
    {
        string key = string.Join(";", shapes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + string.Join(",", kv.Value)));
        return _plans.GetOrAdd((key, WorkerPool.Resolve(0)), _ => new Lazy<ExecutionPlan>(() =>
        {
            long allocated = GC.GetTotalAllocatedBytes();
            var plan = new ExecutionPlan(shapes, Graph, _order, _cache);
            if (GC.GetTotalAllocatedBytes() - allocated >= ReleaseAfterPlanningBytes) ReleasePlanningMemory();
            return plan;
        })).Value;
    }

    /// <summary>Planning that allocated at least this much gives its garbage back at once (<see cref="ReleasePlanningMemory"/>).</summary>
    private const long ReleaseAfterPlanningBytes = 64L << 20;

    /// <summary>
    /// Returns what planning left behind to the OS: the dense copies of the weights the candidates were packed from, the
    /// losing candidates (their native weights are already freed, <see cref="Ops.ConvPlanner.ReleaseAllBut"/>), and the
    /// C heap's free pages, which glibc otherwise keeps (<see cref="NativeHeap.Trim"/>), and the kernel scratch the
    /// candidates grew (<see cref="Kernels.ScratchEpoch"/>). ResNet-50 at DLMC 0.9, batch 1, 1 thread (`lacuna run`):
    /// 161-176 MB resident after planning with pinned weights and none of this; 131 MB with the trim alone; 90 MB with
    /// native weights, the losers disposed and this release.
    /// </summary>
    private static void ReleasePlanningMemory()
    {
        Kernels.ScratchEpoch.Advance(); // kernel scratch sized by the candidates, regrown by what the plan runs
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers(); // native buffers that only a finalizer frees (plans nobody disposed)
        NativeHeap.Trim();
    }

    /// <summary>
    /// Integers and booleans travel through the float arena as exact float values: every int64 in [-2^24, 2^24] is
    /// a float exactly, which covers token ids (vocabularies of 30-250 thousand), positions, type ids and masks, and
    /// lets each operator keep one float kernel instead of one per element type. Inputs are checked against it here.
    /// </summary>
    public const int MaxExactInteger = 1 << 24;

    /// <summary>The batch size declared by the model's inputs, or 1 when the batch is symbolic.</summary>
    public int DefaultBatch => RuntimeInputs.Select(i => i.Shape is { Length: > 0 } s && s[0] != GraphValue.Symbolic ? s[0] : 1).DefaultIfEmpty(1).Max();

    /// <summary>
    /// Runs the model. Every runtime input must be given with its declared shape (dimension 0 may be any batch size
    /// where the model declares it symbolic; all inputs must agree on it). Returns new tensors, one per graph output.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) =>
        PlanForShapes(CheckInputs(inputs)).Run(inputs);

    /// <summary>Runs once, timing every step (for "where the time goes"); same checks as <see cref="Run"/>.</summary>
    public IReadOnlyList<StepTiming> Profile(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var timings = new List<StepTiming>();
        PlanForShapes(CheckInputs(inputs)).Run(inputs, timings);
        return timings;
    }

    /// <summary>Validates names, shapes and (int64/bool inputs) values; returns the concrete input shapes.</summary>
    private Dictionary<string, int[]> CheckInputs(IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (inputs is null) ThrowHelper.ArgumentNull(nameof(inputs));
        foreach (var name in inputs.Keys)
            if (!RuntimeInputs.Any(i => i.Name == name))
                ThrowHelper.Argument(nameof(inputs), $"'{name}' is not an input of the model; inputs are {string.Join(", ", RuntimeInputs.Select(i => $"'{i.Name}' {i.ShapeText}"))}.");
        int? batch = null;
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var v in RuntimeInputs)
        {
            if (!inputs.TryGetValue(v.Name, out var t) || t is null)
                ThrowHelper.Argument(nameof(inputs), $"input '{v.Name}' {v.ShapeText} is missing.");
            var s = t!.Shape.AsSpan();
            CheckShape(v, s.ToArray(), nameof(inputs));
            if (v.Shape!.Length > 0 && v.Shape[0] == GraphValue.Symbolic)
            {
                if (batch is int b && b != s[0])
                    ThrowHelper.Shape(nameof(inputs), $"input '{v.Name}' has batch {s[0]} but another input has batch {b}.");
                batch = s[0];
            }
            if (v.ElementType != GraphElementType.Float) CheckIntegers(v, t.Span);
            shapes[v.Name] = s.ToArray();
        }
        return shapes;
    }

    private static void CheckShape(GraphValue v, int[] s, string param)
    {
        var want = v.Shape!;
        bool ok = s.Length == want.Length;
        for (int d = 0; ok && d < want.Length; d++)
            ok = want[d] == GraphValue.Symbolic ? s[d] >= 0 : want[d] == s[d];
        if (!ok) ThrowHelper.Shape(param, $"input '{v.Name}' has shape {Broadcast.Format(s)} but the model expects {v.ShapeText}.");
    }

    /// <summary>An int64 input must hold integers within ±<see cref="MaxExactInteger"/>; a bool input 0 or 1.</summary>
    private static void CheckIntegers(GraphValue v, ReadOnlySpan<float> values)
    {
        bool isBool = v.ElementType == GraphElementType.Bool;
        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i];
            bool ok = isBool ? x is 0f or 1f : float.IsInteger(x) && Math.Abs(x) <= MaxExactInteger;
            if (!ok)
                ThrowHelper.Argument("inputs", isBool
                    ? $"input '{v.Name}' is bool: element {i} is {x}; values must be 0 or 1."
                    : $"input '{v.Name}' is int64 (carried as float): element {i} is {x}; values must be integers within ±{MaxExactInteger}.");
        }
    }
}
