using Lacuna.Graph;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

/// <summary>
/// <see cref="GraphPasses.FuseLayerNorm"/> and <see cref="GraphPasses.FuseGelu"/>: each exported form becomes one node
/// and the session computes what the unfused graph does; a pattern whose intermediate is used elsewhere stays.
/// </summary>
public class TransformerFusionTests
{
    private const int H = 24;

    private static ModelGraph Graph(Action<ModelGraph, Func<string, string[], GraphAttribute[], string>> body)
    {
        var g = new ModelGraph { Opset = 13 };
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, 5, H]));
        int count = 0;
        body(g, (op, inputs, attrs) =>
        {
            string name = $"{op}_{count++}";
            g.Nodes.Add(new GraphNode(name, op, inputs, [name], attrs, 13));
            return name;
        });
        return g;
    }

    private static string Scalar(ModelGraph g, string name, float v) { g.AddInitializer(new GraphTensor(name, [], [v])); return name; }

    private static string DecomposedLayerNorm(ModelGraph g, Func<string, string[], GraphAttribute[], string> n, string x, bool bias)
    {
        var axes = new[] { GraphAttribute.Of("axes", new long[] { -1 }) };
        string mean = n("ReduceMean", [x], axes);
        string d = n("Sub", [x, mean], []);
        string var = n("ReduceMean", [n("Pow", [d, Scalar(g, "two", 2)], [])], axes);
        string div = n("Div", [d, n("Sqrt", [n("Add", [var, Scalar(g, "eps", 1e-5f)], [])], [])], []);
        g.AddInitializer(new GraphTensor("gamma", [H], TestData.Random(H, 3, 0.5f, 1.5f)));
        g.AddInitializer(new GraphTensor("beta", [H], TestData.Random(H, 4)));
        string y = n("Mul", ["gamma", div], []);
        return bias ? n("Add", [y, "beta"], []) : y;
    }

    /// <summary>Runs the graph with all passes and with none; returns the fused session's graph after checking both agree.</summary>
    private static ModelGraph AssertSameFunction(ModelGraph g, string output)
    {
        g.Outputs.Add(new GraphValue(output, null));
        using var x = Tensor.Random(9, [3, 5, H], -3f, 3f);
        var feeds = new Dictionary<string, Tensor> { ["x"] = x };
        var fused = InferenceSession.Create(g);
        var plain = InferenceSession.Create(g, PassOptions.None);
        KernelAssert.Close(plain.Run(feeds)[output].ToArray(), fused.Run(feeds)[output].ToArray(), H, "fused vs unfused");
        return fused.Graph;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decomposed_layer_norm_becomes_one_node(bool bias)
    {
        string y = "";
        var fused = AssertSameFunction(Graph((g, n) => y = DecomposedLayerNorm(g, n, "x", bias)), "y0");
        var ln = Assert.Single(fused.Nodes);
        Assert.Equal("LayerNormalization", ln.OpType);
        Assert.Equal(17, ln.Opset);
        Assert.Equal(1e-5f, ln.Float("epsilon", 0));
        Assert.Equal(bias ? 3 : 2, ln.Inputs.Count);

        static ModelGraph Graph(Action<ModelGraph, Func<string, string[], GraphAttribute[], string>> body)
        {
            var g = TransformerFusionTests.Graph(body);
            g.Nodes[^1].Outputs[0] = "y0";
            return g;
        }
    }

    [Fact]
    public void Layer_norm_whose_mean_is_also_an_output_is_left_as_it_is()
    {
        var g = Graph((g, n) => DecomposedLayerNorm(g, n, "x", true));
        g.Outputs.Add(new GraphValue(g.Nodes[0].Outputs[0], null));
        Assert.Equal(0, GraphPasses.FuseLayerNorm(g));
    }

    public static TheoryData<string> GeluForms => ["erf:(x*u)*0.5", "erf:(x*0.5)*u", "erf:(u*0.5)*x", "erf-mul:(x*u)*0.5", "tanh-pow:(x*0.5)*u", "tanh-cube:(x*u)*0.5"];

    [Theory]
    [MemberData(nameof(GeluForms))]
    public void Every_exported_gelu_form_becomes_one_gelu_node(string form)
    {
        var g = Graph((g, n) =>
        {
            string x = "x", f;
            if (form.StartsWith("erf"))
            {
                string scaled = form.StartsWith("erf-mul") ? n("Mul", [Scalar(g, "rsqrt2", MathF.Sqrt(0.5f)), x], []) : n("Div", [x, Scalar(g, "sqrt2", MathF.Sqrt(2))], []);
                f = n("Erf", [scaled], []);
            }
            else
            {
                string cube = form.StartsWith("tanh-pow") ? n("Pow", [x, Scalar(g, "three", 3)], []) : n("Mul", [x, n("Mul", [x, x], [])], []);
                string inner = n("Add", [x, n("Mul", [cube, Scalar(g, "c", 0.044715f)], [])], []);
                f = n("Tanh", [n("Mul", [inner, Scalar(g, "k", MathF.Sqrt(2 / MathF.PI))], [])], []);
            }
            string u = n("Add", [Scalar(g, "one", 1), f], []);
            string half = Scalar(g, "half", 0.5f);
            string tail = form[(form.IndexOf(':') + 1)..];
            if (tail == "(x*u)*0.5") n("Mul", [n("Mul", [x, u], []), half], []);
            else if (tail == "(x*0.5)*u") n("Mul", [n("Mul", [x, half], []), u], []);
            else n("Mul", [x, n("Mul", [u, half], [])], []);
        });
        string output = g.Nodes[^1].Outputs[0];
        var fused = AssertSameFunction(g, output);
        var gelu = Assert.Single(fused.Nodes);
        Assert.Equal("Gelu", gelu.OpType);
        Assert.Equal(form.StartsWith("erf") ? "none" : "tanh", gelu.String("approximate", ""));
        Assert.Equal(output, gelu.Outputs[0]);
    }

    [Fact]
    public void Gelu_with_a_wrong_constant_is_not_fused()
    {
        var g = Graph((g, n) =>
        {
            string u = n("Add", [n("Erf", [n("Div", ["x", Scalar(g, "notsqrt2", 1.5f)], [])], []), Scalar(g, "one", 1)], []);
            n("Mul", [n("Mul", ["x", u], []), Scalar(g, "half", 0.5f)], []);
        });
        Assert.Equal(0, GraphPasses.FuseGelu(g));
    }
}
