namespace Lacuna.Pruning;

/// <summary>One weight matrix W [rows × cols] (row-major) taking part in <see cref="GlobalMagnitude"/> pruning.</summary>
public sealed record GlobalLayer(string Name, Memory<float> Weights, int Rows, int Cols)
{
    public int Length => Rows * Cols;
}

/// <summary>A layer's share of a global pruning: how many of its <see cref="Length"/> weights are zeroed.</summary>
public readonly record struct LayerBudget(string Name, int Zeros, int Length, bool Included)
{
    public double Sparsity => Length == 0 ? 0 : (double)Zeros / Length;
}

/// <summary>
/// Global magnitude pruning: one magnitude threshold across every included layer, so layers whose weights are small
/// overall lose more than layers whose weights are large, and the included weights as a whole reach the requested
/// sparsity exactly (round(S · Σ length) zeros). No layer is left with less than the minimum density (it keeps at least
/// ceil(d_min · length) weights); once a layer reaches that floor the threshold keeps rising over the others, so the
/// total is still met. Order is |w|, then layer order, then position, so the result is deterministic. Excluded layers
/// (by default the caller excludes the first conv and the last FC, which are small and sensitive) are not touched.
/// </summary>
public static class GlobalMagnitude
{
    public const double DefaultMinDensity = 0.05;

    /// <summary>
    /// Per layer, the count of weights to zero (see the class). Throws when a name in <paramref name="excluded"/> is
    /// not a layer, or when the sparsity cannot be reached without going below <paramref name="minDensity"/>.
    /// </summary>
    public static LayerBudget[] Allocate(IReadOnlyList<GlobalLayer> layers, double sparsity,
        double minDensity = DefaultMinDensity, IReadOnlyCollection<string>? excluded = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (!(sparsity >= 0 && sparsity <= 1)) ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        if (!(minDensity >= 0 && minDensity <= 1)) ThrowHelper.OutOfRange(nameof(minDensity), minDensity, "The minimum density must be in [0, 1].");
        var names = new HashSet<string>(layers.Select(l => l.Name));
        foreach (string e in excluded ?? [])
            if (!names.Contains(e)) ThrowHelper.Argument(nameof(excluded), $"Excluded layer '{e}' is not one of the layers ({string.Join(", ", names)}).");

        var included = new bool[layers.Count];
        var caps = new int[layers.Count];
        long total = 0, capacity = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            ThrowHelper.IfTooShort(l.Weights.Length, (long)l.Rows * l.Cols, l.Name, $"W [{l.Rows}×{l.Cols}]");
            included[i] = excluded?.Contains(l.Name) != true;
            if (!included[i]) continue;
            caps[i] = l.Length - (int)Math.Ceiling(minDensity * l.Length - 1e-9);
            total += l.Length;
            capacity += caps[i];
        }
        long target = (long)Math.Round(sparsity * total);
        if (target > capacity)
            ThrowHelper.OutOfRange(nameof(sparsity), sparsity,
                $"Global sparsity {sparsity} is out of reach: keeping every included layer at density >= {minDensity} allows at most {capacity} of {total} zeros ({(double)capacity / Math.Max(1, total):F4}).");

        var zeros = new int[layers.Count];
        var sorted = new ulong[layers.Count][];
        var next = new int[layers.Count];
        var queue = new PriorityQueue<int, (uint Magnitude, int Layer)>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (!included[i] || caps[i] == 0) continue;
            sorted[i] = SortedKeys(layers[i].Weights.Span[..layers[i].Length], layers[i].Name);
            queue.Enqueue(i, ((uint)(sorted[i][0] >> 32), i));
        }
        // Merge the layers' magnitude orders, taking the smallest until the target is met; a layer at its floor leaves.
        for (long taken = 0; taken < target; taken++)
        {
            int i = queue.Dequeue();
            zeros[i]++;
            next[i]++;
            if (zeros[i] < caps[i]) queue.Enqueue(i, ((uint)(sorted[i][next[i]] >> 32), i));
        }
        var budgets = new LayerBudget[layers.Count];
        for (int i = 0; i < layers.Count; i++) budgets[i] = new LayerBudget(layers[i].Name, zeros[i], layers[i].Length, included[i]);
        return budgets;
    }

    /// <summary>Zeros each layer's budgeted count of smallest-magnitude weights (ties by position), as allocated.</summary>
    public static void Apply(IReadOnlyList<GlobalLayer> layers, IReadOnlyList<LayerBudget> budgets)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(budgets);
        if (budgets.Count != layers.Count) ThrowHelper.Argument(nameof(budgets), $"{budgets.Count} budgets for {layers.Count} layers.");
        for (int i = 0; i < layers.Count; i++)
        {
            if (budgets[i].Name != layers[i].Name || budgets[i].Length != layers[i].Length)
                ThrowHelper.Argument(nameof(budgets), $"Budget {i} is for '{budgets[i].Name}' of {budgets[i].Length} weights, layer {i} is '{layers[i].Name}' of {layers[i].Length}.");
            Pruner.MagnitudeCount(layers[i].Weights.Span[..layers[i].Length], budgets[i].Zeros);
        }
    }

    /// <summary><see cref="Allocate"/> then <see cref="Apply"/>; returns the budgets.</summary>
    public static LayerBudget[] Prune(IReadOnlyList<GlobalLayer> layers, double sparsity,
        double minDensity = DefaultMinDensity, IReadOnlyCollection<string>? excluded = null)
    {
        var budgets = Allocate(layers, sparsity, minDensity, excluded);
        Apply(layers, budgets);
        return budgets;
    }

    /// <summary>(|w| bits, index) keys in ascending order: non-negative float bits order like the values.</summary>
    private static ulong[] SortedKeys(ReadOnlySpan<float> weights, string layer)
    {
        var keys = new ulong[weights.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            float a = MathF.Abs(weights[i]);
            if (float.IsNaN(a)) ThrowHelper.Argument(nameof(weights), $"{layer}: weight {i} is NaN; magnitude pruning needs ordered values.");
            keys[i] = ((ulong)BitConverter.SingleToUInt32Bits(a) << 32) | (uint)i;
        }
        Array.Sort(keys);
        return keys;
    }
}
