using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Kernels.Recurrent;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Tests.Kernels.Elementwise;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Recurrent;

/// <summary>
/// The RNN, GRU and LSTM nodes' kernel (GEMM/Gemv or SpMM products + RecurrentCells) against
/// <see cref="ReferenceRecurrent"/> on random data: every direction, both layouts, ragged sequence lengths, initial
/// states, LSTM peepholes and coupled gates, GRU's linear_before_reset both ways, clip, other activations, batch 1
/// (matrix-vector path) and above, dense and pruned (SpMM) weights, outputs NaN-poisoned. The ONNX node tests
/// (test_lstm_*, test_gru_*, test_rnn_*, test_simple_rnn_*) are run by ConformanceTests.
/// </summary>
public class RecurrentTests
{
    public sealed record Case(string Name, int T, int B, int I, int H, string Direction = "forward", bool BatchFirst = false,
        bool Lens = false, bool States = false, bool Peepholes = false, float Clip = 0f, bool InputForget = false,
        string[]? Activations = null, double Sparsity = 0, bool? Sparse = false, RecurrentCell Cell = RecurrentCell.Lstm, bool LinearBeforeReset = false)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases() => new()
    {
        new("defaults_b1", 5, 1, 7, 9),
        new("defaults_b3", 4, 3, 16, 17),
        new("reverse_ragged", 6, 3, 5, 8, "reverse", Lens: true),
        new("bidirectional_states_peepholes", 5, 2, 6, 15, "bidirectional", States: true, Peepholes: true),
        new("batch_first_bidirectional_ragged", 7, 4, 3, 16, "bidirectional", BatchFirst: true, Lens: true, States: true),
        new("clip_input_forget", 4, 2, 9, 33, Clip: 0.5f, InputForget: true, Peepholes: true),
        new("other_activations", 3, 2, 4, 6, "bidirectional",
            Activations: ["HardSigmoid", "LeakyRelu", "Softsign", "Sigmoid", "ScaledTanh", "Tanh"]),
        new("pruned_sparse_b1", 6, 1, 40, 32, Sparsity: 0.9, Sparse: true),
        new("pruned_sparse_b5_bidirectional_ragged", 5, 5, 24, 17, "bidirectional", Lens: true, States: true, Sparsity: 0.8, Sparse: true),
        new("pruned_measured", 4, 2, 32, 16, Sparsity: 0.9, Sparse: null),
        new("gru_b1", 5, 1, 7, 9, Cell: RecurrentCell.Gru),
        new("gru_bidirectional_ragged_states", 6, 3, 5, 17, "bidirectional", Lens: true, States: true, Cell: RecurrentCell.Gru),
        new("gru_linear_before_reset_batch_first", 4, 2, 9, 16, "reverse", BatchFirst: true, Clip: 0.7f, Cell: RecurrentCell.Gru, LinearBeforeReset: true),
        new("gru_pruned_sparse_b3", 5, 3, 32, 24, "bidirectional", Lens: true, Sparsity: 0.9, Sparse: true, Cell: RecurrentCell.Gru),
        new("gru_pruned_sparse_lbr_b1", 5, 1, 32, 24, Sparsity: 0.9, Sparse: true, Cell: RecurrentCell.Gru, LinearBeforeReset: true),
        new("gru_other_activations", 3, 2, 4, 6, Activations: ["HardSigmoid", "Softsign"], Cell: RecurrentCell.Gru),
        new("rnn_b1", 5, 1, 7, 9, Cell: RecurrentCell.Rnn),
        new("rnn_bidirectional_ragged_states_relu", 6, 3, 5, 17, "bidirectional", Lens: true, States: true, Activations: ["Relu", "Tanh"], Cell: RecurrentCell.Rnn),
        new("rnn_pruned_sparse_b4", 4, 4, 40, 33, Sparsity: 0.9, Sparse: true, Clip: 2f, Cell: RecurrentCell.Rnn),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(Case c)
    {
        int d = c.Direction == "bidirectional" ? 2 : 1, G = RecurrentSpec.GatesOf(c.Cell), h4 = G * c.H;
        bool lstm = c.Cell == RecurrentCell.Lstm;
        ulong seed = (ulong)(c.T * 1000 + c.B * 100 + c.I * 10 + c.H);
        float[] x = TestData.Random(c.T * c.B * c.I, seed);
        float[] w = TestData.Random(d * h4 * c.I, seed + 1, -0.5f, 0.5f);
        float[] r = TestData.Random(d * h4 * c.H, seed + 2, -0.5f, 0.5f);
        if (c.Sparsity > 0) { Pruner.Magnitude(w, c.Sparsity); Pruner.Magnitude(r, c.Sparsity); }
        float[] bias = TestData.Random(d * 2 * h4, seed + 3);
        int[] lens = Enumerable.Range(0, c.B).Select(b => c.Lens ? Math.Max(0, c.T - (b * 2) % (c.T + 1)) : c.T).ToArray();
        float[] h0 = c.States ? TestData.Random(d * c.B * c.H, seed + 4) : [];
        float[] c0 = c.States && lstm ? TestData.Random(d * c.B * c.H, seed + 5) : [];
        float[] p = c.Peepholes ? TestData.Random(d * 3 * c.H, seed + 6) : [];

        var attrs = new List<GraphAttribute> { GraphAttribute.Of("hidden_size", (long)c.H), GraphAttribute.Of("direction", c.Direction) };
        if (c.BatchFirst) attrs.Add(GraphAttribute.Of("layout", 1L));
        if (c.Clip > 0) attrs.Add(GraphAttribute.Of("clip", c.Clip));
        if (c.InputForget) attrs.Add(GraphAttribute.Of("input_forget", 1L));
        if (c.LinearBeforeReset) attrs.Add(GraphAttribute.Of("linear_before_reset", 1L));
        if (c.Activations is { } a) attrs.Add(GraphAttribute.Of("activations", a));
        string op = c.Cell switch { RecurrentCell.Rnn => "RNN", RecurrentCell.Gru => "GRU", _ => "LSTM" };
        List<string> ins = ["X", "W", "R", "B", c.Lens ? "L" : "", c.States ? "H0" : ""];
        if (lstm) ins.AddRange([c.States ? "C0" : "", c.Peepholes ? "P" : ""]);
        var node = new GraphNode("rnn", op, ins, lstm ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"], attrs, opset: 14);
        int[] xShape = c.BatchFirst ? [c.B, c.T, c.I] : [c.T, c.B, c.I];
        int[] state = c.BatchFirst ? [c.B, d, c.H] : [d, c.B, c.H];
        var inputs = new (string Name, float[] Values, int[] Shape)[]
        {
            ("X", x, xShape), ("W", w, [d, h4, c.I]), ("R", r, [d, h4, c.H]), ("B", bias, [d, 2 * h4]),
            ("L", lens.Select(v => (float)v).ToArray(), [c.B]), ("H0", h0, state), ("C0", c0, state), ("P", p, [d, 3 * c.H]),
        };
        var defaults = RecurrentSpec.DefaultActivations(c.Cell);
        var spec = new RecurrentSpec(c.Cell, c.T, c.B, c.I, c.H, c.Direction switch { "reverse" => RnnDirection.Reverse, "bidirectional" => RnnDirection.Bidirectional, _ => RnnDirection.Forward },
            c.BatchFirst, c.Clip, RnnActivation.Parse(c.Activations, null, null, defaults, defaults.Length * d, "test"), c.InputForget, c.LinearBeforeReset);
        var y = new float[c.T * d * c.B * c.H];
        var yh = new float[d * c.B * c.H];
        var yc = lstm ? new float[d * c.B * c.H] : [];
        ReferenceRecurrent.Compute(spec, x, w, r, bias, c.Lens ? lens : [], h0, c0, p, y, yh, yc);

        var actual = Run(node, inputs, c.Sparse, c.Cell);
        ElementwiseCheck.Close(y, actual[0], $"{c.Name} Y", rtol: 2e-5f, atol: 2e-6f);
        ElementwiseCheck.Close(yh, actual[1], $"{c.Name} Y_h", rtol: 2e-5f, atol: 2e-6f);
        if (lstm) ElementwiseCheck.Close(yc, actual[2], $"{c.Name} Y_c", rtol: 2e-5f, atol: 2e-6f);
        Assert.Contains(yh, v => v != 0f);
    }

    [Fact]
    public void PrunedWeightsForcedSparse_NameSpmmKernel()
    {
        var node = new GraphNode("lstm", "LSTM", ["X", "W", "R"], ["Y"], [GraphAttribute.Of("hidden_size", 16L)], opset: 14);
        float[] w = TestData.Random(64 * 32, 1), r = TestData.Random(64 * 16, 2);
        Pruner.Magnitude(w, 0.9); Pruner.Magnitude(r, 0.9);
        var k = Compile(node, [("X", TestData.Random(3 * 32, 3), [3, 1, 32]), ("W", w, [1, 64, 32]), ("R", r, [1, 64, 16])], sparse: true);
        Assert.Contains("W[0] Spmm", k.KernelName);
        Assert.Contains("R[0] Spmm", k.KernelName);
    }

    [Fact]
    public void SequenceLengthBeyondSteps_IsAClearError()
    {
        var node = new GraphNode("lstm", "LSTM", ["X", "W", "R", "", "L"], ["Y"], [GraphAttribute.Of("hidden_size", 4L)], opset: 14);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Run(node,
            [("X", TestData.Random(3 * 2 * 5, 1), [3, 2, 5]), ("W", TestData.Random(16 * 5, 2), [1, 16, 5]), ("R", TestData.Random(16 * 4, 3), [1, 16, 4]),
             ("B", [], [0]), ("L", [3f, 4f], [2])], false, RecurrentCell.Lstm));
        Assert.Contains("sequence_lens[1] = 4", e.Message);
    }

    [Fact]
    public void MisShapedWeights_AreAClearError()
    {
        var node = new GraphNode("lstm", "LSTM", ["X", "W", "R"], ["Y"], [GraphAttribute.Of("hidden_size", 4L)], opset: 14);
        var e = Assert.Throws<ShapeMismatchException>(() => Compile(node,
            [("X", TestData.Random(3 * 2 * 5, 1), [3, 2, 5]), ("W", TestData.Random(16 * 6, 2), [1, 16, 6]), ("R", TestData.Random(16 * 4, 3), [1, 16, 4])], false));
        Assert.Contains("[1, 16, 5] expected", e.Message);
    }

    /// <summary>
    /// A whole graph with an LSTM whose `activations` (a strings attribute) are not the defaults: exported to ONNX,
    /// re-imported with the attribute intact, and run by a session (constant pruned weights, planner choosing) equal to
    /// the reference.
    /// </summary>
    [Fact]
    public void GraphWithStringsAttribute_RoundTripsThroughOnnx_AndRunsAsTheReference()
    {
        const int T = 4, B = 2, I = 12, H = 8;
        string[] acts = ["Sigmoid", "Softsign", "Tanh", "HardSigmoid", "Tanh", "Tanh"];
        float[] w = TestData.Random(2 * 4 * H * I, 11, -0.5f, 0.5f), r = TestData.Random(2 * 4 * H * H, 12, -0.5f, 0.5f);
        Pruner.Magnitude(w, 0.7);
        var g = new ModelGraph { Opset = 14 };
        g.Inputs.Add(new GraphValue("X", [T, B, I]));
        g.Outputs.Add(new GraphValue("Y_h", null));
        g.AddInitializer(new GraphTensor("W", [2, 4 * H, I], w));
        g.AddInitializer(new GraphTensor("R", [2, 4 * H, H], r));
        g.Nodes.Add(new GraphNode("lstm", "LSTM", ["X", "W", "R"], ["", "Y_h"],
            [GraphAttribute.Of("hidden_size", (long)H), GraphAttribute.Of("direction", "bidirectional"), GraphAttribute.Of("activations", acts)], opset: 14));
        var reread = OnnxGraphImporter.ToGraph(OnnxModel.Parse(OnnxGraphExporter.ToModel(g).ToBytes()));
        Assert.Equal(acts, reread.Nodes.Single().Strings("activations"));

        float[] x = TestData.Random(T * B * I, 13);
        var session = InferenceSession.Create(reread);
        var actual = session.Run(new Dictionary<string, Tensor> { ["X"] = Tensor.FromArray(x, [T, B, I]) })["Y_h"];
        var spec = new RecurrentSpec(RecurrentCell.Lstm, T, B, I, H, RnnDirection.Bidirectional, false, 0f,
            RnnActivation.Parse(acts, null, null, [RnnActivation.Sigmoid], 6, "test"));
        var yh = new float[2 * B * H];
        ReferenceRecurrent.Compute(spec, x, w, r, [], [], [], [], [], [], yh, []);
        ElementwiseCheck.Close(yh, actual.Span, "Y_h", rtol: 2e-5f, atol: 2e-6f);
    }

    private static NodeKernel Compile(GraphNode node, (string Name, float[] Values, int[] Shape)[] inputs, bool? sparse, RecurrentCell cell = RecurrentCell.Lstm)
    {
        var byName = inputs.ToDictionary(i => i.Name);
        int[][] shapes = node.Inputs.Select(n => n.Length == 0 ? [] : byName[n].Shape).ToArray();
        GraphTensor? Constant(int i) => i < node.Inputs.Count && node.Inputs[i] is { Length: > 0 } n && n != "X" && n != "L"
            ? new GraphTensor(n, byName[n].Shape, byName[n].Values) : null;
        var ctx = new OpContext(node, shapes, Constant, new OpCompiler.PlanCache(allowSparse: sparse != false));
        return RecurrentKernel.Create(ctx, RecurrentKernel.OutputShapes(ctx, cell), cell, sparse);
    }

    /// <summary>Compiles the node (W, R, B, states, P constant; X and L run-time) and runs it with NaN-poisoned outputs.</summary>
    private static float[][] Run(GraphNode node, (string Name, float[] Values, int[] Shape)[] inputs, bool? sparse, RecurrentCell cell)
    {
        var k = Compile(node, inputs, sparse, cell);
        var byName = inputs.ToDictionary(i => i.Name);
        return ElementwiseCheck.RunKernel(k, node.Inputs.Select(n => n.Length == 0 ? null : byName[n].Values).ToArray());
    }
}
