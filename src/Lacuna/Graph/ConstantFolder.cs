using Lacuna.Graph.Ops;
using Lacuna.Tensors;

namespace Lacuna.Graph;

/// <summary>
/// Load-time pass: resolves auto_pad to explicit pads, evaluates every node whose inputs are all constants
/// (including the Shape → Gather → Unsqueeze → Concat chains CNN exporters emit before a Reshape), and checks
/// that every remaining node is a supported run-time operator with consistent shapes.
/// A symbolic batch is tracked by inferring shapes for two probe batch sizes: a dimension that differs between
/// them is the batch, and a folded Shape records it as <see cref="BatchMarker"/> (Reshape copies it as 0).
/// When a symbolic dimension other than the batch exists (a sequence length), markers cannot say which dimension a
/// value came from, so Shape of a dynamic value is not folded at load: every plan evaluates the shape arithmetic
/// from its concrete input shapes (<see cref="PlanStep"/>), and the load checks it at both probes the same way.
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
        bool perPlan = HasNonBatchSymbolic(g);
        int[] probes = symbolic ? [2, 3] : [1];
        var shapes = probes.Select(b => InputShapes(g, b)).ToArray();
        var dynamic = probes.Select(_ => new Dictionary<string, GraphTensor>(StringComparer.Ordinal)).ToArray();
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
            if (perPlan)
            {
                // Fold only what no plan can change: constants, and Shape of a value whose shape is the same at both probes.
                bool fixedShape = n.OpType is not ("Shape" or "Size") || n.Inputs.Count == 0 || probes.Select((_, p) => ShapeOf(p, n.Inputs[0])).Distinct(ShapeComparer).Count() == 1;
                if (fixedShape && (n.OpType is "Shape" or "Size" or "Constant" || (allConst && n.Inputs.Any(i => i.Length > 0))))
                {
                    var folded1 = Evaluate(n, Const, name => probes.Select((_, p) => ShapeOf(p, name)).ToArray());
                    for (int o = 0; o < folded1.Length; o++) g.AddInitializer(folded1[o].Rename(n.Outputs[o]));
                    g.Nodes.Remove(n);
                    return 1;
                }
                for (int p = 0; p < probes.Length; p++) PlanStep(g, n, shapes[p], dynamic[p], null);
                return 0;
            }
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

    private static readonly IEqualityComparer<int[]> ShapeComparer = EqualityComparer<int[]>.Create((a, b) => a.AsSpan().SequenceEqual(b), a => a.Length);

    /// <summary>Whether an input has a symbolic dimension other than dimension 0 (then shapes are folded per plan).</summary>
    public static bool HasNonBatchSymbolic(ModelGraph g) =>
        g.Inputs.Any(i => !g.Initializers.ContainsKey(i.Name) && i.Shape is { } s && s.Skip(1).Contains(GraphValue.Symbolic));

    /// <summary>
    /// One node of a plan for concrete input shapes: a node that reads only constants (initializers, or values this
    /// plan already evaluated in <paramref name="dynamic"/>) or is a load-time operator (Shape) is evaluated into
    /// <paramref name="dynamic"/> and returns null; any other is compiled, its output shapes recorded in <paramref name="shapes"/>.
    /// </summary>
    internal static NodeKernel? PlanStep(ModelGraph g, GraphNode n, Dictionary<string, int[]> shapes, Dictionary<string, GraphTensor> dynamic, OpCompiler.PlanCache? cache)
    {
        GraphTensor? Known(string name) => g.Initializers.TryGetValue(name, out var t) ? t : dynamic.GetValueOrDefault(name);
        GraphTensor? Const(int i) => i < n.Inputs.Count && n.Inputs[i].Length > 0 ? Known(n.Inputs[i]) : null;
        int[] ShapeOf(string name) => Known(name)?.Dims ?? (shapes.TryGetValue(name, out var s) ? s
            : throw new LacunaFormatException(n.Describe(), $"input '{name}' has an unknown shape."));
        bool allConst = n.Inputs.All(i => i.Length == 0 || Known(i) is not null);
        if (IsLoadTime(n) || (allConst && n.Inputs.Any(i => i.Length > 0)))
        {
            var values = Evaluate(n, Const, name => [ShapeOf(name)]);
            for (int o = 0; o < values.Length && o < n.Outputs.Count; o++)
            {
                dynamic[n.Outputs[o]] = values[o].Rename(n.Outputs[o]);
                shapes[n.Outputs[o]] = values[o].Dims;
            }
            return null;
        }
        var ins = n.Inputs.Select(i => i.Length == 0 ? [] : ShapeOf(i)).ToArray();
        var k = OpCompiler.Compile(n, ins, Const, cache);
        for (int o = 0; o < n.Outputs.Count && o < k.OutShapes.Length; o++) shapes[n.Outputs[o]] = k.OutShapes[o];
        return k;
    }

    /// <summary>Operators registered as <see cref="OpTraits.LoadTime"/> (Constant, ConstantOfShape, Shape, Size).</summary>
    private static bool IsLoadTime(GraphNode n) => OpRegistry.Named(n.OpType).Any(d => d.Traits.HasFlag(OpTraits.LoadTime));

    /// <summary>
    /// Every value's shape (folded graph) at batch 1, or the declared batch; what shape-dependent passes read. Compiles
    /// each node without a plan cache, so nothing is packed or timed.
    /// </summary>
    public static Dictionary<string, int[]> InferShapes(ModelGraph g)
    {
        var shapes = InputShapes(g, 1);
        var dynamic = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
        foreach (var n in g.TopologicalOrder()) PlanStep(g, n, shapes, dynamic, null);
        return shapes;
    }

    /// <summary>Graph input shapes with every symbolic dimension (the batch, and any other) replaced by <paramref name="batch"/>.</summary>
    public static Dictionary<string, int[]> InputShapes(ModelGraph g, int batch)
    {
        var d = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var i in g.Inputs)
        {
            if (g.Initializers.ContainsKey(i.Name)) continue;
            if (i.Shape is null) throw new LacunaFormatException($"graph input '{i.Name}'", "has no shape; Lacuna needs every input's rank and its fixed dimensions.");
            d[i.Name] = i.Shape.Select(x => x == GraphValue.Symbolic ? batch : x).ToArray();
        }
        return d;
    }

    private static GraphTensor[] Evaluate(GraphNode n, Func<int, GraphTensor?> c, Func<string, int[][]> probeShapes)
    {
        if (OpRegistry.Resolve(n).Fold is { } fold) return fold(new FoldContext(n, c, probeShapes));
        var ins = Enumerable.Range(0, n.Inputs.Count).Select(i => n.Inputs[i].Length == 0 ? null : c(i)).ToArray();
        if (ins.Any(t => t is { ElementType: GraphElementType.Int64 }))
        {
            // Int64 data only: a float constant reshaped by an int64 shape (or Dropout with a bool training_mode) keeps its floats.
            bool int64Data = n.OpType == "Concat" ? ins.All(t => t is null or { ElementType: GraphElementType.Int64 }) : ins[0] is { ElementType: GraphElementType.Int64 };
            if (n.OpType is "Concat" or "Identity" or "Reshape" or "Flatten" or "Dropout" && int64Data) return [EvaluateInt64(n, ins)];
            // Other int64 arithmetic (Range, Slice, Equal, Where, Cast, Expand, Mul ...) runs on the float kernels the
            // run time uses for int64 values (exact below 2^24, see InferenceSession); a folded batch marker is not a number.
            if (ins.Any(t => t is { Int64s: { } v } && v.Contains(BatchMarker)))
                throw UnsupportedOperatorException.For(n, "int64 tensors are supported only in constant shape computations.");
        }
        if (IntegerFold.Handles(n, ins)) return [IntegerFold.Evaluate(n, ins)];
        var values = EvaluateFloat(n, ins);
        if (!Int64Output(n, ins)) return values;
        var type = OutputIntegerType(n, ins);
        return values.Select(t => new GraphTensor("", t.Dims, Array.ConvertAll(t.Floats!, v => IntegerTypes.Wrap((long)v, type)), type)).ToArray();
    }

    /// <summary>The integer type of an <see cref="Int64Output"/> node's values: the cast's target, bool for comparisons, else its data input's.</summary>
    private static IntegerType OutputIntegerType(GraphNode n, GraphTensor?[] ins) => n.OpType switch
    {
        "Cast" => IntegerTypes.IsInteger(n.Int("to", 7)) ? (IntegerType)n.Int("to", 7) : IntegerType.Int64,
        "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor" => IntegerType.Bool,
        "Where" => ins[1]!.IntegerType,
        "ArgMax" or "ArgMin" => IntegerType.Int64,
        _ => ins.FirstOrDefault(t => t is { ElementType: GraphElementType.Int64 })?.IntegerType ?? IntegerType.Int64,
    };

    /// <summary>Whether a node evaluated on float kernels produces int64 (or bool, held as int64 0/1) values.</summary>
    private static bool Int64Output(GraphNode n, GraphTensor?[] ins) => n.OpType switch
    {
        "Cast" => n.Int("to", 1) is not (1 or 10 or 11 or 16), // FLOAT, FLOAT16, DOUBLE, BFLOAT16
        "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor" or "ArgMax" or "ArgMin" => true,
        "Where" => ins.Length > 1 && ins[1] is { ElementType: GraphElementType.Int64 },
        _ => ins.FirstOrDefault(t => t is not null) is { ElementType: GraphElementType.Int64 },
    };

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
                return new GraphTensor("", [all.Length], all, ins[0]!.ElementType == GraphElementType.Int64 ? ins[0]!.IntegerType : IntegerType.Int64);
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
                return new GraphTensor("", dims, x.AsInt64s(), x.ElementType == GraphElementType.Int64 ? x.IntegerType : IntegerType.Int64);
            }
        }
        throw UnsupportedOperatorException.For(n, "int64 tensors are supported only in constant shape computations.");
    }
}
