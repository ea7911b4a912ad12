using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tensors;

namespace Lacuna.Tests.Pruning;

public class ModelPruningTests
{
    private static readonly string[] Pruned = ["conv2", "conv3", "fc1"];

    [Fact]
    public void Finds_conv_and_gemm_layers_as_the_matrices_the_planner_multiplies()
    {
        var g = TinyNets.ConvBnNet();
        var layers = PrunableLayer.Find(g);
        Assert.Equal(["conv1", "conv2", "conv3", "fc1", "fc2"], layers.Select(l => l.Name));
        Assert.Equal((16, 72), (layers[1].Rows, layers[1].Cols));
        Assert.Equal((10, 32, true), (layers[4].Rows, layers[4].Cols, layers[4].Transposed));
        Assert.Equal(Pruned, PrunableLayer.Select(layers, includeFirstLast: false).Select(l => l.Name));
        // fc2 is stored [in × out]: W[r, k] = stored[k, r], and a write puts it back the same way.
        var w = layers[4].ReadMatrix(g);
        var stored = g.Initializers["wf2"].AsFloats();
        Assert.Equal(stored[3 * 10 + 7], w[7 * 32 + 3]);
        layers[4].WriteMatrix(g, w);
        Assert.Equal(stored, g.Initializers["wf2"].AsFloats());
    }

    [Theory]
    [InlineData("magnitude", 0.7)]
    [InlineData("block:4x1", 0.5)]
    [InlineData("nm:2:4", 0)]
    [InlineData("gs:8", 0.75)]
    [InlineData("tasd:2:4+1:8", 0)]
    [InlineData("tasd:1:4", 0)]
    public void Each_method_meets_its_pattern_on_the_middle_layers_and_keeps_first_and_last(string method, double sparsity)
    {
        var dense = TinyNets.ConvBnNet();
        var outcome = ModelPruning.Prune(dense, method, sparsity);
        var pattern = ModelPruning.PatternOf(method)!;
        var before = PrunableLayer.Find(dense).ToDictionary(l => l.Name);
        foreach (var l in PrunableLayer.Find(outcome.Graph))
        {
            var w = l.ReadMatrix(outcome.Graph);
            var row = outcome.Layers.Single(x => x.Name == l.Name);
            if (Pruned.Contains(l.Name))
            {
                Assert.Null(pattern.Violation(w, l.Rows, l.Cols));
                Assert.Equal(pattern.Name, row.Pattern);
                double zeros = w.Count(v => v == 0f) / (double)w.Length;
                Assert.Equal(pattern.SparsityIsFree ? sparsity : pattern.ResultingSparsity(0), zeros, 0.02);
                Assert.Equal(zeros, row.Sparsity, 6);
                Assert.InRange(row.KeptNorm, 0.3, 1.0);
            }
            else
            {
                Assert.Equal(before[l.Name].ReadMatrix(dense), w);
                Assert.Equal("dense", row.Pattern);
                Assert.NotNull(row.Note);
            }
        }
        var meta = PruningMetadata.Read(outcome.Graph.Metadata)!;
        Assert.Equal(Pruned, meta.Keys.Order());
    }

    [Fact]
    public void Global_reaches_the_sparsity_over_the_pruned_layers_with_one_threshold()
    {
        var dense = TinyNets.ConvBnNet();
        var outcome = ModelPruning.Prune(dense, "global", 0.8);
        var layers = PrunableLayer.Find(outcome.Graph).Where(l => Pruned.Contains(l.Name)).ToList();
        long zeros = 0, total = 0;
        foreach (var l in layers)
        {
            var w = l.ReadMatrix(outcome.Graph);
            zeros += w.Count(v => v == 0f);
            total += w.Length;
        }
        Assert.Equal(0.8, (double)zeros / total, 3);
        // One threshold: per-layer sparsities differ (the layers' weight scales differ), and the first and last are untouched.
        var rows = outcome.Layers.Where(l => Pruned.Contains(l.Name)).Select(l => l.Sparsity).ToList();
        Assert.True(rows.Max() - rows.Min() > 0.05, string.Join(", ", rows));
        Assert.Equal(PrunableLayer.Find(dense)[0].ReadMatrix(dense), PrunableLayer.Find(outcome.Graph)[0].ReadMatrix(outcome.Graph));
        Assert.Equal("unstructured", outcome.Layers.Single(l => l.Name == "fc1").Pattern);
    }

    [Fact]
    public void Channel_removes_the_weakest_filters_and_shrinks_the_consumers()
    {
        var dense = TinyNets.ConvBnNet();
        var outcome = ModelPruning.Prune(dense, "channel", 0.5);
        var after = PrunableLayer.Find(outcome.Graph).ToDictionary(l => l.Name);
        Assert.Equal((8, 72), (after["conv2"].Rows, after["conv2"].Cols));    // 16 → 8 filters; conv1 (first) keeps its 8
        Assert.Equal((8, 72), (after["conv3"].Rows, after["conv3"].Cols));    // its input channels follow conv2
        Assert.Equal((32, 128), (after["fc1"].Rows, after["fc1"].Cols));      // 8 channels × 4·4 pixels
        Assert.Equal("channel", outcome.Layers.Single(l => l.Name == "conv2").Pattern);
        Assert.Contains("input channels removed with 'conv3'", outcome.Layers.Single(l => l.Name == "fc1").Note);
        Assert.Equal(0.5, outcome.Layers.Single(l => l.Name == "conv2").Sparsity, 6);
        Assert.True(TinyNets.Parameters(outcome.Graph) < TinyNets.Parameters(dense));
        // The kept filters are the largest by L2 norm: conv2's kept norm is at least half its rows' share.
        Assert.InRange(outcome.Layers.Single(l => l.Name == "conv2").KeptNorm, Math.Sqrt(0.5), 1.0);
        using var x = Tensor.Random(3, [2, 1, 8, 8]);
        Assert.Equal(2 * TinyNets.Classes, TinyNets.Run(outcome.Graph, x).Length);
        var residual = ModelPruning.Prune(TinyNets.ConvBnNet(residual: true), "channel", 0.5);
        Assert.Contains("Add", residual.Layers.Single(l => l.Name == "conv3").Note);
        Assert.Equal("dense", residual.Layers.Single(l => l.Name == "conv3").Pattern);
    }

    [Fact]
    public void Include_first_last_prunes_every_layer()
    {
        var outcome = ModelPruning.Prune(TinyNets.ConvBnNet(), "nm:2:4", 0, includeFirstLast: true);
        Assert.All(outcome.Layers, l => Assert.Equal("nm:2:4", l.Pattern));
    }

    [Fact]
    public void Pattern_metadata_survives_onnx_and_the_planner_runs_that_pattern()
    {
        var outcome = ModelPruning.Prune(TinyNets.ConvBnNet(), "nm:2:4", 0);
        var model = OnnxGraphImporter.ToGraph(OnnxModel.Parse(OnnxGraphExporter.ToModel(outcome.Graph).ToBytes()));
        Assert.True(model.Metadata.ContainsKey(PruningMetadata.Key));
        var read = PruningMetadata.Read(model.Metadata)!;
        Assert.Equal("nm:2:4", read["conv3"].Name);
        var forced = new PassOptions { Patterns = PatternPlanning.Detect with { ForceLayers = true } };
        var plan = InferenceSession.Create(model, forced).PlanFor(2);
        var patterns = plan.Patterns.ToDictionary(kv => kv.Key.Name, kv => kv.Value);
        // Forced: every layer the metadata names runs its N:M kernel, untimed, and the dense layers run none.
        Assert.Equal("nm:2:4", patterns["conv2"]);
        Assert.Equal("nm:2:4", patterns["conv3"]);
        Assert.Equal("nm:2:4", patterns["fc1"]);
        Assert.False(patterns.ContainsKey("conv1"));
        // By default the layer's pattern is its one structured candidate, timed against dense and CSR like a `--pattern`
        // model's: conv2's measured candidates name it (whether or not it won).
        var timed = InferenceSession.Create(model).PlanFor(2);
        Assert.Contains("nm:2:4", timed.Steps.Single(st => st.Node.Name == "conv2").Kernel);
        using var x = Tensor.Random(5, [2, 1, 8, 8]);
        var sparse = TinyNets.Run(model, x, new PassOptions());
        var reference = TinyNets.Run(model, x);
        for (int i = 0; i < reference.Length; i++) Assert.Equal(reference[i], sparse[i], 1e-4f * (1 + MathF.Abs(reference[i])));
    }

    [Fact]
    public void Metadata_that_is_not_json_is_a_clear_format_error()
    {
        var e = Assert.Throws<LacunaFormatException>(() => PruningMetadata.Read(new Dictionary<string, string> { [PruningMetadata.Key] = "{conv2:" }));
        Assert.Contains(PruningMetadata.Key, e.Message);
        var skipped = PruningMetadata.Read(new Dictionary<string, string> { [PruningMetadata.Key] = "{\"a\":\"channel\",\"b\":\"dense\",\"c\":\"nm:1:8\"}" })!;
        Assert.Equal(["c"], skipped.Keys);
    }

    [Theory]
    [InlineData("diagonal", 0.5, "unknown pruning method 'diagonal'")]
    [InlineData("magnitude", 1.5, "--sparsity must be in (0, 1)")]
    [InlineData("magnitude", 0, "--sparsity must be in (0, 1)")]
    [InlineData("nm:2:4", 0.5, "does not apply to nm:2:4")]
    [InlineData("tasder", 0.5, "does not apply to tasder")]
    [InlineData("nm:5:4", 0, "method 'nm:5:4'")]
    public void Bad_methods_and_sparsities_are_clear_errors(string method, double sparsity, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelPruning.Prune(TinyNets.ConvBnNet(), method, sparsity));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_model_without_prunable_layers_is_a_clear_error()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [1, 4]));
        g.Nodes.Add(new GraphNode("r", "Relu", ["x"], ["y"], []));
        g.Outputs.Add(new GraphValue("y", [1, 4]));
        var e = Assert.Throws<ArgumentException>(() => ModelPruning.Prune(g, "magnitude", 0.5));
        Assert.Contains("no prunable layer", e.Message);
        var two = TinyNets.ConvBnNet();
        var e2 = Assert.Throws<ArgumentException>(() => ModelPruning.Prune(Keep(two, "conv1", "fc2"), "magnitude", 0.5));
        Assert.Contains("--include-first-last", e2.Message);
    }

    /// <summary>The graph with every Conv/Gemm but the named ones made unprunable (weight fed by an Identity node).</summary>
    private static ModelGraph Keep(ModelGraph g, params string[] names)
    {
        foreach (var n in g.Nodes.ToList())
            if (n.OpType is "Conv" or "Gemm" && !names.Contains(n.Name))
            {
                string w = n.Inputs[1];
                g.Nodes.Insert(0, new GraphNode(w + "_id", "Identity", [w], [w + "_v"], []));
                n.Inputs[1] = w + "_v";
            }
        return g;
    }

    [Fact]
    public void Tasder_needs_a_budget()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelPruning.Prune(TinyNets.ConvBnNet(), "tasder", 0));
        Assert.Contains("calibration", e.Message);
    }

    [Theory]
    [InlineData(TasderOrder.LayerByLayer)]
    [InlineData(TasderOrder.RoundRobin)]
    [InlineData(TasderOrder.CostAware)]
    public void Tasder_keeps_the_model_within_its_output_error_budget(TasderOrder order)
    {
        var dense = TinyNets.ConvBnNet();
        using var x = Tensor.Random(9, [8, 1, 8, 8]);
        var reference = TinyNets.Run(dense, x);
        double Score(ModelGraph g) => -ModelEvaluation.RelativeError(reference, TinyNets.Run(g, x));
        const double bound = 0.3;
        var trials = new List<Tasder.Trial>();
        var outcome = ModelPruning.Prune(dense, "tasder", 0, budget: new(Score, -bound, trials.Add, order));
        var search = outcome.Search!;
        Assert.Equal(3, trials.Count(t => t.Phase == "sensitivity"));
        Assert.True(trials.Count(t => t.Phase == "step") >= 3);
        double error = -Score(outcome.Graph);
        Assert.True(error <= bound, $"error {error} over the budget {bound}");
        Assert.Equal(-search.Score, error, 6);
        // Every kept step was within budget, and the chosen series hold on the written weights.
        Assert.All(trials.Where(t => t.Accepted), t => Assert.True(t.Score >= -bound));
        Assert.Contains(search.Choice.Values, p => p is not null);
        foreach (var l in PrunableLayer.Find(outcome.Graph))
            if (search.Choice.GetValueOrDefault(l.Name) is { } p)
                Assert.Null(p.Violation(l.ReadMatrix(outcome.Graph), l.Rows, l.Cols));
        // An impossible budget keeps every layer dense.
        var none = ModelPruning.Prune(dense, "tasder", 0, budget: new(Score, 0.5, Order: order));
        Assert.All(none.Search!.Choice.Values, Assert.Null);
    }

    [Fact]
    public void Accelerator_model_runs_each_term_at_n_over_m_of_the_dense_time()
    {
        var m = new AcceleratorCostModel();
        var dense = m.LayerCost(1e6, 16, 64, 1000, 500, null);
        var series = m.LayerCost(1e6, 16, 64, 1000, 500, SparsityPattern.Parse("2:4+1:8"));
        Assert.Equal(1e6 / m.MacsPerSecond, dense.Time, 12);
        Assert.Equal(0.625 * dense.Time, series.Time, 12);
        // Bytes: dense 16·64 values + in + out activations; series: kept slots, 1 bit per 2:4 index... ⌈log2 M⌉ bits, input read per pass.
        Assert.Equal(16 * 64 * 2 + 1500 * 2, dense.Bytes, 6);
        double expected = 0.5 * 1024 * (2 + 2 / 8.0) + 1000 * 2 + 0.125 * 1024 * (2 + 3 / 8.0) + 1000 * 2 + 500 * 2;
        Assert.Equal(expected, series.Bytes, 6);
        Assert.Equal(0.625e6 * m.PicojoulesPerMac + expected * m.PicojoulesPerByte, series.Energy, 6);
        // Unstructured sparsity has no N:M unit: it runs dense.
        Assert.Equal(dense, m.LayerCost(1e6, 16, 64, 1000, 500, UnstructuredPattern.Instance));
    }
}
