using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Reference;
using Lacuna.Threading;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Conv [N,C,H,W] * W[M,C/g,KH,KW] + B[M] → [N,M,OH,OW] with the fused epilogue. Constant weights run through the
/// kernel <see cref="ConvPlanner"/> measured fastest (dense conv plan, direct sparse conv or SpMM; prepared once per
/// input H×W, chosen per batch size and thread count); a weight that
/// is itself computed at run time falls back to the reference convolution.
/// </summary>
internal sealed class ConvKernel : NodeKernel
{
    private OpCompiler.ConvPlan? _plan;
    private Conv2dParams _p = null!;

    public override string KernelName => _plan is null ? "ReferenceConv2d" : _plan.Describe();
    public override string? Pattern => _plan?.Chosen.Pattern;

    public static ConvKernel Create(GraphNode n, int[][] s, Func<int, GraphTensor?> constant, OpCompiler.PlanCache? cache)
    {
        if (s[0].Length != 4) throw UnsupportedOperatorException.For(n, $"only 2-D convolution (rank-4 input) is supported; input is rank {s[0].Length}.");
        var p = OpAttributes.Conv(n, s[1]);
        int[] os = p.OutputShape(s[0], s[1]);
        var k = new ConvKernel { Node = n, InShapes = s, OutShapes = [os], _p = p };
        var w = constant(1);
        bool hasBias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0;
        var b = hasBias ? constant(2) : null;
        if (cache is not null && w is not null && (!hasBias || b is not null))
        {
            int h = s[0][2], wd = s[0][3], batch = s[0][0];
            k._plan = cache.Conv.GetOrAdd((n, h, wd, batch, WorkerPool.Resolve(0)), _ => new Lazy<OpCompiler.ConvPlan>(() =>
            {
                var prepared = ConvPlanner.Prepare(w.AsFloats(), s[1], b?.AsFloats() ?? [], p, h, wd, n.FusedActivation, cache.AllowSparse, cache.SparsePrecision, cache.Patterns);
                var (chosen, measured) = ConvPlanner.Choose(prepared, batch);
                return new OpCompiler.ConvPlan(chosen, measured.Select(c => (c.Name, c.MeasuredMs)).ToArray());
            })).Value;
        }
        return k;
    }

    public override void Run(Frame f)
    {
        int batch = InShapes[0][0];
        if (_plan is not null)
        {
            _plan.Chosen.Run(In(f, 0), Out(f), batch);
            return;
        }
        ReferenceConv2d.Compute(In(f, 0), InShapes[0], In(f, 1), InShapes[1], HasInput(2) ? In(f, 2) : default, Out(f), _p, Node.FusedActivation);
    }
}
