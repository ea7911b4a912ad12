using System.Collections.Concurrent;
using Lacuna.Graph.Ops;
using Lacuna.Tensors;

namespace Lacuna.Graph;

/// <summary>
/// The graph compiled for one batch size: a kernel per node with inferred shapes, the slot table and the memory plan.
/// Immutable after creation; runs take an arena from a thread-safe pool, so concurrent callers share nothing mutable.
/// </summary>
public sealed class ExecutionPlan
{
    private readonly NodeKernel[] _steps;
    private readonly Slot[] _slots;
    private readonly (string Name, int Slot)[] _inputs;
    private readonly (string Name, int Slot, int[] Shape)[] _outputs;
    private readonly ConcurrentBag<AlignedBuffer> _arenas = new();

    internal ExecutionPlan(int batch, ModelGraph g, List<GraphNode> order, OpCompiler.PlanCache cache)
    {
        Batch = batch;
        var shapes = ConstantFolder.InputShapes(g, batch);
        var kernels = new List<NodeKernel>(order.Count);
        foreach (var n in order)
        {
            var ins = n.Inputs.Select(i => i.Length == 0 ? [] : g.Initializers.TryGetValue(i, out var t) ? t.Dims : shapes[i]).ToArray();
            var k = OpCompiler.Compile(n, ins, i => i < n.Inputs.Count && g.Initializers.TryGetValue(n.Inputs[i], out var t) ? t : null, cache);
            for (int o = 0; o < n.Outputs.Count && o < k.OutShapes.Length; o++) shapes[n.Outputs[o]] = k.OutShapes[o];
            kernels.Add(k);
        }
        var lengths = shapes.ToDictionary(kv => kv.Key, kv => Broadcast.ElementCount(kv.Value), StringComparer.Ordinal);
        var outputNames = g.Outputs.Select(o => o.Name).Where(lengths.ContainsKey).ToHashSet();
        Memory = MemoryPlan.Create(kernels.Select(k => ((IReadOnlyList<string>)k.Node.Inputs, (IReadOnlyList<string>)k.Node.Outputs)).ToList(),
            lengths, g.Inputs.Where(i => lengths.ContainsKey(i.Name)).Select(i => i.Name), outputNames);

        var slotOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var slots = new List<Slot>();
        int SlotOf(string name)
        {
            if (name.Length == 0) return -1;
            if (slotOf.TryGetValue(name, out int s)) return s;
            slots.Add(g.Initializers.TryGetValue(name, out var t) ? new Slot(0, t.Length, t)
                : new Slot(Memory.Placement[name].Offset, Memory.Placement[name].Length, null));
            return slotOf[name] = slots.Count - 1;
        }
        foreach (var k in kernels)
        {
            k.InSlots = k.Node.Inputs.Select(SlotOf).ToArray();
            k.OutSlots = k.Node.Outputs.Select(SlotOf).ToArray();
        }
        _inputs = g.Inputs.Where(i => lengths.ContainsKey(i.Name)).Select(i => (i.Name, SlotOf(i.Name))).ToArray();
        _outputs = g.Outputs.Select(o => (o.Name, SlotOf(o.Name), g.Initializers.TryGetValue(o.Name, out var t) ? t.Dims : shapes[o.Name])).ToArray();
        _steps = [.. kernels];
        _slots = [.. slots];
        Shapes = shapes;
    }

    public int Batch { get; }
    public MemoryPlan Memory { get; }

    /// <summary>Every activation value's shape at this batch size.</summary>
    public IReadOnlyDictionary<string, int[]> Shapes { get; }

    /// <summary>Per step: node, kernel name, input and output shapes.</summary>
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
