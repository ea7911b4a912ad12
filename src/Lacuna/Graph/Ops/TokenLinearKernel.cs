using Lacuna.Kernels;
using Lacuna.Kernels.Linear;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// MatMul of token rows [.., K] by a constant weight B [K × N] (a transformer's linear layer), with the bias
/// [N] and ReLU that <see cref="GraphPasses.FuseMatMulBias"/> and <see cref="GraphPasses.FuseActivations"/> folded
/// into the node, on a <see cref="TokenLinearPlan"/> of Wᵀ = Bᵀ [N × K]. In a session that allows sparse kernels a
/// pruned B (sparsity ≥ <see cref="ConvPlanner.MinSparsity"/>) or one satisfying a structured pattern gets a sparse
/// candidate, timed against the dense GEMM at this plan's row count (batch × sequence length) and thread count;
/// a dense session's plan has the dense candidate only. Plans are shared per node through the session's
/// <see cref="OpCompiler.PlanCache.TokenLinear"/>, so plans for other shapes and concurrent runs reuse the weights.
/// </summary>
internal sealed class TokenLinearKernel : NodeKernel
{
    private TokenLinearPlan _plan = null!;
    private int _rows;
    private string _chosen = "";
    private string? _pattern;

    public override string KernelName
    {
        get
        {
            var ms = _plan.MeasuredMs(_rows);
            string measured = ms is null ? "" : " [" + string.Join(", ", ms.Select(p => $"{p.Key} {p.Value:F3} ms")) + "]";
            string pattern = Pattern is { } p ? $", pattern {p}" : "";
            return $"TokenLinear {_chosen} ({_plan.DescribeCandidate(_chosen)}{pattern}; weight sparsity {_plan.Sparsity:P1}){measured}";
        }
    }

    public override string? Pattern => _chosen?.StartsWith("sparse", StringComparison.Ordinal) == true ? _pattern : null;

    public static TokenLinearKernel Create(OpContext c, int[][] outs)
    {
        var n = c.Node;
        int[] a = c.X, b = c.InShapes[1];
        int k = b[0], nOut = b[1];
        if (a[^1] != k)
            throw new ShapeMismatchException("B", $"{n.Describe()}: inner dimensions differ: A {Broadcast.Format(a)}, B {Broadcast.Format(b)}.");
        int rows = Broadcast.ElementCount(a) / Math.Max(1, k);
        var cache = c.Cache;
        var act = (n.FusedActivation.Kind, n.FusedGelu) switch
        {
            (ActivationKind.None, null) => TokenLinearActivation.None,
            (ActivationKind.Relu, null) => TokenLinearActivation.Relu,
            (ActivationKind.None, Kernels.Elementwise.GeluApproximation.None) => TokenLinearActivation.Gelu,
            (ActivationKind.None, Kernels.Elementwise.GeluApproximation.Tanh) => TokenLinearActivation.GeluTanh,
            _ => throw c.Unsupported($"fused activation {n.FusedActivation} on a MatMul is not supported (ReLU or Gelu only)."),
        };
        var prepared = cache is null ? Prepare(c, k, nOut, act, allowSparse: false, PatternPlanning.None)
            : cache.TokenLinear.GetOrAdd(n, _ => new Lazy<PreparedLinear>(() => Prepare(c, k, nOut, act, cache.AllowSparse, cache.Patterns.ForLayer(n.Name)))).Value;
        var kernel = new TokenLinearKernel { Node = n, InShapes = c.InShapes, OutShapes = outs, _plan = prepared.Plan, _rows = rows, _pattern = prepared.Pattern };
        // Planned now (timed on the real weights at this row count), so inspect and the profile name what runs.
        kernel._chosen = rows == 0 ? prepared.Plan.CandidateNames[0] : prepared.Plan.ChosenFor(rows);
        return kernel;
    }

    /// <summary>A node's plan (weights transposed once) and the structured pattern its sparse candidate runs, if any.</summary>
    internal sealed record PreparedLinear(TokenLinearPlan Plan, string? Pattern);

    private static PreparedLinear Prepare(OpContext c, int k, int nOut, TokenLinearActivation act, bool allowSparse, PatternPlanning patterns)
    {
        var n = c.Node;
        float[] b = c.Constant(1)!.AsFloats();
        var w = new float[(long)nOut * k]; // Wᵀ [N × K]: output features as rows, as the SpMM plans want them
        for (int i = 0; i < k; i++)
            for (int j = 0; j < nOut; j++) w[(long)j * k + i] = b[(long)i * nOut + j];
        float[] bias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0
            ? (c.Constant(2) ?? throw c.Unsupported("the fused bias must be a constant.")).AsFloats() : [];
        if (bias.Length != 0 && bias.Length != nOut)
            throw new ShapeMismatchException("bias", $"{n.Describe()}: fused bias has {bias.Length} values, the layer {nOut} outputs.");
        if (!allowSparse || !w.Any(v => v == 0f))
            return new(TokenLinearPlan.Create(w, nOut, k, bias, act, allowSparse: false), null);
        ISpmmPlan? structured = null;
        string? pattern = null;
        foreach (var p in patterns.For(w, nOut, k))
            if (p.CreatePlan(w, nOut, k, bias, TokenLinearPlan.SpmmActivation(act)) is { } plan)
            {
                structured = plan;
                pattern = p.Name;
                break;
            }
        bool pruned = w.Count(v => v == 0f) >= ConvPlanner.MinSparsity * w.Length;
        return new(TokenLinearPlan.Create(w, nOut, k, bias, act, structured, allowSparse: pruned || structured is not null), pattern);
    }

    public override void Run(Frame f) => _plan.Run(In(f, 0), _rows, Out(f));
}
