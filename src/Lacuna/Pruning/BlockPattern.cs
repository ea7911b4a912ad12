using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.BlockSpmm;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Pruning;

/// <summary>
/// `block:RxC`: W is tiled into R×C blocks (edge blocks partial where rows or cols are not multiples) and whole blocks
/// are zeroed, smallest L2 norm first, until the requested fraction of elements is zero; runs on
/// <see cref="BlockSpmmPlan"/>. A kept block is whole, so a pruned W has no block that is partly zero.
/// </summary>
public sealed class BlockPattern : SparsityPattern
{
    public BlockPattern(int blockRows, int blockCols)
    {
        if (blockRows < 1 || blockRows > BsrMatrix.MaxBlockSide || blockCols < 1 || blockCols > BsrMatrix.MaxBlockSide)
            throw new ArgumentException($"block:{blockRows}x{blockCols}: block sides must be in [1, {BsrMatrix.MaxBlockSide}].", nameof(blockRows));
        BlockRows = blockRows; BlockCols = blockCols;
    }

    public int BlockRows { get; }
    public int BlockCols { get; }
    public override string Name => $"block:{BlockRows}x{BlockCols}";
    public override bool SparsityIsFree => true;
    public override double ResultingSparsity(double requested) => requested;

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        Check(weights.Length, rows, cols);
        if (!(sparsity >= 0 && sparsity <= 1)) ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        int brs = (rows + BlockRows - 1) / BlockRows, bcs = (cols + BlockCols - 1) / BlockCols;
        var keys = new (double Norm, int Block)[brs * bcs];
        for (int br = 0; br < brs; br++)
            for (int bc = 0; bc < bcs; bc++)
            {
                double sq = 0;
                foreach (var (r, c) in Elements(br, bc, rows, cols))
                {
                    float w = weights[r * cols + c];
                    if (float.IsNaN(w)) ThrowHelper.Argument(nameof(weights), $"weights[{r * cols + c}] is NaN; magnitude pruning needs ordered values.");
                    sq += (double)w * w;
                }
                keys[br * bcs + bc] = (Math.Sqrt(sq), br * bcs + bc);
            }
        Array.Sort(keys); // by norm, ties by block position
        long target = (long)Math.Round(sparsity * rows * cols), zeroed = 0;
        foreach (var (_, block) in keys)
        {
            int br = block / bcs, bc = block % bcs;
            int size = (Math.Min(rows, (br + 1) * BlockRows) - br * BlockRows) * (Math.Min(cols, (bc + 1) * BlockCols) - bc * BlockCols);
            // Stop at the block count whose element total is nearest the target (edge blocks are smaller).
            if (zeroed + size / 2.0 > target) break;
            foreach (var (r, c) in Elements(br, bc, rows, cols)) weights[r * cols + c] = 0f;
            zeroed += size;
        }
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols)
    {
        Check(weights.Length, rows, cols);
        int brs = (rows + BlockRows - 1) / BlockRows, bcs = (cols + BlockCols - 1) / BlockCols;
        for (int br = 0; br < brs; br++)
            for (int bc = 0; bc < bcs; bc++)
            {
                int zeros = 0, size = 0;
                foreach (var (r, c) in Elements(br, bc, rows, cols)) { size++; if (weights[r * cols + c] == 0f) zeros++; }
                if (zeros > 0 && zeros < size)
                    return $"{Name}: block ({br}, {bc}) (rows {br * BlockRows}-{Math.Min(rows, (br + 1) * BlockRows) - 1}, columns {bc * BlockCols}-{Math.Min(cols, (bc + 1) * BlockCols) - 1}) is partly pruned: {zeros} of its {size} elements are zero.";
            }
        return null;
    }

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation)
    {
        if (Violation(weights, rows, cols) is not null) return null;
        return BlockSpmmPlan.Create(BsrMatrix.FromDense(weights[..(rows * cols)], rows, cols, BlockRows, BlockCols), bias, activation);
    }

    private IEnumerable<(int Row, int Col)> Elements(int br, int bc, int rows, int cols)
    {
        for (int r = br * BlockRows; r < Math.Min(rows, (br + 1) * BlockRows); r++)
            for (int c = bc * BlockCols; c < Math.Min(cols, (bc + 1) * BlockCols); c++)
                yield return (r, c);
    }

    private static void Check(int length, int rows, int cols)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(length, (long)rows * cols, "weights", $"W [{rows}×{cols}]");
    }

    /// <summary>Reads "block:RxC" (e.g. block:16x1, block:4x4).</summary>
    internal static SparsityPattern? TryParse(string text)
    {
        if (!text.StartsWith("block:", StringComparison.Ordinal)) return null;
        var parts = text["block:".Length..].Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int r) || !int.TryParse(parts[1], out int c))
            throw new ArgumentException($"'{text}': expected block:RxC with integer sides, e.g. block:16x1.", nameof(text));
        return new BlockPattern(r, c);
    }
}
