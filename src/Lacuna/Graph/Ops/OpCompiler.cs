using System.Collections.Concurrent;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Turns a node plus its input shapes (and any constant inputs) into a <see cref="NodeKernel"/> whose
/// <see cref="NodeKernel.OutShapes"/> are the inferred output shapes, through the node's <see cref="OpDef"/>
/// in <see cref="OpRegistry"/>.
/// </summary>
internal static class OpCompiler
{
    /// <summary>
    /// Conv plans of one session, per (node, H, W, batch, threads): the node fixes the weight shape and sparsity
    /// pattern, and a kernel's rank can change with batch size and thread count. Only the chosen kernel is kept:
    /// the candidates are prepared (weights packed) for the timing and dropped after it, since holding every
    /// candidate's packed copy of every weight took most of a plan's memory (ResNet-50 at DLMC 0.9: 577 MB resident
    /// after planning with all candidates kept). Planning another batch size prepares them again.
    /// </summary>
    public sealed class PlanCache
    {
        public PlanCache(bool allowSparse = true) => AllowSparse = allowSparse;

        /// <summary>Whether the planner may pick sparse kernels (false: the dense plan, for comparisons).</summary>
        public bool AllowSparse { get; }

        /// <summary>Precision of the SpMM candidates (<see cref="PassOptions.SparsePrecision"/>).</summary>
        public Kernels.Spmm.SpmmPrecision SparsePrecision { get; init; }

        /// <summary>Which structured patterns become candidates (<see cref="PassOptions.Patterns"/>).</summary>
        public PatternPlanning Patterns { get; init; } = PatternPlanning.Detect;

        /// <summary><see cref="PassOptions.PlanningCancellation"/>.</summary>
        public CancellationToken Cancel { get; init; }

        public ConcurrentDictionary<(GraphNode Node, int H, int W, int Batch, int Threads), Lazy<ConvPlan>> Conv { get; } = new();

        /// <summary>
        /// Conv candidates already chosen for some batch size, by layer, input size, threads and candidate name: a
        /// candidate's packed weights do not depend on the batch, so a plan for another batch that picks the same
        /// kernel shares them (a server planning batch 1, 2, 4, 8 and 16 held five copies of every layer's weights).
        /// </summary>
        public ConcurrentDictionary<(GraphNode Node, int H, int W, int Threads, string Candidate), ConvCandidate> ChosenConv { get; } = new();
        public ConcurrentDictionary<(GraphNode Node, int Batch, int Threads), Lazy<FcPlan>> Fc { get; } = new();

        /// <summary>Token-linear plans per MatMul node: the weights once, the (rows, threads) choices inside the plan.</summary>
        public ConcurrentDictionary<GraphNode, Lazy<TokenLinearKernel.PreparedLinear>> TokenLinear { get; } = new();
    }

    /// <summary>A pruned fully connected layer's choice: the sparse kernel, or null for the dense GEMM; what was measured.</summary>
    public sealed record FcPlan(SparseFullyConnected? Sparse, string Measured);

    /// <summary>A conv layer's chosen kernel, and what each candidate measured (names and times only).</summary>
    public sealed record ConvPlan(ConvCandidate Chosen, IReadOnlyList<(string Name, double Ms)> Measured)
    {
        public string Describe() => Measured.Count == 1
            ? Chosen.Describe()
            : $"{Chosen.Describe()} [{string.Join(", ", Measured.Select(c => $"{c.Name} {c.Ms:F3} ms"))}]";
    }

    /// <summary>Resolve the node's definition (operator and opset), infer its output shapes, compile its kernel.</summary>
    public static NodeKernel Compile(GraphNode n, int[][] s, Func<int, GraphTensor?> constant, PlanCache? cache)
    {
        var def = OpRegistry.Resolve(n);
        var context = new OpContext(n, s, constant, cache);
        return def.Compile(context, def.InferShapes(context));
    }
}
