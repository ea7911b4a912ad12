using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.GsSpmm;
using Lacuna.Tensors;

namespace Lacuna.Bench.Harness;

/// <summary>
/// Every GS SpMM body the best tier's plan would time for one matrix, each as a plan forced to that body, so a
/// benchmark can time the bodies against each other (and against CSR) in one interleaved run.
/// </summary>
public static class GsBodies
{
    /// <summary>
    /// (body name, run) pairs computing Y [M × n] = W · X into <paramref name="y"/>. X is a tensor (64-byte aligned,
    /// as the engine's activations): from a managed array most 64-byte X rows straddle two cache lines, which cost
    /// the row bodies a third of their speed and would misrank them.
    /// </summary>
    public static (string Name, Action Run)[] Runners(GsMatrix w, Tensor x, int n, float[] y, int threads)
    {
        ArgumentNullException.ThrowIfNull(w);
        var tier = GsSpmmKernels.BestTier;
        return GsSpmmKernels.Candidates(tier, w.Lanes, w.Cols <= 65536)
            .Select(k =>
            {
                var plan = GsSpmmPlan.Create(w, default, default, tier, k.Name);
                return (k.Name, (Action)(() => plan.Run(x.Span, n, y, threads)));
            })
            .ToArray();
    }
}
