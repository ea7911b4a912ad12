using Lacuna.Graph.Ops;
using Lacuna.Tensors;

namespace Lacuna.Graph;

/// <summary>
/// Load-time pass: resolves auto_pad to explicit pads, evaluates every node whose inputs are all constants
/// (including the Shape → Gather → Unsqueeze → Concat chains CNN exporters emit before a Reshape), and checks
/// that every remaining node is a supported run-time operator with consistent shapes.
/// A symbolic batch is tracked by inferring shapes for two probe batch sizes: a dimension that differs between
/// them is the batch, and a folded Shape records it as <see cref="BatchMarker"/> (Reshape copies it as 0).
/// </summary>
public static class ConstantFolder
{
    public const long BatchMarker = long.MinValue + 1;

    /// <summary>Folds in place; returns the number of nodes folded away.</summary>
    public static int Fold(ModelGraph g) => Fold(g, null);

    /// <summary>
    /// With <paramref name="problems"/> set (validation), a node that fails is recorded there instead of thrown and its
    /// outputs get no shape; nodes reading them, and nodes already recorded (by name), are skipped.
    /// </summary>
    public static int Fold(ModelGraph g, List<Exception>? problems)
    {
        var reported = problems?.OfType<UnsupportedOperatorException>().Select(e => e.NodeName).ToHashSet(StringComparer.Ordinal);
        var dead = new HashSet<string>(StringComparer.Ordinal); // outputs of failed or skipped nodes
        var order = g.TopologicalOrder();
        bool symbolic = g.Inputs.Any(i => i.Shape is null || i.Shape.Contains(GraphValue.Symbolic));
        int[] probes = symbolic ? [2, 3] : [1];
        var shapes = probes.Select(b => InputShapes(g, b)).ToArray();
        int folded = 0;
        foreach (var n in order)
        {
            if (problems is not null)
            {
                if (reported!.Contains(n.Name) || n.Inputs.Any(dead.Contains)) { dead.UnionWith(n.Outputs); continue; }
                try { folded += FoldNode(n); }
                catch (Exception e) when (e is NotSupportedException or FormatException or ArgumentException)
                {
                    problems.Add(e);
                    reported.Add(n.Name);
                    dead.UnionWith(n.Outputs);
                }
                continue;
            }
            folded += FoldNode(n);
        }
        return folded;

        // Folds n (returns 1) or records its output shapes at every probe (returns 0).
        int FoldNode(GraphNode n)
        {
            GraphTensor? Const(int i) => i < n.Inputs.Count && g.Initializers.TryGetValue(n.Inputs[i], out var t) ? t : null;
            int[] ShapeOf(int probe, string name) => g.Initializers.TryGetValue(name, out var t) ? t.Dims
                : shapes[probe].TryGetValue(name, out var s) ? s
                : throw new LacunaFormatException(n.Describe(), $"input '{name}' has an unknown shape.");
            if (n.OpType is "Conv" or "MaxPool" or "AveragePool" && n.Find("auto_pad") is not null)
                OpAttributes.ResolveAutoPad(n, ShapeOf(0, n.Inputs[0]), n.OpType == "Conv" ? ShapeOf(0, n.Inputs[1]) : null);

            bool allConst = n.Inputs.All(i => i.Length == 0 || g.Initializers.ContainsKey(i));
            if (IsLoadTime(n) || (allConst && n.Inputs.Any(i => i.Length > 0)))
            {
                var values = Evaluate(n, Const, name => probes.Select((_, p) => ShapeOf(p, name)).ToArray());
                for (int o = 0; o < values.Length; o++) g.AddInitializer(values[o].Rename(n.Outputs[o]));
                g.Nodes.Remove(n);
                return 1;
            }
            for (int p = 0; p < probes.Length; p++)
            {
                var ins = n.Inputs.Select(i => i.Length == 0 ? [] : ShapeOf(p, i)).ToArray();
                var k = OpCompiler.Compile(n, ins, Const, null);
                for (int o = 0; o < k.OutShapes.Length && o < n.Outputs.Count; o++) shapes[p][n.Outputs[o]] = k.OutShapes[o];
            }
            return 0;
        }
    }

    /// <summary>Operators registered as <see cref="OpTraits.LoadTime"/> (Constant, ConstantOfShape, Shape).</summary>
    private static bool IsLoadTime(GraphNode n) => OpRegistry.Named(n.OpType).Any(d => d.Traits.HasFlag(OpTraits.LoadTime));

    /// <summary>
    /// Every value's shape (folded graph) at batch 1, or the declared batch; what shape-dependent passes read. Compiles
    /// each node without a plan cache, so nothing is packed or timed.
    /// </summary>
    public static Dictionary<string, int[]> InferShapes(ModelGraph g)
    {
        var shapes = InputShapes(g, 1);
        foreach (var n in g.TopologicalOrder())
        {
            var ins = n.Inputs.Select(i => i.Length == 0 ? [] : g.Initializers.TryGetValue(i, out var t) ? t.Dims : shapes[i]).ToArray();
            var k = OpCompiler.Compile(n, ins, i => i < n.Inputs.Count && g.Initializers.TryGetValue(n.Inputs[i], out var t) ? t : null, null);
            for (int o = 0; o < n.Outputs.Count && o < k.OutShapes.Length; o++) shapes[n.Outputs[o]] = k.OutShapes[o];
        }
        return shapes;
    }

    /// <summary>Graph input shapes with the symbolic batch replaced by <paramref name="batch"/>.</summary>
    public static Dictionary<string, int[]> InputShapes(ModelGraph g, int batch)
    {
        var d = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var i in g.Inputs)
        {
            if (g.Initializers.ContainsKey(i.Name)) continue;
            if (i.Shape is null) throw new LacunaFormatException($"graph input '{i.Name}'", "has no shape; Lacuna needs static shapes except the batch.");
            d[i.Name] = i.Shape.Select(x => x == GraphValue.Symbolic ? batch : x).ToArray();
        }
        return d;
    }

    private static GraphTensor[] Evaluate(GraphNode n, Func<int, GraphTensor?> c, Func<string, int[][]> probeShapes)
    {
        if (OpRegistry.Resolve(n).Fold is { } fold) return fold(new FoldContext(n, c, probeShapes));
        var ins = Enumerable.Range(0, n.Inputs.Count).Select(i => n.Inputs[i].Length == 0 ? null : c(i)).ToArray();
        if (ins.Any(t => t is { ElementType: GraphElementType.Int64 }))
            return [EvaluateInt64(n, ins)];
        return EvaluateFloat(n, ins);
    }

    /// <summary>Runs a float node on constant inputs through the same kernels the session uses.</summary>
    private static GraphTensor[] EvaluateFloat(GraphNode n, GraphTensor?[] ins)
    {
        var shapes = ins.Select(t => t?.Dims ?? []).ToArray();
        var k = OpCompiler.Compile(n, shapes, i => i < ins.Length ? ins[i] : null, null);
        var slots = new List<Slot>();
        k.InSlots = ins.Select(t => { if (t is null) return -1; slots.Add(new Slot(0, t.Length, t)); return slots.Count - 1; }).ToArray();
        int offset = 0;
        var outSlots = new int[k.OutShapes.Length];
        for (int o = 0; o < outSlots.Length; o++)
        {
            int len = Broadcast.ElementCount(k.OutShapes[o]);
            slots.Add(new Slot(offset, len, null));
            outSlots[o] = slots.Count - 1;
            offset += len;
        }
        k.OutSlots = outSlots;
        using var arena = new AlignedBuffer(offset);
        k.Run(new Frame(arena, [.. slots]));
        return k.OutShapes.Select((s, o) => new GraphTensor("", s, arena.Span.Slice(slots[outSlots[o]].Offset, slots[outSlots[o]].Length).ToArray())).ToArray();
    }

    /// <summary>The int64 shape arithmetic exporters emit: Concat, Reshape/Identity/Flatten of shape vectors.</summary>
    private static GraphTensor EvaluateInt64(GraphNode n, GraphTensor?[] ins)
    {
        switch (n.OpType)
        {
            case "Concat":
            {
                if (ins.Any(t => t is null || t.Dims.Length != 1)) throw UnsupportedOperatorException.For(n, "int64 Concat is supported for 1-D shape vectors only.");
                var all = ins.SelectMany(t => t!.AsInt64s()).ToArray();
                return new GraphTensor("", [all.Length], all);
            }
            case "Identity" or "Reshape" or "Flatten" or "Dropout":
            {
                var x = ins[0]!;
                int[] dims = n.OpType switch
                {
                    "Reshape" => Kernels.Reference.ReferenceShapeOps.ReshapeShape(x.Dims, ins[1]!.AsInt64s(), n.Int("allowzero", 0) != 0),
                    "Flatten" => Kernels.Reference.ReferenceShapeOps.FlattenShape(x.Dims, (int)n.Int("axis", 1)),
                    _ => x.Dims,
                };
                return new GraphTensor("", dims, x.AsInt64s());
            }
        }
        throw UnsupportedOperatorException.For(n, "int64 tensors are supported only in constant shape computations.");
    }
}
