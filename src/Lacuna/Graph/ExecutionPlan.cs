using System.Collections.Concurrent;
using Lacuna.Graph.Ops;
using Lacuna.Tensors;

namespace Lacuna.Graph;

/// <summary>
/// The graph compiled for one set of concrete input shapes (batch, sequence length ...): a kernel per node with inferred shapes, the slot table and the memory plan.
/// Immutable after creation; runs take an arena from a thread-safe pool, so concurrent callers share nothing mutable.
/// </summary>
public sealed class ExecutionPlan
{
    private readonly NodeKernel[] _steps;
    private readonly Slot[] _slots;
    private readonly (string Name, int Slot)[] _inputs;
    private readonly (string Name, int Slot, int[] Shape)[] _outputs;
    private readonly ConcurrentBag<AlignedBuffer> _arenas = new();

    internal ExecutionPlan(IReadOnlyDictionary<string, int[]> inputShapes, ModelGraph g, List<GraphNode> order, OpCompiler.PlanCache cache)
    {
        var shapes = inputShapes.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        InputShapes = shapes.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Batch = g.Inputs.Where(i => shapes.ContainsKey(i.Name) && shapes[i.Name].Length > 0).Select(i => shapes[i.Name][0]).DefaultIfEmpty(1).First();
        // Shape arithmetic on dynamic dimensions (Shape, Gather, Concat, Range, ConstantOfShape, Expand ...) is
        // evaluated here, from this plan's concrete shapes, into plan constants; only the rest becomes kernels.
        var dynamic = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
        var kernels = new List<NodeKernel>(order.Count);
        foreach (var n in order)
        {
            cache.Cancel.ThrowIfCancellationRequested();
            if (ConstantFolder.PlanStep(g, n, shapes, dynamic, cache) is { } k) kernels.Add(k);
        }
        GraphTensor? Constant(string name) => g.Initializers.TryGetValue(name, out var t) ? t : dynamic.GetValueOrDefault(name);
        var lengths = shapes.Where(kv => Constant(kv.Key) is null).ToDictionary(kv => kv.Key, kv => Broadcast.ElementCount(kv.Value), StringComparer.Ordinal);
        var outputNames = g.Outputs.Select(o => o.Name).Where(lengths.ContainsKey).ToHashSet();
        Memory = MemoryPlan.Create(kernels.Select(k => ((IReadOnlyList<string>)k.Node.Inputs, (IReadOnlyList<string>)k.Node.Outputs)).ToList(),
            lengths, g.Inputs.Where(i => lengths.ContainsKey(i.Name)).Select(i => i.Name), outputNames);

        var slotOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var slots = new List<Slot>();
        int SlotOf(string name)
        {
            if (name.Length == 0) return -1;
            if (slotOf.TryGetValue(name, out int s)) return s;
            slots.Add(Constant(name) is { } t ? new Slot(0, t.Length, t)
                : new Slot(Memory.Placement[name].Offset, Memory.Placement[name].Length, null));
            return slotOf[name] = slots.Count - 1;
        }
        foreach (var k in kernels)
        {
            k.InSlots = k.Node.Inputs.Select(SlotOf).ToArray();
            k.OutSlots = k.Node.Outputs.Select(SlotOf).ToArray();
        }
        _inputs = g.Inputs.Where(i => lengths.ContainsKey(i.Name)).Select(i => (i.Name, SlotOf(i.Name))).ToArray();
        _outputs = g.Outputs.Select(o => (o.Name, SlotOf(o.Name), Constant(o.Name)?.Dims ?? shapes[o.Name])).ToArray();
        _steps = [.. kernels];
        _slots = [.. slots];
        Shapes = shapes;
    }

    /// <summary>Dimension 0 of the first runtime input (the batch size), 1 when there is none.</summary>
    public int Batch { get; }
    public MemoryPlan Memory { get; }

    /// <summary>The concrete shape of every runtime input this plan was built for.</summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; }

    /// <summary>Every value's shape in this plan (activations, and shape arithmetic evaluated for it).</summary>
    public IReadOnlyDictionary<string, int[]> Shapes { get; }

    /// <summary>Per step: node, kernel name, input and output shapes.</summary>
    /// <summary>The compiled steps in run order (tests look inside them).</summary>
    internal IReadOnlyList<NodeKernel> Kernels => _steps;

    public IEnumerable<(GraphNode Node, string Kernel, int[][] InShapes, int[][] OutShapes)> Steps =>
        _steps.Select(k => (k.Node, k.KernelName, k.InShapes, k.OutShapes));

    /// <summary>The structured sparsity pattern each node's chosen kernel runs ("block:16x1"), for the nodes that run one.</summary>
    public IReadOnlyDictionary<GraphNode, string> Patterns =>
        _steps.Where(k => k.Pattern is not null).ToDictionary(k => k.Node, k => k.Pattern!);

    internal Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, List<StepTiming>? profile = null)
    {
        if (!_arenas.TryTake(out var arena)) arena = new AlignedBuffer(checked((int)Math.Max(1, Memory.ArenaFloats)));
        try
        {
            var frame = new Frame(arena, _slots);
            foreach (var (name, slot) in _inputs) inputs[name].Span.CopyTo(frame.Write(slot));
            if (profile is null)
                foreach (var step in _steps) step.Run(frame);
            else
                foreach (var step in _steps)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    step.Run(frame);
                    profile.Add(new StepTiming(step.Node.Name, step.Node.OpType, step.KernelName,
                        System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds) { Pattern = step.Pattern });
                }
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, slot, shape) in _outputs) result[name] = Tensor.FromArray(frame.Read(slot), shape);
            return result;
        }
        finally
        {
            _arenas.Add(arena);
        }
    }
}

/// <summary>One step of a profiled run: node, op type (with fused activation), kernel, wall time.</summary>
public sealed record StepTiming(string Node, string OpType, string Kernel, double Ms)
{
    /// <summary>The structured sparsity pattern the kernel runs, or null.</summary>
    public string? Pattern { get; init; }
}
