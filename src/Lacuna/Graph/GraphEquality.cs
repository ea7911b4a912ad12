namespace Lacuna.Graph;

/// <summary>Structural equality of graphs (used to check export round trips): same nodes, attributes, values and constants bit for bit.</summary>
public static class GraphEquality
{
    public static bool TensorsEqual(GraphTensor a, GraphTensor b) =>
        a.Name == b.Name && a.ElementType == b.ElementType && a.Dims.AsSpan().SequenceEqual(b.Dims)
        && (a.Floats is null ? a.Int64s!.AsSpan().SequenceEqual(b.Int64s) :
            b.Floats is not null && a.Floats.Length == b.Floats.Length
            && a.Floats.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Floats.Select(BitConverter.SingleToInt32Bits)));

    /// <summary>Null when equal, otherwise the first difference in words.</summary>
    public static string? Difference(ModelGraph a, ModelGraph b)
    {
        if (a.Inputs.Count != b.Inputs.Count || a.Outputs.Count != b.Outputs.Count) return "input/output counts differ";
        for (int i = 0; i < a.Inputs.Count; i++)
            if (a.Inputs[i].Name != b.Inputs[i].Name || a.Inputs[i].ShapeText != b.Inputs[i].ShapeText) return $"input {i} differs";
        for (int i = 0; i < a.Outputs.Count; i++)
            if (a.Outputs[i].Name != b.Outputs[i].Name) return $"output {i} differs";
        if (a.Nodes.Count != b.Nodes.Count) return $"node counts differ ({a.Nodes.Count} vs {b.Nodes.Count})";
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            var x = a.Nodes[i];
            var y = b.Nodes[i];
            if (x.Name != y.Name || x.OpType != y.OpType || !x.Inputs.SequenceEqual(y.Inputs) || !x.Outputs.SequenceEqual(y.Outputs)
                || x.Attributes.Count != y.Attributes.Count || x.FusedActivation != y.FusedActivation || x.FusedGelu != y.FusedGelu || x.FusedPost != y.FusedPost)
                return $"node {i} ('{x.Name}') differs";
            foreach (var att in x.Attributes)
                if (y.Find(att.Name) is not { } other || !att.ContentEquals(other)) return $"node '{x.Name}' attribute '{att.Name}' differs";
        }
        if (a.Initializers.Count != b.Initializers.Count) return "initializer counts differ";
        foreach (var kv in a.Initializers)
            if (!b.Initializers.TryGetValue(kv.Key, out var t) || !TensorsEqual(kv.Value, t)) return $"initializer '{kv.Key}' differs";
        return null;
    }
}
