using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;

namespace Lacuna.Tests.TestUtil;

/// <summary>
/// A test-only structured pattern: every odd column of W [rows × cols] is zero (sparsity fixed at ⌊cols/2⌋/cols,
/// reported as 0.5). Its plan runs the scalar reference SpMM, so a test sees that the planner and the CLI plumbing
/// carry any <see cref="SparsityPattern"/> subclass through, without depending on the real structured formats.
/// </summary>
public sealed class EveryOtherColumnPattern(string name = "test-evens", bool honest = true, bool free = false) : SparsityPattern
{
    public override string Name => name;
    public override bool SparsityIsFree => free; // a free variant only for the CLI's --sparsity rule
    public override double ResultingSparsity(double requested) => 0.5;

    /// <summary>Plans made so far (to see which layers used the pattern's kernel).</summary>
    public int PlansCreated { get; private set; }

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 1; c < cols; c += 2) weights[r * cols + c] = 0f;
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols)
    {
        if (!honest) return null; // a pattern that claims everything, to test the planner's guard
        for (int r = 0; r < rows; r++)
            for (int c = 1; c < cols; c += 2)
                if (weights[r * cols + c] != 0f) return $"row {r}: column {c} is odd and non-zero";
        return null;
    }

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation)
    {
        if (Violation(weights, rows, cols) is not null) return null;
        PlansCreated++;
        return new ReferencePlan(CsrMatrix.FromDense(weights[..(rows * cols)], rows, cols), bias.ToArray(), activation, Name);
    }

    private sealed class ReferencePlan(CsrMatrix w, float[] bias, Activation act, string name) : ISpmmPlan
    {
        public int M => w.Rows;
        public int K => w.Cols;
        public string Describe() => $"ReferenceSpmm {name}";
        public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0) => ReferenceSpmm.Compute(w, x, n, y, bias, act);
    }
}
