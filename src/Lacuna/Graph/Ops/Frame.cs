using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>Where one value lives during a run: a constant array, or [Offset, Offset+Length) of the call's arena.</summary>
/// <remarks>
/// A constant's values are taken from its tensor on first read (<see cref="GraphTensor.RuntimeFloats"/>), so a
/// compact weight that only a packed or sparse kernel uses is never expanded for the plan.
/// </remarks>
internal readonly record struct Slot(int Offset, int Length, GraphTensor? Constant);

/// <summary>
/// One call's storage: the arena (owned by this call only; 64-byte aligned, and <see cref="MemoryPlan"/> places
/// every buffer on a line) and the plan's slot table (shared, read-only).
/// </summary>
internal sealed class Frame(AlignedBuffer arena, Slot[] slots)
{
    public AlignedBuffer Arena { get; } = arena;
    public Slot[] Slots { get; } = slots;

    public ReadOnlySpan<float> Read(int slot)
    {
        var s = Slots[slot];
        return s.Constant is { } t ? t.RuntimeFloats : Arena.Span.Slice(s.Offset, s.Length);
    }

    public Span<float> Write(int slot)
    {
        var s = Slots[slot];
        return Arena.Span.Slice(s.Offset, s.Length);
    }
}

/// <summary>
/// A node prepared for one set of input shapes. Immutable after construction, so one instance serves concurrent
/// runs; <see cref="InSlots"/> / <see cref="OutSlots"/> index the plan's slot table ("" inputs are -1).
/// </summary>
internal abstract class NodeKernel
{
    public required GraphNode Node { get; init; }
    public required int[][] InShapes { get; init; }
    public required int[][] OutShapes { get; init; }
    public int[] InSlots { get; set; } = [];
    public int[] OutSlots { get; set; } = [];

    /// <summary>What ran (for inspect): "DenseConv2d Direct 4x8", "reference", ...</summary>
    public virtual string KernelName => "reference";

    /// <summary>The structured sparsity pattern the chosen kernel runs ("block:16x1"), or null.</summary>
    public virtual string? Pattern => null;

    public abstract void Run(Frame f);

    protected ReadOnlySpan<float> In(Frame f, int i) => f.Read(InSlots[i]);
    protected Span<float> Out(Frame f, int i = 0) => f.Write(OutSlots[i]);
    protected bool HasInput(int i) => i < InSlots.Length && InSlots[i] >= 0;
}

/// <summary>A kernel defined by a delegate over (inputs, output); enough for the reference-backed operators.</summary>
internal sealed class LambdaKernel(LambdaKernel.Body body, string name = "reference") : NodeKernel
{
    public delegate void Body(LambdaKernel k, Frame f);

    public override string KernelName => name;
    public override void Run(Frame f) => body(this, f);
    public ReadOnlySpan<float> Input(Frame f, int i) => In(f, i);
    public Span<float> Output(Frame f, int i = 0) => Out(f, i);
    public bool Has(int i) => HasInput(i);
}
