using Lacuna.Tensors;

namespace Lacuna.Pruning;

/// <summary>
/// Unstructured pruning of a dense weight matrix in place: zero the given fraction of entries, either the
/// smallest by magnitude (what DLMC's magnitude_pruning did) or a seeded uniformly random subset (what the
/// sparsity sweeps use, since it has no locality a kernel could exploit).
/// </summary>
public static class Pruner
{
    /// <summary>
    /// Zeros the round(sparsity·length) entries of smallest |w|, ties broken by position (lower index pruned first),
    /// so the result is deterministic. Entries already zero count among the smallest. Returns the count zeroed
    /// by this call's selection. NaN weights are rejected (they have no magnitude order).
    /// </summary>
    public static int Magnitude(Span<float> weights, double sparsity) => MagnitudeCount(weights, Count(weights.Length, sparsity));

    /// <summary>
    /// Zeros exactly <paramref name="zeroCount"/> entries of smallest |w| (ties by position, lower index first), as
    /// <see cref="Magnitude"/> does for a count a caller has already decided (<see cref="GlobalMagnitude"/>).
    /// </summary>
    public static int MagnitudeCount(Span<float> weights, int zeroCount)
    {
        if (zeroCount < 0 || zeroCount > weights.Length)
            ThrowHelper.OutOfRange(nameof(zeroCount), zeroCount, $"The count to prune must be in [0, {weights.Length}].");
        if (zeroCount == 0) return 0;
        // Key = (|w| bits, index): for non-negative floats the IEEE bit pattern orders like the value,
        // so one ulong sort gives magnitude order with a stable, position-based tie-break.
        var keys = new ulong[weights.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            float a = MathF.Abs(weights[i]);
            if (float.IsNaN(a)) ThrowHelper.Argument(nameof(weights), $"weights[{i}] is NaN; magnitude pruning needs ordered values.");
            keys[i] = ((ulong)BitConverter.SingleToUInt32Bits(a) << 32) | (uint)i;
        }
        Array.Sort(keys);
        for (int i = 0; i < zeroCount; i++) weights[(int)(uint)keys[i]] = 0f;
        return zeroCount;
    }

    /// <summary>
    /// Zeros a seeded random subset of exactly round(sparsity·length) positions (uniform over subsets; the same seed
    /// and length give the same subset whatever the values). Entries already zero stay zero, so the final sparsity is
    /// at least the target. Returns the number of positions selected.
    /// </summary>
    public static int Random(Span<float> weights, double sparsity, ulong seed)
    {
        var keep = RandomMask(weights.Length, sparsity, seed);
        int zeroed = 0;
        for (int i = 0; i < keep.Length; i++)
            if (!keep[i]) { weights[i] = 0f; zeroed++; }
        return zeroed;
    }

    /// <summary>
    /// The seeded keep-mask behind <see cref="Random"/>: <c>mask[i]</c> is false for exactly round(sparsity·length)
    /// positions, a uniform random subset chosen by a partial Fisher-Yates shuffle. Length = <paramref name="length"/>.
    /// </summary>
    public static bool[] RandomMask(int length, double sparsity, ulong seed)
    {
        ThrowHelper.IfNegative(length, nameof(length));
        int zeroCount = Count(length, sparsity);
        var keep = new bool[length];
        Array.Fill(keep, true);
        var rng = new DeterministicRandom(seed);
        var order = new int[length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = 0; i < zeroCount; i++)
        {
            int j = i + rng.NextInt(length - i);
            (order[i], order[j]) = (order[j], order[i]);
            keep[order[i]] = false;
        }
        return keep;
    }

    private static int Count(int length, double sparsity)
    {
        if (!(sparsity >= 0 && sparsity <= 1))
            ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        return (int)Math.Round(sparsity * length);
    }
}
