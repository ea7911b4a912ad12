using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels;

namespace Lacuna.Bench.Harness;

/// <summary>
/// The conv planner's candidates for one layer, as the planner builds them (same packing, same lowering, same names),
/// so a benchmark times exactly what the planner chooses between, e.g. "pattern-block:16x1-im2col" against
/// "pattern-block:16x1-direct" and "sparse-direct".
/// </summary>
public static class ConvCandidateRunner
{
    /// <summary>One candidate: its planner name, its run (input [n, C, H, W], output [n, M, OH, OW], n) and its description.</summary>
    public sealed record Candidate(string Name, RunConv Run, string Description);

    public delegate void RunConv(ReadOnlySpan<float> input, Span<float> output, int batch);

    /// <param name="patterns">The structured patterns to offer (null: detect them, as the planner does by default).</param>
    public static IReadOnlyList<Candidate> For(ReadOnlySpan<float> weight, int[] weightShape, ReadOnlySpan<float> bias, Conv2dParams p,
        int h, int w, Activation act, IEnumerable<Pruning.SparsityPattern>? patterns = null)
    {
        var planning = patterns is null ? PatternPlanning.Detect : PatternPlanning.Only(patterns);
        var prepared = ConvPlanner.Prepare(weight, weightShape, bias, p, h, w, act, allowSparse: true, patterns: planning);
        return prepared.Kernels.Select(k => new Candidate(k.Name, (x, y, n) => k.Run(x, y, n), k.Describe())).ToArray();
    }
}
