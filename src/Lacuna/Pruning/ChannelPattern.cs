using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Pruning;

/// <summary>
/// `channel`: whole rows of W [rows × cols] are zeroed, the round(sparsity·rows) rows of smallest L2 norm (ties by row
/// index, lower pruned first). A row is an output filter (a conv's out channel over cin·kh·kw, an FC output), so a
/// pruned W lets the graph drop the filter and the next layer's matching input channel; that shrinking happens at the
/// graph level. Here the masked W still runs on the CSR plan. Any W with zero rows is valid: there is no violation.
/// </summary>
public sealed class ChannelPattern : SparsityPattern
{
    public static readonly ChannelPattern Instance = new();

    private ChannelPattern() { }

    public override string Name => "channel";
    public override bool SparsityIsFree => true;

    /// <summary>The request: the rounding to whole rows (round(s·rows)/rows) depends on the shape, which is not known here.</summary>
    public override double ResultingSparsity(double requested) => requested;

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        if (!(sparsity >= 0 && sparsity <= 1)) ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        foreach (int r in RowsToPrune(weights, rows, cols, sparsity))
            weights.Slice(r * cols, cols).Clear();
    }

    /// <summary>The rows <see cref="Prune"/> zeros, smallest L2 norm first (ties by index).</summary>
    public static int[] RowsToPrune(ReadOnlySpan<float> weights, int rows, int cols, double sparsity)
    {
        var keys = new (double Norm, int Row)[rows];
        for (int r = 0; r < rows; r++)
        {
            double sq = 0;
            foreach (float w in weights.Slice(r * cols, cols))
            {
                if (float.IsNaN(w)) ThrowHelper.Argument(nameof(weights), $"row {r} holds NaN; magnitude pruning needs ordered values.");
                sq += (double)w * w;
            }
            keys[r] = (sq, r); // the squared norm orders like the norm
        }
        Array.Sort(keys);
        int count = (int)Math.Round(sparsity * rows);
        var pruned = new int[count];
        for (int i = 0; i < count; i++) pruned[i] = keys[i].Row;
        return pruned;
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols)
    {
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        return null;
    }

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation) =>
        SpmmPlan.Create(CsrMatrix.FromDense(weights[..(rows * cols)], rows, cols), bias, activation);

    internal static SparsityPattern? TryParse(string text) => text is "channel" or "filter" ? Instance : null;
}
