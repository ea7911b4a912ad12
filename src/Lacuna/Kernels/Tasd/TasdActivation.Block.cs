using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels.Tasd;

/// <summary>Running sums of a decomposition: Σ x² of X and of the dropped entries, X's non-zeros, the kept entries.</summary>
internal struct DecomposeSums
{
    public double Total, Dropped;
    public long NonZeros, Kept;

    public void Add(DecomposeSums o) { Total += o.Total; Dropped += o.Dropped; NonZeros += o.NonZeros; Kept += o.Kept; }
}

public static partial class TasdActivation
{
    /// <summary>Most rows of one group (M ≤ 16).</summary>
    private const int MaxGroup = 16;

    /// <summary>Columns of X one <see cref="DecomposeBlock"/> call takes at most (two cache lines of each row).</summary>
    internal const int BlockColumns = 32;

    /// <summary>Floats of scratch <see cref="DecomposeBlock"/> needs for K = <paramref name="k"/>.</summary>
    internal static long BlockScratch(int k) => (long)k * (BlockColumns + Vector<float>.Count + 2);

    /// <summary>
    /// Decomposes columns [j0, j0 + cols) of X [k × n] (row-major; cols ≤ <see cref="BlockColumns"/>) into the compact
    /// form: column c of the block gets counts[c] entries at rows/values + c·cap, in increasing K order. The block's
    /// rows are first copied to contiguous scratch (whole cache lines, read once: X's rows n floats apart map to few
    /// cache sets, so re-reading them strided thrashed L1 at K = 256). Whole chunks of Vector&lt;float&gt;.Count columns
    /// then run vectorized (<see cref="DecomposeChunk"/>), the rest column by column (<see cref="DecomposeColumn"/>, the
    /// scalar definition); both select the same entries.
    /// </summary>
    internal static unsafe void DecomposeBlock(float* x, int k, int n, int j0, int cols, (int N, int M)[] terms, int cap,
        float* scratch, int* rows, float* values, int* counts, ref DecomposeSums sums)
    {
        float* block = scratch, work = scratch + (long)k * BlockColumns;
        for (int i = 0; i < k; i++)
            new ReadOnlySpan<float>(x + (long)i * n + j0, cols).CopyTo(new Span<float>(block + i * BlockColumns, cols));
        int lanes = Vector<float>.Count, c = 0;
        if (Vector.IsHardwareAccelerated && lanes is 4 or 8 or 16)
            for (; c + lanes <= cols; c += lanes)
                DecomposeChunk(block + c, k, BlockColumns, terms, cap, work, rows + c * cap, values + c * cap, counts + c, ref sums);
        for (; c < cols; c++)
        {
            for (int i = 0; i < k; i++) work[i] = block[i * BlockColumns + c];
            counts[c] = DecomposeColumn(work, k, terms, work + k, rows + c * cap, values + c * cap, ref sums);
        }
    }

    /// <summary>
    /// One chunk of L = Vector&lt;float&gt;.Count columns, vectorized across the columns: the chunk's X rows are copied
    /// into a residual [k × L]; per term and group of m rows, an entry's rank is the number of entries of its group and
    /// column ahead of it (larger magnitude, or equal and at a lower K index), counted over all pairs of rows, and the
    /// entries of rank below N leave the residual. That is the greedy rule: the N largest non-zeros, ties to the lower
    /// index, or all non-zeros when there are at most N. Kept = non-zero in X and zero in the final residual.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DecomposeChunk(float* x, int k, int n, (int N, int M)[] terms, int cap, float* residual,
        int* rows, float* values, int* counts, ref DecomposeSums sums)
    {
        int lanes = Vector<float>.Count;
        for (int i = 0; i < k; i++) Unsafe.Write(residual + i * lanes, Unsafe.ReadUnaligned<Vector<float>>(x + (long)i * n));
        var mag = stackalloc Vector<float>[MaxGroup];
        var rank = stackalloc Vector<int>[MaxGroup];
        foreach (var (keep, m) in terms)
        {
            var limit = new Vector<int>(keep);
            for (int g0 = 0; g0 < k; g0 += m)
            {
                int width = Math.Min(m, k - g0);
                float* g = residual + g0 * lanes;
                if (width <= keep) { Clear(g, width * lanes); continue; }
                var zeros = Vector<int>.Zero;
                for (int i = 0; i < width; i++)
                {
                    mag[i] = Vector.Abs(Unsafe.Read<Vector<float>>(g + i * lanes));
                    rank[i] = Vector<int>.Zero;
                    zeros -= Vector.Equals(mag[i], Vector<float>.Zero);
                }
                // Most groups of a sparse activation (and nearly all of a later term's residual) hold at most N
                // non-zeros in every column: all of them are taken, with no ranking.
                if (Vector.GreaterThanOrEqualAll(zeros, new Vector<int>(width - keep))) { Clear(g, width * lanes); continue; }
                for (int i = 0; i < width; i++)
                    for (int j = i + 1; j < width; j++)
                    {
                        var jAhead = Vector.GreaterThan(mag[j], mag[i]); // -1 where j outranks i (ties go to i, the lower index)
                        rank[i] -= jAhead;
                        rank[j] -= Vector.OnesComplement(jAhead);
                    }
                for (int i = 0; i < width; i++)
                {
                    var taken = Vector.AsVectorSingle(Vector.LessThan(rank[i], limit));
                    Unsafe.Write(g + i * lanes, Vector.ConditionalSelect(taken, Vector<float>.Zero, Unsafe.Read<Vector<float>>(g + i * lanes)));
                }
            }
        }
        // The residual becomes the kept part (X where X is non-zero and the residual zero), read back per column below.
        var total = Vector<double>.Zero;
        var lost = Vector<double>.Zero;
        long present = 0;
        for (int i = 0; i < k; i++)
        {
            var xv = Unsafe.ReadUnaligned<Vector<float>>(x + (long)i * n);
            var rv = Unsafe.Read<Vector<float>>(residual + i * lanes);
            Vector.Widen(xv, out var x0, out var x1);
            Vector.Widen(rv, out var r0, out var r1);
            total += x0 * x0 + x1 * x1;
            lost += r0 * r0 + r1 * r1;
            var zero = Vector.Equals(xv, Vector<float>.Zero);
            present += lanes - BitOperations.PopCount(MostSignificantBits(zero));
            var keptMask = Vector.AsVectorSingle(Vector.AndNot(Vector.Equals(rv, Vector<float>.Zero), zero));
            Unsafe.Write(residual + i * lanes, Vector.ConditionalSelect(keptMask, xv, Vector<float>.Zero));
        }
        long kept = 0;
        for (int c = 0; c < lanes; c++)
        {
            // Branch-free append: every row is written, only kept ones advance the count (one slot of slack past the
            // column is written at most, inside the next column's range or the buffer's spare entry).
            int count = 0;
            int* r = rows + c * cap;
            float* v = values + c * cap;
            float* src = residual + c;
            for (int i = 0; i < k; i++)
            {
                float e = src[i * lanes];
                r[count] = i;
                v[count] = e;
                count += e != 0f ? 1 : 0;
            }
            counts[c] = count;
            kept += count;
        }
        sums.Total += Vector.Sum(total);
        sums.Dropped += Vector.Sum(lost);
        sums.NonZeros += present;
        sums.Kept += kept;
    }

    private static unsafe void Clear(float* p, int count) => new Span<float>(p, count).Clear();

    /// <summary>One bit per lane of a comparison mask (Vector&lt;float&gt; is 16, 32 or 64 bytes on a vector tier).</summary>
    private static uint MostSignificantBits(Vector<int> mask) => Vector<int>.Count switch
    {
        4 => mask.AsVector128().ExtractMostSignificantBits(),
        8 => mask.AsVector256().ExtractMostSignificantBits(),
        _ => (uint)mask.AsVector512().ExtractMostSignificantBits(),
    };
}
