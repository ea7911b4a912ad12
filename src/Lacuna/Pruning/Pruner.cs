using Lacuna.Tensors;

namespace Lacuna.Pruning;

/// <summary>
/// Unstructured pruning of a dense weight matrix in place: zero the given fraction of entries, either the
/// smallest by magnitude (what DLMC's magnitude_pruning did) or a seeded uniformly random subset (what the
/// sparsity sweeps use, since it has no locality a kernel could exploit).
/// </summary>
public static class Pruner
{
    /// <summary>Zeros the round(sparsity·length) entries of smallest |w| (ties broken by position). Returns the count zeroed.</summary>
    public static int Magnitude(Span<float> weights, double sparsity)
    {
        int zeroCount = Count(weights.Length, sparsity);
        if (zeroCount == 0) return 0;
        var order = new int[weights.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var keys = new float[weights.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = MathF.Abs(weights[i]);
        Array.Sort(keys, order);
        for (int i = 0; i < zeroCount; i++) weights[order[i]] = 0f;
        return zeroCount;
    }

    /// <summary>Zeros a seeded random subset of exactly round(sparsity·length) entries. Returns the count zeroed.</summary>
    public static int Random(Span<float> weights, double sparsity, ulong seed)
    {
        int zeroCount = Count(weights.Length, sparsity);
        var rng = new DeterministicRandom(seed);
        var order = new int[weights.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        // Partial Fisher-Yates: the first zeroCount slots become a uniform random subset.
        for (int i = 0; i < zeroCount; i++)
        {
            int j = i + rng.NextInt(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
            weights[order[i]] = 0f;
        }
        return zeroCount;
    }

    private static int Count(int length, double sparsity)
    {
        if (!(sparsity >= 0 && sparsity <= 1))
            ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        return (int)Math.Round(sparsity * length);
    }
}
