namespace Lacuna.Graph;

/// <summary>
/// The fusions of exported transformers: the decomposed LayerNorm and the erf and tanh forms of Gelu become one node
/// each (LayerNormalization at opset 17, Gelu at opset 20), compiled to one kernel. A pattern fuses only when every
/// intermediate value feeds the next step alone and is not a graph output, and its constants have the values the
/// form needs (within 1e-4 relative), so the fused node computes the same function up to float rounding.
/// </summary>
public static partial class GraphPasses
{
    private const double ConstantTolerance = 1e-4;

    /// <summary>
    /// ReduceMean(x, -1) → Sub(x, ·) → Pow(·, 2) → ReduceMean(-1) → Add(ε) → Sqrt → Div(x − mean, ·) → Mul(scale) → Add(bias)
    /// (PyTorch's export of LayerNorm before opset 17; the Add of a bias is optional) becomes
    /// LayerNormalization(x, scale, bias, axis −1, epsilon ε). Returns the number fused.
    /// </summary>
    public static int FuseLayerNorm(ModelGraph g)
    {
        int fused = 0;
        foreach (var rm in g.Nodes.Where(n => n.OpType == "ReduceMean").ToList())
        {
            if (!g.Nodes.Contains(rm)) continue;
            var m = new Matcher(g);
            if (!m.LastAxisMean(rm)) continue;
            string x = rm.Inputs[0];
            if (m.Only(rm.Outputs[0]) is not { OpType: "Sub" } sub || sub.Inputs[0] != x || sub.Inputs[1] != rm.Outputs[0]) continue;
            string d = sub.Outputs[0];
            var users = m.Users(d);
            if (users.Count != 2) continue;
            var sq = users.Find(u => u.OpType == "Pow" && u.Inputs[0] == d && m.Scalar(u.Inputs[1]) is { } e && Near(e, 2)
                || u.OpType == "Mul" && u.Inputs[0] == d && u.Inputs[1] == d);
            var div = users.Find(u => u.OpType == "Div" && u.Inputs[0] == d);
            if (sq is null || div is null) continue;
            if (m.Only(sq.Outputs[0]) is not { OpType: "ReduceMean" } rm2 || !m.LastAxisMean(rm2)) continue;
            if (m.Only(rm2.Outputs[0]) is not { OpType: "Add" } addEps || m.OtherScalar(addEps, rm2.Outputs[0]) is not { } eps) continue;
            if (m.Only(addEps.Outputs[0]) is not { OpType: "Sqrt" } sqrt || m.Only(sqrt.Outputs[0]) != div || div.Inputs[1] != sqrt.Outputs[0]) continue;
            if (m.Only(div.Outputs[0]) is not { OpType: "Mul" } mul || m.OtherVector(mul, div.Outputs[0]) is not { } scale) continue;
            var nodes = new List<GraphNode> { rm, sub, sq, rm2, addEps, sqrt, div, mul };
            string output = mul.Outputs[0];
            var inputs = new List<string> { x, scale };
            if (m.Only(output) is { OpType: "Add" } addBias && m.OtherVector(addBias, output) is { } bias
                && g.Initializers[bias].Length == g.Initializers[scale].Length)
            {
                nodes.Add(addBias);
                output = addBias.Outputs[0];
                inputs.Add(bias);
            }
            if (nodes.Take(nodes.Count - 1).Any(n => m.IsGraphOutput(n.Outputs[0]))) continue;
            Replace(g, nodes, new GraphNode(rm.Name + "/LayerNorm", "LayerNormalization", inputs, [output],
                [GraphAttribute.Of("axis", -1L), GraphAttribute.Of("epsilon", eps)], opset: 17));
            fused++;
        }
        return fused;
    }

    /// <summary>
    /// x·0.5·(1 + erf(x/√2)) (Div by √2 or Mul by 1/√2; the 0.5 applied to x, to the sum or to the product) and
    /// x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (x³ as Pow(x, 3) or x·x·x) become Gelu(x) with approximate
    /// "none" or "tanh". Returns the number fused.
    /// </summary>
    public static int FuseGelu(ModelGraph g)
    {
        int fused = 0;
        foreach (var f in g.Nodes.Where(n => n.OpType is "Erf" or "Tanh").ToList())
        {
            if (!g.Nodes.Contains(f)) continue;
            var m = new Matcher(g);
            var head = f.OpType == "Erf" ? m.ErfHead(f) : m.TanhHead(f);
            if (head is not { } h) continue;
            if (m.Only(f.Outputs[0]) is not { OpType: "Add" } plus || m.OtherScalar(plus, f.Outputs[0]) is not { } one || !Near(one, 1)) continue;
            if (m.Tail(h.X, plus.Outputs[0]) is not { } tail) continue;
            var nodes = h.Nodes.Append(f).Append(plus).Concat(tail.Nodes).ToList();
            if (nodes.Any(n => n.Outputs[0] != tail.Output && m.IsGraphOutput(n.Outputs[0]))) continue;
            Replace(g, nodes, new GraphNode(f.Name + "/Gelu", "Gelu", [h.X], [tail.Output],
                [GraphAttribute.Of("approximate", f.OpType == "Erf" ? "none" : "tanh")], opset: 20));
            fused++;
        }
        return fused;
    }

    /// <summary>
    /// A Gelu reading only a token-linear MatMul (one with its bias fused, <see cref="FuseMatMulBias"/>, and no other
    /// epilogue) becomes that MatMul's epilogue (<see cref="GraphNode.FusedGelu"/>): the token-linear plan applies it to
    /// each block of outputs while the block is in cache, instead of a separate pass over [tokens × FFN] (BERT-base:
    /// 12 such passes over 128 × 3072 floats). The exporter writes the Gelu node back. Returns the number fused.
    /// </summary>
    public static int FuseGeluIntoMatMul(ModelGraph g)
    {
        int fused = 0;
        var m = new Matcher(g);
        foreach (var gelu in g.Nodes.Where(n => n.OpType == "Gelu").ToList())
        {
            if (m.Producer(gelu.Inputs[0]) is not { OpType: "MatMul", Inputs.Count: 3 } mm || m.Only(gelu.Inputs[0]) != gelu) continue;
            if (mm.FusedActivation.Kind != Kernels.ActivationKind.None || mm.FusedGelu is not null) continue;
            mm.FusedGelu = gelu.String("approximate", "none") switch
            {
                "none" => Kernels.Elementwise.GeluApproximation.None,
                "tanh" => Kernels.Elementwise.GeluApproximation.Tanh,
                _ => null,
            };
            if (mm.FusedGelu is null) continue; // an unknown form stays a node, whose kernel names the error
            mm.Outputs[0] = gelu.Outputs[0];
            g.Nodes.Remove(gelu);
            fused++;
        }
        return fused;
    }

    /// <summary>
    /// MatMul(x, B) with B a constant [K, N], feeding only an Add of a constant bias [N] (or [1, .., 1, N]; either
    /// operand order), becomes one MatMul node with the bias as a third input, compiled to one token-linear kernel
    /// (bias in the product's epilogue, see <c>TokenLinearKernel</c>). The exporter writes it back as MatMul + Add.
    /// Returns the number fused.
    /// </summary>
    public static int FuseMatMulBias(ModelGraph g)
    {
        int fused = 0;
        var m = new Matcher(g);
        foreach (var mm in g.Nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Count == 2).ToList())
        {
            if (!g.Initializers.TryGetValue(mm.Inputs[1], out var w) || w.ElementType != GraphElementType.Float || w.Dims.Length != 2) continue;
            if (g.Initializers.ContainsKey(mm.Inputs[0]) || mm.FusedActivation.Kind != Kernels.ActivationKind.None) continue;
            string y = mm.Outputs[0];
            if (m.Only(y) is not { OpType: "Add" } add || m.OtherVector(add, y) is not { } bias) continue;
            if (g.Initializers[bias].Dims[^1] != w.Dims[1] || g.Initializers[bias].Dims.Length > 1) continue; // [N] only: a [1, N] bias could add a dimension
            mm.Inputs.Add(bias);
            mm.Outputs[0] = add.Outputs[0];
            g.Nodes.Remove(add);
            fused++;
        }
        return fused;
    }

    private static bool Near(double a, double b) => Math.Abs(a - b) <= ConstantTolerance * Math.Abs(b);

    /// <summary>Puts <paramref name="fused"/> where the first of <paramref name="nodes"/> was and removes them all.</summary>
    private static void Replace(ModelGraph g, List<GraphNode> nodes, GraphNode fused)
    {
        int at = nodes.Select(n => g.Nodes.IndexOf(n)).Where(i => i >= 0).Min();
        g.Nodes.Insert(at, fused);
        foreach (var n in nodes) g.Nodes.Remove(n);
    }

    /// <summary>Pattern helpers over one graph state (consumer lists are taken when the matcher is made).</summary>
    private sealed class Matcher(ModelGraph g)
    {
        private readonly Dictionary<string, List<GraphNode>> _consumers = g.Consumers();
        private readonly HashSet<string> _outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        private readonly Dictionary<string, GraphNode> _producer = g.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n)))
            .Where(p => p.o.Length > 0).GroupBy(p => p.o).ToDictionary(p => p.Key, p => p.First().n);

        public List<GraphNode> Users(string value) => _consumers.GetValueOrDefault(value) ?? [];
        public bool IsGraphOutput(string value) => _outputs.Contains(value);

        /// <summary>The single node reading <paramref name="value"/> (once), when that is its only use and it is not a graph output.</summary>
        public GraphNode? Only(string value)
        {
            var u = Users(value);
            return u.Count == 1 && u[0].Inputs.Count(i => i == value) == 1 && !_outputs.Contains(value) ? u[0] : null;
        }

        public GraphNode? Producer(string value) => _producer.GetValueOrDefault(value);

        public float? Scalar(string name) => g.Initializers.TryGetValue(name, out var t) && t.Length == 1 ? t.AsFloats()[0] : null;

        /// <summary>The scalar constant operand of a binary node whose other operand is <paramref name="value"/>.</summary>
        public float? OtherScalar(GraphNode n, string value) =>
            n.Inputs.Count != 2 ? null : n.Inputs[0] == value ? Scalar(n.Inputs[1]) : n.Inputs[1] == value ? Scalar(n.Inputs[0]) : null;

        /// <summary>The constant vector operand (shape [H] or [1, .., 1, H], H > 1) of a binary node whose other operand is <paramref name="value"/>.</summary>
        public string? OtherVector(GraphNode n, string value)
        {
            if (n.Inputs.Count != 2) return null;
            string other = n.Inputs[0] == value ? n.Inputs[1] : n.Inputs[1] == value ? n.Inputs[0] : "";
            return g.Initializers.TryGetValue(other, out var t) && t.ElementType == GraphElementType.Float && t.Dims.Length >= 1
                && t.Dims[^1] > 1 && t.Dims[..^1].All(d => d == 1) ? other : null;
        }

        /// <summary>ReduceMean over the last axis (axes [-1] as attribute or constant input) keeping dims.</summary>
        public bool LastAxisMean(GraphNode rm)
        {
            if (rm.Int("keepdims", 1) == 0) return false;
            long[]? axes = rm.Opset < 18 ? rm.Ints("axes") : rm.Inputs.Count > 1 && g.Initializers.TryGetValue(rm.Inputs[1], out var t) ? t.AsInt64s() : null;
            return axes is [-1];
        }

        /// <summary>x/√2 or x·(1/√2) feeding <paramref name="erf"/> alone.</summary>
        public (string X, List<GraphNode> Nodes)? ErfHead(GraphNode erf)
        {
            if (Producer(erf.Inputs[0]) is not { } p || Only(p.Outputs[0]) != erf) return null;
            if (p.OpType == "Div" && Scalar(p.Inputs[1]) is { } s && Near(s, Math.Sqrt(2))) return (p.Inputs[0], [p]);
            if (p.OpType == "Mul" && OtherConstant(p) is var (x, c) && Near(c, Math.Sqrt(0.5))) return (x, [p]);
            return null;
        }

        /// <summary>√(2/π)·(x + 0.044715·x³) feeding <paramref name="tanh"/> alone.</summary>
        public (string X, List<GraphNode> Nodes)? TanhHead(GraphNode tanh)
        {
            if (Producer(tanh.Inputs[0]) is not { OpType: "Mul" } scaled || Only(scaled.Outputs[0]) != tanh) return null;
            if (OtherConstant(scaled) is not var (inner, k) || !Near(k, Math.Sqrt(2 / Math.PI))) return null;
            if (Producer(inner) is not { OpType: "Add", Inputs.Count: 2 } sum || Only(sum.Outputs[0]) != scaled) return null;
            foreach (var (x, t) in new[] { (sum.Inputs[0], sum.Inputs[1]), (sum.Inputs[1], sum.Inputs[0]) })
            {
                if (Producer(t) is not { OpType: "Mul" } cubicTerm || Only(t) != sum) continue;
                if (OtherConstant(cubicTerm) is not var (cube, c) || !Near(c, 0.044715)) continue;
                if (Producer(cube) is not { } pc || Only(cube) != cubicTerm) continue;
                var nodes = new List<GraphNode> { scaled, sum, cubicTerm, pc };
                if (pc.OpType == "Pow" && pc.Inputs[0] == x && Scalar(pc.Inputs[1]) is { } e && Near(e, 3)) return (x, nodes);
                // x·(x·x) or (x·x)·x
                if (pc.OpType == "Mul" && pc.Inputs.Contains(x))
                {
                    string other = pc.Inputs[0] == x ? pc.Inputs[1] : pc.Inputs[0];
                    if (Producer(other) is { OpType: "Mul" } sq && sq.Inputs.All(i => i == x) && Only(other) == pc)
                        return (x, [.. nodes, sq]);
                }
            }
            return null;
        }

        /// <summary>The non-constant operand and the scalar constant of a binary node, either order.</summary>
        private (string Value, float Constant)? OtherConstant(GraphNode n)
        {
            if (n.Inputs.Count != 2) return null;
            if (Scalar(n.Inputs[1]) is { } b && !g.Initializers.ContainsKey(n.Inputs[0])) return (n.Inputs[0], b);
            if (Scalar(n.Inputs[0]) is { } a && !g.Initializers.ContainsKey(n.Inputs[1])) return (n.Inputs[1], a);
            return null;
        }

        /// <summary>x·u·0.5 for u = 1 + f(x), in the three orders exporters write it; the nodes and the final value.</summary>
        public (List<GraphNode> Nodes, string Output)? Tail(string x, string u)
        {
            if (Only(u) is not { OpType: "Mul", Inputs.Count: 2 } m1) return null;
            string other = m1.Inputs[0] == u ? m1.Inputs[1] : m1.Inputs[0];
            // (x·u)·0.5
            if (other == x && Only(m1.Outputs[0]) is { OpType: "Mul" } m2 && OtherScalar(m2, m1.Outputs[0]) is { } h && Near(h, 0.5))
                return ([m1, m2], m2.Outputs[0]);
            // (x·0.5)·u
            if (Producer(other) is { OpType: "Mul" } half && Only(other) == m1 && OtherConstant(half) is var (hx, hc) && hx == x && Near(hc, 0.5))
                return ([half, m1], m1.Outputs[0]);
            // (u·0.5)·x
            if (Scalar(other) is { } uh && Near(uh, 0.5) && Only(m1.Outputs[0]) is { OpType: "Mul", Inputs.Count: 2 } m3 && m3.Inputs.Contains(x)
                && m3.Inputs.Contains(m1.Outputs[0]))
                return ([m1, m3], m3.Outputs[0]);
            return null;
        }
    }
}
