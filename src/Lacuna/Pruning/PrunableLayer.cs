using Lacuna.Graph;

namespace Lacuna.Pruning;

/// <summary>
/// A Conv (group 1), Gemm or MatMul node whose weight is a constant initializer, seen as the matrix the planner
/// multiplies: W [Rows × Cols] with rows = output channels/features and cols = the reduction (C·kh·kw for a conv, OIHW
/// flattened; in-features for Gemm/MatMul). <see cref="Transposed"/>: the stored tensor is Wᵀ (Gemm with transB = 0,
/// MatMul's B [K × N]), so reads and writes transpose.
/// </summary>
public sealed record PrunableLayer(GraphNode Node, string WeightName, int Rows, int Cols, bool Transposed)
{
    public string Name => Node.Name;
    public string Op => Node.OpType;

    /// <summary>W [Rows × Cols] row-major, a fresh copy.</summary>
    public float[] ReadMatrix(ModelGraph g)
    {
        ArgumentNullException.ThrowIfNull(g);
        var stored = Weight(g).AsFloats();
        if (!Transposed) return (float[])stored.Clone();
        var w = new float[(long)Rows * Cols];
        for (int k = 0; k < Cols; k++)
            for (int r = 0; r < Rows; r++) w[(long)r * Cols + k] = stored[(long)k * Rows + r];
        return w;
    }

    /// <summary>Replaces the weight initializer by W [Rows × Cols] (stored back in the tensor's own layout and dims).</summary>
    public void WriteMatrix(ModelGraph g, ReadOnlySpan<float> w)
    {
        ArgumentNullException.ThrowIfNull(g);
        ThrowHelper.IfTooShort(w.Length, (long)Rows * Cols, nameof(w), $"W [{Rows}×{Cols}]");
        var old = Weight(g);
        var stored = new float[(long)Rows * Cols];
        if (!Transposed) w[..stored.Length].CopyTo(stored);
        else
            for (int k = 0; k < Cols; k++)
                for (int r = 0; r < Rows; r++) stored[(long)k * Rows + r] = w[r * Cols + k];
        g.Initializers[WeightName] = new GraphTensor(WeightName, old.Dims, stored);
    }

    private GraphTensor Weight(ModelGraph g) =>
        g.Initializers.TryGetValue(WeightName, out var t) ? t
        : throw new ArgumentException($"layer '{Name}': weight '{WeightName}' is not an initializer of this graph.", nameof(g));

    /// <summary>
    /// The prunable layers of <paramref name="g"/> in topological order: Conv with group 1, Gemm and MatMul (rank-2 B)
    /// whose weight input is a float initializer used by that node only (a shared weight would be pruned for both).
    /// </summary>
    public static IReadOnlyList<PrunableLayer> Find(ModelGraph g)
    {
        ArgumentNullException.ThrowIfNull(g);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            foreach (var i in n.Inputs) uses[i] = uses.GetValueOrDefault(i) + 1;
        var layers = new List<PrunableLayer>();
        foreach (var n in g.TopologicalOrder())
        {
            if (n.Inputs.Count < 2 || !g.Initializers.TryGetValue(n.Inputs[1], out var w) || w.ElementType != GraphElementType.Float
                || uses.GetValueOrDefault(n.Inputs[1]) != 1 || w.Length == 0)
                continue;
            var d = w.Dims;
            PrunableLayer? layer = n.OpType switch
            {
                "Conv" when n.Int("group", 1) == 1 && d.Length >= 3 => new(n, w.Name, d[0], w.Length / d[0], false),
                "Gemm" when d.Length == 2 => n.Int("transB", 0) != 0 ? new(n, w.Name, d[0], d[1], false) : new(n, w.Name, d[1], d[0], true),
                "MatMul" when d.Length == 2 => new(n, w.Name, d[1], d[0], true),
                _ => null,
            };
            if (layer is not null) layers.Add(layer);
        }
        return layers;
    }

    /// <summary>The layers to prune: all but the first and last unless <paramref name="includeFirstLast"/>.</summary>
    public static IReadOnlyList<PrunableLayer> Select(IReadOnlyList<PrunableLayer> all, bool includeFirstLast)
    {
        ArgumentNullException.ThrowIfNull(all);
        if (includeFirstLast || all.Count == 0) return all;
        return all.Skip(1).Take(Math.Max(0, all.Count - 2)).ToList();
    }
}
