using Lacuna.Kernels;

namespace Lacuna.Graph;

public static partial class GraphPasses
{
    /// <summary>Input position of a fused residual on a Conv node (after X, W and the optional B).</summary>
    public const int ConvResidualInput = 3;

    /// <summary>Whether a Conv node carries a residual fused by <see cref="FuseResidualAdds"/>.</summary>
    public static bool HasResidual(GraphNode n) =>
        n.OpType == "Conv" && n.Inputs.Count > ConvResidualInput && n.Inputs[ConvResidualInput].Length > 0;

    /// <summary>
    /// A ResNet block's residual Add (with the Relu/Clip <see cref="FuseActivations"/> gave it) of a same-shape value to
    /// the output of a Conv with constant weights that feeds only it becomes that Conv's epilogue: the Conv takes the
    /// other operand as a fourth input and computes y = act(conv(x) + B + residual) under the Add's output name, so
    /// the sum runs over the conv's output right after it is written instead of as a node of its own (whose thread
    /// hand-off cost more than the add at 2 threads). The Conv's own activation must be None: a Relu between the conv
    /// and the Add stays. Shapes must agree at two batch sizes (a batch-1 operand would broadcast at batch 3).
    /// Float addition is commutative, so the operand order does not change the result.
    /// </summary>
    public static int FuseResidualAdds(ModelGraph g)
    {
        int fused = 0;
        var consumers = g.Consumers();
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var producerOf = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0) producerOf[o] = n;
        Dictionary<string, int[]>? at1 = null, at2 = null;
        foreach (var add in g.Nodes.ToList())
        {
            if (add.OpType != "Add" || add.Inputs.Count != 2 || add.Inputs[0] == add.Inputs[1]) continue;
            for (int side = 0; side < 2; side++)
            {
                string value = add.Inputs[side], other = add.Inputs[1 - side];
                if (!producerOf.TryGetValue(value, out var conv) || !IsPlainConv(g, conv)) continue;
                if (consumers[value].Count != 1 || outputs.Contains(value) || other.Length == 0) continue;
                at1 ??= ShapesAt(g, 1);
                at2 ??= ShapesAt(g, 2);
                if (at1 is null || at2 is null || !SameShape(at1, value, other) || !SameShape(at2, value, other)) continue;
                while (conv.Inputs.Count < ConvResidualInput) conv.Inputs.Add("");
                conv.Inputs.Add(other);
                conv.Outputs[0] = add.Outputs[0];
                conv.FusedActivation = add.FusedActivation;
                producerOf.Remove(value);
                producerOf[add.Outputs[0]] = conv;
                g.Nodes.Remove(add);
                fused++;
                break;
            }
        }
        return fused;
    }

    /// <summary>A Conv with constant weights (and bias), no activation and no residual yet: one whose kernel is planned.</summary>
    private static bool IsPlainConv(ModelGraph g, GraphNode c) =>
        c.OpType == "Conv" && c.Outputs.Count == 1 && c.Inputs.Count is 2 or 3 && c.FusedActivation.Kind == ActivationKind.None
        && c.FusedPost.Kind == Kernels.Elementwise.PostActivationKind.None
        && g.Initializers.ContainsKey(c.Inputs[1]) && (c.Inputs.Count == 2 || c.Inputs[2].Length == 0 || g.Initializers.ContainsKey(c.Inputs[2]));

    private static bool SameShape(Dictionary<string, int[]> shapes, string a, string b) =>
        shapes.TryGetValue(a, out var x) && shapes.TryGetValue(b, out var y) && x.AsSpan().SequenceEqual(y);

    /// <summary>Every value's shape with each symbolic input dimension set to <paramref name="batch"/>; null where the graph does not infer.</summary>
    private static Dictionary<string, int[]>? ShapesAt(ModelGraph g, int batch)
    {
        try
        {
            var shapes = ConstantFolder.InputShapes(g, batch);
            var dynamic = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
            foreach (var n in g.TopologicalOrder()) ConstantFolder.PlanStep(g, n, shapes, dynamic, null);
            return shapes;
        }
        catch (Exception e) when (e is LacunaFormatException or UnsupportedOperatorException or ArgumentException)
        {
            return null; // shapes that only resolve at one batch: leave the Adds alone
        }
    }
}
