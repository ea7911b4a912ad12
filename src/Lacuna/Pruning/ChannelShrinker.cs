using Lacuna.Graph;

namespace Lacuna.Pruning;

/// <summary>
/// How a conv's output channels reach the next layer that mixes them: the per-channel nodes in between
/// (BatchNormalization, Relu, Clip, pooling, ...) and the consumer (a Conv, or a Gemm/MatMul behind a Flatten), or,
/// when they cannot be followed, <see cref="Reason"/> says why (they feed an Add or a Concat, two nodes, a graph output).
/// </summary>
public sealed record ChannelChain(PrunableLayer Layer, IReadOnlyList<GraphNode> Between, GraphNode? Consumer, bool ViaFlatten, string? Reason)
{
    public bool CanShrink => Reason is null;
}

/// <summary>
/// Channel pruning's graph surgery. A conv filter whose weights are all zero still outputs its bias (and, through a
/// BatchNormalization, a shift), a constant that the next layer mixes in, except near its zero padding where the
/// constant is cut off; so "the same function" is defined against the masked model of <see cref="Mask"/>, in which a
/// pruned channel outputs exactly zero (filter, bias entry and the BN's scale and shift zeroed, every node in between
/// maps 0 to 0). <see cref="Shrink"/> then removes the channel everywhere (filter, bias, BN entries, the consumer's
/// input channels or its Flatten columns channel × spatial) and computes exactly what the masked model computes.
/// </summary>
public static class ChannelShrinker
{
    /// <summary>Nodes that act on each channel alone and map 0 to 0 (Clip only when its range holds 0: checked apart).</summary>
    private static readonly HashSet<string> PerChannel = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Tanh", "Identity", "Dropout", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    };

    /// <summary>Follows a Conv layer's output to the layer that consumes its channels.</summary>
    public static ChannelChain Follow(ModelGraph g, PrunableLayer layer)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(layer);
        ChannelChain Stop(string reason, List<GraphNode>? between = null) => new(layer, between ?? [], null, false, reason);
        if (layer.Op != "Conv") return Stop($"{layer.Op} layers have no filters to remove (Conv only)");
        if (!BiasIsPrivate(g, layer.Node)) return Stop("its bias is not a constant of its own");
        var between = new List<GraphNode>();
        string value = layer.Node.Outputs[0];
        while (true)
        {
            if (g.Outputs.Any(o => o.Name == value)) return Stop($"'{value}' is a graph output", between);
            var consumers = g.Nodes.Where(n => n.Inputs.Contains(value)).ToList();
            if (consumers.Count != 1) return Stop($"'{value}' feeds {consumers.Count} nodes", between);
            var c = consumers[0];
            if (c.Inputs[0] != value || c.Inputs.Skip(1).Contains(value)) return Stop($"channels feed {c.OpType} '{c.Name}' as a non-data input", between);
            switch (c.OpType)
            {
                case "BatchNormalization":
                    if (c.Outputs.Skip(1).Any(o => o.Length > 0) || c.Inputs.Count < 5
                        || c.Inputs.Skip(1).Take(4).Any(i => !IsPrivate(g, i, c) || g.Initializers[i].Length != layer.Rows))
                        return Stop($"BatchNormalization '{c.Name}' has statistics that are not constants of its own", between);
                    break;
                case "Clip":
                    if (!ClipKeepsZero(g, c)) return Stop($"Clip '{c.Name}' does not map 0 to 0", between);
                    break;
                case "Conv":
                    if (c.Int("group", 1) != 1 || c.Inputs.Count < 2 || !IsPrivate(g, c.Inputs[1], c))
                        return Stop($"Conv '{c.Name}' is grouped or its weight is not a constant of its own", between);
                    return new(layer, between, c, false, null);
                case "Flatten":
                    return FollowFlatten(g, layer, between, c);
                default:
                    if (!PerChannel.Contains(c.OpType) || c.Outputs.Skip(1).Any(o => o.Length > 0))
                        return Stop($"channels feed {c.OpType} '{c.Name}'", between);
                    break;
            }
            between.Add(c);
            value = c.Outputs[0];
        }
    }

    private static ChannelChain FollowFlatten(ModelGraph g, PrunableLayer layer, List<GraphNode> between, GraphNode flatten)
    {
        ChannelChain Stop(string reason) => new(layer, between, null, false, reason);
        if (flatten.Int("axis", 1) != 1) return Stop($"Flatten '{flatten.Name}' does not flatten from axis 1");
        string v = flatten.Outputs[0];
        if (g.Outputs.Any(o => o.Name == v)) return Stop($"'{v}' is a graph output");
        var consumers = g.Nodes.Where(n => n.Inputs.Contains(v)).ToList();
        if (consumers.Count != 1) return Stop($"'{v}' feeds {consumers.Count} nodes");
        var c = consumers[0];
        bool ok = c.Inputs[0] == v && c.Inputs.Count >= 2 && IsPrivate(g, c.Inputs[1], c) && g.Initializers[c.Inputs[1]].Dims.Length == 2
            && (c.OpType == "MatMul" || c.OpType == "Gemm" && c.Int("transA", 0) == 0);
        if (!ok) return Stop($"flattened channels feed {c.OpType} '{c.Name}'");
        int features = InFeatures(g, c);
        if (features % layer.Rows != 0) return Stop($"{c.OpType} '{c.Name}' reads {features} features, not a multiple of {layer.Rows} channels");
        between.Add(flatten);
        return new(layer, between, c, true, null);
    }

    /// <summary>The rows of W [rows × cols] that are entirely zero.</summary>
    public static int[] ZeroRows(ReadOnlySpan<float> w, int rows, int cols)
    {
        ThrowHelper.IfTooShort(w.Length, (long)rows * cols, nameof(w), $"W [{rows}×{cols}]");
        var zero = new List<int>();
        for (int r = 0; r < rows; r++)
            if (!w.Slice(r * cols, cols).ContainsAnyExcept(0f)) zero.Add(r);
        return zero.ToArray();
    }

    /// <summary>Makes each channel in <paramref name="channels"/> output exactly zero: its filter, bias entry and BN scale and shift.</summary>
    public static void Mask(ModelGraph g, ChannelChain chain, IReadOnlyCollection<int> channels)
    {
        Check(g, chain, channels);
        var n = chain.Layer.Node;
        ZeroEntries(g, n.Inputs[1], chain.Layer.Rows, channels);
        if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0) ZeroEntries(g, n.Inputs[2], chain.Layer.Rows, channels);
        foreach (var bn in chain.Between.Where(b => b.OpType == "BatchNormalization"))
        {
            ZeroEntries(g, bn.Inputs[1], chain.Layer.Rows, channels);
            ZeroEntries(g, bn.Inputs[2], chain.Layer.Rows, channels);
        }
    }

    /// <summary>Removes <paramref name="channels"/> from the conv, its bias, every BN in between and the consumer's inputs.</summary>
    public static void Shrink(ModelGraph g, ChannelChain chain, IReadOnlyCollection<int> channels)
    {
        Check(g, chain, channels);
        var remove = new HashSet<int>(channels);
        int m = chain.Layer.Rows;
        var n = chain.Layer.Node;
        RemoveAlong(g, n.Inputs[1], axis: 0, m, remove, group: 1);
        if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0) RemoveAlong(g, n.Inputs[2], 0, m, remove, 1);
        foreach (var bn in chain.Between.Where(b => b.OpType == "BatchNormalization"))
            for (int i = 1; i <= 4; i++) RemoveAlong(g, bn.Inputs[i], 0, m, remove, 1);
        var c = chain.Consumer!;
        if (!chain.ViaFlatten) { RemoveAlong(g, c.Inputs[1], 1, m, remove, 1); return; }
        // Flatten orders features channel-major: channel ch owns features [ch·S, (ch+1)·S).
        int spatial = InFeatures(g, c) / m;
        bool inIsColumns = c.OpType == "Gemm" && c.Int("transB", 0) != 0;
        RemoveAlong(g, c.Inputs[1], inIsColumns ? 1 : 0, m, remove, spatial);
    }

    private static void Check(ModelGraph g, ChannelChain chain, IReadOnlyCollection<int> channels)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(channels);
        if (!chain.CanShrink) ThrowHelper.Argument(nameof(chain), $"layer '{chain.Layer.Name}' cannot be shrunk: {chain.Reason}.");
        foreach (int ch in channels)
            if ((uint)ch >= (uint)chain.Layer.Rows) ThrowHelper.OutOfRange(nameof(channels), ch, $"Layer '{chain.Layer.Name}' has {chain.Layer.Rows} channels.");
        if (channels.Distinct().Count() >= chain.Layer.Rows)
            ThrowHelper.Argument(nameof(channels), $"removing all {chain.Layer.Rows} channels of '{chain.Layer.Name}' would leave no layer.");
    }

    private static int InFeatures(ModelGraph g, GraphNode c)
    {
        var d = g.Initializers[c.Inputs[1]].Dims;
        return c.OpType == "Gemm" && c.Int("transB", 0) != 0 ? d[1] : d[0];
    }

    /// <summary>Zeros, in tensor <paramref name="name"/> of leading dimension <paramref name="m"/>, the slices of the given channels.</summary>
    private static void ZeroEntries(ModelGraph g, string name, int m, IReadOnlyCollection<int> channels)
    {
        var t = g.Initializers[name];
        var v = (float[])t.AsFloats().Clone();
        int per = v.Length / m;
        foreach (int ch in channels) v.AsSpan(ch * per, per).Clear();
        g.Initializers[name] = new GraphTensor(name, t.Dims, v);
    }

    /// <summary>
    /// Drops, along <paramref name="axis"/> (0 or 1) of tensor <paramref name="name"/>, every run of
    /// <paramref name="group"/> consecutive indices that belongs to a removed channel (index / group ∈ remove).
    /// </summary>
    private static void RemoveAlong(ModelGraph g, string name, int axis, int channels, HashSet<int> remove, int group)
    {
        var t = g.Initializers[name];
        var d = t.Dims;
        var v = t.AsFloats();
        int outer = axis == 0 ? 1 : d[0];
        int along = d[axis];
        if (along != channels * group)
            ThrowHelper.Shape(name, $"dimension {axis} is {along}, not {channels} channels × {group}.");
        int inner = 1;
        for (int i = axis + 1; i < d.Length; i++) inner *= d[i];
        int kept = along - remove.Count * group;
        var result = new float[(long)outer * kept * inner];
        int dst = 0;
        for (int o = 0; o < outer; o++)
            for (int a = 0; a < along; a++)
            {
                if (remove.Contains(a / group)) continue;
                v.AsSpan((o * along + a) * inner, inner).CopyTo(result.AsSpan(dst, inner));
                dst += inner;
            }
        var dims = (int[])d.Clone();
        dims[axis] = kept;
        g.Initializers[name] = new GraphTensor(name, dims, result);
    }

    private static bool BiasIsPrivate(ModelGraph g, GraphNode conv) =>
        conv.Inputs.Count < 3 || conv.Inputs[2].Length == 0 || IsPrivate(g, conv.Inputs[2], conv);

    /// <summary>A float initializer that only <paramref name="node"/> reads.</summary>
    private static bool IsPrivate(ModelGraph g, string name, GraphNode node) =>
        g.Initializers.TryGetValue(name, out var t) && t.ElementType == GraphElementType.Float
        && g.Nodes.All(n => n == node || !n.Inputs.Contains(name)) && node.Inputs.Count(i => i == name) == 1;

    private static bool ClipKeepsZero(ModelGraph g, GraphNode clip)
    {
        float min = clip.Float("min", float.MinValue), max = clip.Float("max", float.MaxValue);
        if (clip.Inputs.Count > 1 && clip.Inputs[1].Length > 0)
        {
            if (!g.Initializers.TryGetValue(clip.Inputs[1], out var t) || t.Length != 1) return false;
            min = t.AsFloats()[0];
        }
        if (clip.Inputs.Count > 2 && clip.Inputs[2].Length > 0)
        {
            if (!g.Initializers.TryGetValue(clip.Inputs[2], out var t) || t.Length != 1) return false;
            max = t.AsFloats()[0];
        }
        return min <= 0 && max >= 0;
    }
}
