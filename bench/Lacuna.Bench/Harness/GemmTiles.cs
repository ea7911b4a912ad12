using Lacuna.Kernels;
using Lacuna.Tensors;

namespace Lacuna.Bench.Harness;

/// <summary>
/// Every GEMM register tile this process runs, each forced through the blocked driver, as contenders for
/// <c>lacuna bench gemm --tiles</c>: the measurement behind the registry's speed weights (the registry is internal).
/// </summary>
public static class GemmTiles
{
    /// <summary>C[M×N] = A[M×K]·B[K×N] (contiguous, row-major) once per tile the dispatcher chooses among (edge tiles run inside them).</summary>
    public static IReadOnlyList<(string Name, Action Run)> Contenders(int m, int n, int k, Tensor a, Tensor b, Tensor c, int threads)
    {
        return GemmKernels.Candidates
            .Select(t => ($"tile {t.Tier} {t.MR}x{t.NR}", (Action)(() => Gemm.ComputeWith(t, m, n, k, a.Span, k, false, b.Span, n, false,
                c.Span, n, 1f, 0f, default, BiasAxis.None, default, threads))))
            .ToList();
    }
}
