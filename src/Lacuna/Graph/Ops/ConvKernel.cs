using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Conv [N,C,H,W] * W[M,C/g,KH,KW] + B[M] → [N,M,OH,OW] with the fused epilogue (a 1-D conv [N,C,L] as H = 1). Constant weights run through the
/// kernel <see cref="ConvPlanner"/> measured fastest (dense conv plan, direct sparse conv or SpMM; prepared once per
/// input H×W, chosen per batch size and thread count); a weight that
/// is itself computed at run time falls back to the reference convolution. A residual fused by
/// <see cref="GraphPasses.FuseResidualAdds"/> (input 3) is summed in the chosen kernel's epilogue where it has one
/// (<see cref="ConvCandidate.RunWithEpilogue"/>), else in one pass over the output just written, with the node's activation
/// after it: the kernels are planned without the activation, which must follow the sum. A fused post-activation
/// (<see cref="GraphNode.FusedPost"/>) comes last, in the same epilogue or pass.
/// </summary>
internal sealed class ConvKernel : NodeKernel
{
    private OpCompiler.ConvPlan? _plan;
    private Conv2dParams _p = null!;
    private int[] _x4 = [], _w4 = []; // input and weight shapes as 2-D (a 1-D conv's with H = 1)
    private bool _residual;

    public override string KernelName => (_plan is null ? "ReferenceConv2d" : _plan.Describe()) + (_residual ? ResidualSuffix(Node.FusedActivation) : "")
        + (Node.FusedPost.Kind == PostActivationKind.None ? "" : $" + {Node.FusedPost}");

    private static string ResidualSuffix(Activation act) => act.Kind == ActivationKind.None ? " + residual" : $" + residual {act}";
    public override string? Pattern => _plan?.Chosen.Pattern;

    /// <summary>The planned kernel; null when the reference runs.</summary>
    internal ConvCandidate? Chosen => _plan?.Chosen;

    public static ConvKernel Create(GraphNode n, int[][] s, Func<int, GraphTensor?> constant, OpCompiler.PlanCache? cache)
    {
        if (s[0].Length is not (3 or 4) || s[1].Length != s[0].Length)
            throw UnsupportedOperatorException.For(n, $"only 1-D and 2-D convolution are supported; input is rank {s[0].Length}, weight rank {s[1].Length}.");
        var p = OpAttributes.Conv(n, s[1]);
        var (x4, w4) = OpAttributes.Conv2dView(s[0], s[1]); // a 1-D layer runs as 2-D with H = 1 (same memory)
        int[] os = p.OutputShape(x4, w4);
        int[] y = s[0].Length == 3 ? [os[0], os[1], os[3]] : os;
        bool residual = GraphPasses.HasResidual(n);
        if (n.Inputs.Count > GraphPasses.ConvResidualInput + 1)
            throw UnsupportedOperatorException.For(n, $"has {n.Inputs.Count} inputs; a Conv takes X, W, B and (fused) a residual.");
        if (residual && !s[GraphPasses.ConvResidualInput].AsSpan().SequenceEqual(y))
            throw UnsupportedOperatorException.For(n, $"fused residual '{n.Inputs[GraphPasses.ConvResidualInput]}' has shape {Broadcast.Format(s[GraphPasses.ConvResidualInput])}; the conv output is {Broadcast.Format(y)}.");
        var act = residual ? Activation.None : n.FusedActivation; // with a residual, the activation follows the sum
        var k = new ConvKernel { Node = n, InShapes = s, OutShapes = [y], _p = p, _x4 = x4, _w4 = w4, _residual = residual };
        var w = constant(1);
        bool hasBias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0;
        var b = hasBias ? constant(2) : null;
        if (cache is not null && w is not null && (!hasBias || b is not null))
        {
            int h = x4[2], wd = x4[3], batch = x4[0];
            int threads = WorkerPool.Resolve(0);
            k._plan = cache.Conv.GetOrAdd((n, h, wd, batch, threads), _ => new Lazy<OpCompiler.ConvPlan>(() =>
            {
                var prepared = ConvPlanner.Prepare(w.AsFloats(), w4, b?.AsFloats() ?? [], p, h, wd, act, cache.AllowSparse, cache.SparsePrecision, cache.Patterns.ForLayer(n.Name));
                var (chosen, measured) = ConvPlanner.Choose(prepared, batch);
                chosen = PreferShared(cache, (n, h, wd, threads), chosen, measured);
                var shared = cache.ChosenConv.GetOrAdd((n, h, wd, threads, chosen.Name), chosen);
                ConvPlanner.ReleaseAllBut(prepared, shared); // every other candidate's weights, at once
                return new OpCompiler.ConvPlan(shared with { MeasuredMs = chosen.MeasuredMs }, measured.Select(c => (c.Name, c.MeasuredMs)).ToArray());
            })).Value;
        }
        return k;
    }

    /// <summary>
    /// Within <see cref="ShareMargin"/> of the fastest, a candidate some other batch size of this layer already runs
    /// (its packed weights are then shared, <see cref="OpCompiler.PlanCache.ChosenConv"/>): near-equal kernels (two
    /// direct tiles, dense and dense-direct) swap places between runs of the timer, and a dense ResNet-50 planned
    /// for batch 1, 2 and 4 held 317, 445 and 567 MB of managed heap, one packed copy per size.
    /// </summary>
    private static ConvCandidate PreferShared(OpCompiler.PlanCache cache, (GraphNode N, int H, int W, int Threads) layer,
        ConvCandidate fastest, IReadOnlyList<ConvCandidate> measured)
    {
        var best = fastest;
        foreach (var c in measured)
            if (cache.ChosenConv.ContainsKey((layer.N, layer.H, layer.W, layer.Threads, c.Name))
                && c.MeasuredMs <= fastest.MeasuredMs * ShareMargin && (best == fastest || c.MeasuredMs < best.MeasuredMs))
                best = c;
        return best;
    }

    /// <summary>How much slower a shared kernel may time than the fastest new one: about the timer's run-to-run noise.</summary>
    private const double ShareMargin = 1.05;

    public override void Run(Frame f)
    {
        int batch = InShapes[0][0];
        var y = Out(f);
        // The memory plan never places an output over an input of its own step, so the residual is intact here.
        var post = Node.FusedPost;
        bool epilogue = _residual || post.Kind != PostActivationKind.None;
        if (epilogue && _plan?.Chosen is { RunWithEpilogue: { } fused } chosen && (!_residual || chosen.EpilogueTakesResidual))
        {
            fused(In(f, 0), y, batch, _residual ? In(f, GraphPasses.ConvResidualInput) : default, Node.FusedActivation, post);
            return;
        }
        if (_plan is not null) _plan.Chosen.Run(In(f, 0), y, batch);
        else ReferenceConv2d.Compute(In(f, 0), _x4, In(f, 1), _w4, HasInput(2) ? In(f, 2) : default, y, _p, _residual ? Activation.None : Node.FusedActivation);
        if (_residual) AddActivation.Run(y, In(f, GraphPasses.ConvResidualInput), y, Node.FusedActivation, y.Length < ResidualParallelFrom ? 1 : 0);
        post.Apply(y);
    }

    /// <summary>
    /// Outputs below this many floats (16 MB; ResNet-50 residuals up to batch 5) take the residual sum on the calling
    /// thread: as its own node the Add was slower at 2 threads than at 1 (the pool's hand-off cost more than the
    /// work, `lacuna run --profile`), and the fused sum reads an output just written. Larger ones are bandwidth-bound
    /// long enough to split across the pool.
    /// </summary>
    internal const int ResidualParallelFrom = 1 << 22;
}
