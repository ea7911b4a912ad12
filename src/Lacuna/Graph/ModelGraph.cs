namespace Lacuna.Graph;

/// <summary>
/// The engine's graph: named inputs and outputs, nodes, and constant initializers. Values are identified by name;
/// every node input is a graph input, an initializer, "" (omitted optional) or the output of exactly one node.
/// </summary>
public sealed class ModelGraph
{
    public string Name { get; set; } = "graph";
    public long Opset { get; set; } = 13;
    public List<GraphValue> Inputs { get; } = [];
    public List<GraphValue> Outputs { get; } = [];
    public List<GraphNode> Nodes { get; } = [];
    public Dictionary<string, GraphTensor> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>The model's metadata_props (key → value), e.g. "lacuna.pruning" (<see cref="Pruning.PruningMetadata"/>).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public void AddInitializer(GraphTensor t) => Initializers[t.Name] = t;

    /// <summary>
    /// Nodes in an order where every node follows the producers of its inputs (Kahn's algorithm, stable with
    /// respect to the stored order). Throws <see cref="LacunaFormatException"/> naming a node on a cycle, a
    /// missing input (and the node that reads it), or a value produced twice.
    /// </summary>
    public List<GraphNode> TopologicalOrder()
    {
        var producer = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var n in Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, n))
                    throw new LacunaFormatException($"node '{n.Name}'", $"output '{o}' is also produced by node '{producer[o].Name}'.");
        var available = new HashSet<string>(Inputs.Select(i => i.Name).Concat(Initializers.Keys), StringComparer.Ordinal) { "" };
        foreach (var n in Nodes)
            foreach (var i in n.Inputs)
                if (!available.Contains(i) && !producer.ContainsKey(i))
                    throw new LacunaFormatException($"{n.OpType} node '{n.Name}'", $"input '{i}' is not a graph input, an initializer or any node's output.");

        var pending = new Dictionary<GraphNode, int>();
        var consumers = new Dictionary<GraphNode, List<GraphNode>>();
        foreach (var n in Nodes)
        {
            int count = 0;
            foreach (var i in n.Inputs.Distinct())
                if (!available.Contains(i) && producer.TryGetValue(i, out var p))
                {
                    count++;
                    if (!consumers.TryGetValue(p, out var list)) consumers[p] = list = [];
                    list.Add(n);
                }
            pending[n] = count;
        }
        var ready = new Queue<GraphNode>(Nodes.Where(n => pending[n] == 0));
        var order = new List<GraphNode>(Nodes.Count);
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            order.Add(n);
            if (consumers.TryGetValue(n, out var list))
                foreach (var c in list)
                    if (--pending[c] == 0) ready.Enqueue(c);
        }
        if (order.Count != Nodes.Count)
        {
            var stuck = Nodes.First(n => pending[n] > 0 && OnCycle(n, producer, available));
            throw new LacunaFormatException($"{stuck.OpType} node '{stuck.Name}'", "is on a cycle: the graph is not acyclic.");
        }
        foreach (var o in Outputs)
            if (!available.Contains(o.Name) && !producer.ContainsKey(o.Name))
                throw new LacunaFormatException($"graph output '{o.Name}'", "is not produced by any node, input or initializer.");
        return order;
    }

    /// <summary>True when following producers from <paramref name="start"/> leads back to it.</summary>
    private static bool OnCycle(GraphNode start, Dictionary<string, GraphNode> producer, HashSet<string> available)
    {
        var seen = new HashSet<GraphNode>();
        var stack = new Stack<GraphNode>();
        stack.Push(start);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            foreach (var i in n.Inputs)
            {
                if (available.Contains(i) || !producer.TryGetValue(i, out var p)) continue;
                if (p == start) return true;
                if (seen.Add(p)) stack.Push(p);
            }
        }
        return false;
    }

    /// <summary>Nodes reading each value name.</summary>
    public Dictionary<string, List<GraphNode>> Consumers()
    {
        var map = new Dictionary<string, List<GraphNode>>(StringComparer.Ordinal);
        foreach (var n in Nodes)
            foreach (var i in n.Inputs)
            {
                if (!map.TryGetValue(i, out var list)) map[i] = list = [];
                list.Add(n);
            }
        return map;
    }

    public ModelGraph Clone()
    {
        var g = new ModelGraph { Name = Name, Opset = Opset };
        g.Inputs.AddRange(Inputs);
        g.Outputs.AddRange(Outputs);
        foreach (var n in Nodes)
            g.Nodes.Add(new GraphNode(n.Name, n.OpType, n.Inputs, n.Outputs, n.Attributes, n.Opset) { FusedActivation = n.FusedActivation, FusedGelu = n.FusedGelu, FusedPost = n.FusedPost });
        foreach (var kv in Initializers) g.Initializers[kv.Key] = kv.Value;
        foreach (var kv in Metadata) g.Metadata[kv.Key] = kv.Value;
        return g;
    }
}
