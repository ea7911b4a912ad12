using Lacuna.Bench.Baselines;
using Lacuna.Onnx;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// The transformer encoders of the zoo: sizes of bert-base and transformer-base (shape-only), the tiny variants run
/// on ONNX Runtime (the same bytes Lacuna will import), pruning, a fixed sequence length, and the DLMC transformer
/// mapping on a temp folder of synthetic .smtx files (never /work/shared).
/// </summary>
public sealed class ZooTransformerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-dlmc-tf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BertBase_HasTheHuggingFaceParameterCountAndLayers()
    {
        var m = ZooBuilder.Build("bert-base", new ZooOptions(WithWeights: false));
        Assert.Equal(109_482_240, m.ParameterCount); // bert-base-uncased with pooler
        Assert.Equal(12 * 6 + 1, m.Layers.Count);
        Assert.All(m.Layers, l => Assert.Equal(ZooLayerKind.MatMul, l.Kind));
        Assert.Equal(["input_ids", "token_type_ids", "attention_mask"], m.Model.Graph.Input.Select(i => i.Name));
        Assert.Equal(["last_hidden_state", "pooler_output"], m.Model.Graph.Output.Select(o => o.Name));
        Assert.Contains(m.Model.Graph.Node, n => n.OpType == "LayerNormalization");
        Assert.Contains(m.Model.Graph.Node, n => n.OpType == "Erf");
        Assert.Equal(17, m.Model.Proto.OpsetImport.Single().Version);
        var ffn = m.Layers.Single(l => l.Name == "encoder.layer.3.intermediate.dense");
        Assert.Equal([3072L, 768L], ffn.Dims);
        Assert.Equal([768L, 3072L], m.Model.Graph.FindInitializer(ffn.WeightName)!.Dims); // MatMul's B is [in, out]
    }

    [Fact]
    public void TransformerBase_MapsEveryEncoderLayerToADlmcMatrixOfItsShape()
    {
        var m = ZooBuilder.Build("transformer-base", new ZooOptions(WithWeights: false));
        var names = DlmcTransformerMapping.MatrixNames(TransformerSpec.TransformerBase);
        Assert.Equal(36, names.Count);
        Assert.Equal(names.Keys.Order(), m.Layers.Select(l => l.Name).Order());
        var shapes = m.Layers.ToDictionary(l => names[l.Name], DlmcResNetMapping.MatrixShape);
        // Header lines of the DLMC transformer files (nrows, ncols).
        Assert.Equal((2048, 512), shapes["body_encoder_layer_0_ffn_conv1_fully_connected"]);
        Assert.Equal((512, 2048), shapes["body_encoder_layer_5_ffn_conv2_fully_connected"]);
        Assert.Equal((512, 512), shapes["body_encoder_layer_2_self_attention_multihead_attention_output_transform_fully_connected"]);
        Assert.Equal(["input_ids"], m.Model.Graph.Input.Select(i => i.Name));
        Assert.Throws<ArgumentException>(() => DlmcTransformerMapping.MatrixNames(TransformerSpec.BertBase));
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.9, 2)]
    public void BertTiny_RunsOnOnnxRuntime_WithFiniteOutputsOfTheRightShape(double sparsity, int threads)
    {
        var m = ZooBuilder.Build("bert-tiny", new ZooOptions(Seed: 3, Sparsity: sparsity));
        if (sparsity > 0) Assert.All(m.Layers, l => Assert.InRange(l.Sparsity, 0.89, 0.91));
        const int batch = 2, seq = 7;
        var (hidden, pooled) = RunBert(m, batch, seq, threads);
        Assert.Equal(new long[] { batch, seq, 32 }, hidden.Shape);
        Assert.Equal(new long[] { batch, 32 }, pooled.Shape);
        Assert.All(hidden.Data, v => Assert.True(float.IsFinite(v)));
        Assert.All(pooled.Data, v => Assert.True(float.IsFinite(v) && MathF.Abs(v) <= 1f));
        Assert.True(hidden.Data.Max(MathF.Abs) > 0.1f, "post-LN outputs are O(1)");
        // The mask matters: the masked-out last token of batch 1 changes the other tokens' outputs of batch 1 only.
        Assert.NotEqual(hidden.Data.AsSpan(0, seq * 32).ToArray().Sum(), hidden.Data.AsSpan(seq * 32, seq * 32).ToArray().Sum());
    }

    [Fact]
    public void FixedSequenceLength_IsInTheGraphAndRuns()
    {
        var m = ZooBuilder.Build("bert-tiny", new ZooOptions(Seed: 5, SequenceLength: 5));
        var dims = m.Model.Graph.Input[0].Type!.TensorType!.Shape!.Dims;
        Assert.Equal("batch", dims[0].Param);
        Assert.Equal(5, dims[1].Value);
        var (hidden, _) = RunBert(m, 1, 5, 1);
        Assert.Equal(new long[] { 1, 5, 32 }, hidden.Shape);
        var symbolic = ZooBuilder.Build("bert-tiny", new ZooOptions(Seed: 5));
        Assert.Equal("seq", symbolic.Model.Graph.Input[0].Type!.TensorType!.Shape!.Dims[1].Param);
        Assert.Contains("1..64", Assert.Throws<ArgumentException>(() => ZooBuilder.Build("bert-tiny", new ZooOptions(SequenceLength: 65))).Message);
        Assert.Throws<ArgumentException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(SequenceLength: 8)));
    }

    [Fact]
    public void TransformerTiny_RunsOnOnnxRuntime()
    {
        var m = ZooBuilder.Build("transformer-tiny", new ZooOptions(Seed: 2, Sparsity: 0.7));
        Assert.True(OnnxRuntime.IsAvailable, OnnxRuntime.InstallHint);
        using var ort = OnnxRuntimeSession.Create(m.Model.ToBytes(), 1);
        const int seq = 17;
        var ids = Enumerable.Range(0, seq).Select(i => (long)(i * 37 % 1000)).ToArray();
        var outputs = ort.RunAll(new Dictionary<string, (Array, long[])> { ["input_ids"] = (ids, [1, seq]) });
        var (data, shape) = outputs["encoder_output"];
        Assert.Equal(new long[] { 1, seq, 32 }, shape);
        Assert.All(data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Dlmc_PatternsReplaceTheEncoderWeights_DecoderFilesAreReportedUnused()
    {
        var patterns = WriteSyntheticFolder(density: 0.2, seed: 7);
        WriteSmtx("body_decoder_layer_0_ffn_conv1_fully_connected", 4, 4, [(0, 1)]);
        var m = ZooBuilder.Build("transformer-tiny", new ZooOptions(Seed: 4, DlmcDirectory: _dir));
        var coverage = Assert.IsType<DlmcCoverage>(m.Dlmc);
        Assert.Equal(12, coverage.Mapped);
        Assert.Equal(12, coverage.Expected);
        Assert.Equal(["body_decoder_layer_0_ffn_conv1_fully_connected"], coverage.UnusedFiles);
        foreach (var layer in m.Layers)
        {
            int outF = (int)layer.Dims[0], inF = (int)layer.Dims[1];
            var b = m.Model.ReadFloats(m.Model.Graph.FindInitializer(layer.WeightName)!); // [in, out]
            var expected = new bool[b.Length];
            foreach (var (row, col) in patterns[layer.Name]) expected[col * outF + row] = true;
            for (int i = 0; i < b.Length; i++) Assert.Equal(expected[i], b[i] != 0f);
            Assert.Equal(1 - (double)patterns[layer.Name].Count / b.Length, layer.Sparsity, 12);
        }
        // The mapped model still runs on ONNX Runtime.
        using var ort = OnnxRuntimeSession.Create(m.Model.ToBytes(), 1);
        var y = ort.RunAll(new Dictionary<string, (Array, long[])> { ["input_ids"] = (new long[] { 1, 2, 3 }, [1, 3]) })["encoder_output"];
        Assert.All(y.Data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Dlmc_MissingOrMisShapedMatrix_IsAnErrorNamingIt()
    {
        WriteSyntheticFolder(density: 0.5, seed: 2);
        File.Delete(Path.Combine(_dir, "body_encoder_layer_1_ffn_conv2_fully_connected.smtx"));
        var missing = Assert.Throws<LacunaFormatException>(() => ZooBuilder.Build("transformer-tiny", new ZooOptions(DlmcDirectory: _dir)));
        Assert.Contains("body_encoder_layer_1_ffn_conv2_fully_connected", missing.Message);
        Assert.Contains("encoder.layer1.ffn.conv2", missing.Message);

        WriteSmtx("body_encoder_layer_1_ffn_conv2_fully_connected", 64, 32, [(0, 0)]); // transposed: the layer is 32 × 64
        var misShaped = Assert.Throws<LacunaFormatException>(() => ZooBuilder.Build("transformer-tiny", new ZooOptions(DlmcDirectory: _dir)));
        Assert.Contains("body_encoder_layer_1_ffn_conv2_fully_connected", misShaped.Message);
        Assert.Contains("64 × 32", misShaped.Message);
        Assert.Contains("32 × 64", misShaped.Message);

        var bert = Assert.Throws<ArgumentException>(() => ZooBuilder.Build("bert-tiny", new ZooOptions(DlmcDirectory: _dir)));
        Assert.Contains("Transformer-base", bert.Message);
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(2, 16)]
    public void BertTiny_AtSparsity09_SparsePlanAndDensePlanMatchOnnxRuntime(int batch, int seq)
    {
        var m = ZooBuilder.Build("bert-tiny", new ZooOptions(Seed: 4, Sparsity: 0.9));
        var (hidden, pooled) = RunBert(m, batch, seq, threads: 1);
        var graph = Lacuna.Onnx.Import.OnnxGraphImporter.ToGraph(m.Model);
        var rng = new DeterministicRandom(9); // the same ids, types and mask as RunBert
        var ids = Enumerable.Range(0, batch * seq).Select(_ => (float)rng.NextInt(1000)).ToArray();
        var types = Enumerable.Range(0, batch * seq).Select(i => i % seq >= seq / 2 ? 1f : 0f).ToArray();
        var mask = Enumerable.Range(0, batch * seq).Select(i => i / seq == 1 && i % seq == seq - 1 ? 0f : 1f).ToArray();
        var feeds = new Dictionary<string, Tensor>
        {
            ["input_ids"] = Tensor.FromArray(ids, batch, seq), ["token_type_ids"] = Tensor.FromArray(types, batch, seq),
            ["attention_mask"] = Tensor.FromArray(mask, batch, seq),
        };
        var shapes = feeds.ToDictionary(kv => kv.Key, _ => new[] { batch, seq });
        foreach (var (options, sparse) in new[] { (new Lacuna.Graph.PassOptions(), true), (Lacuna.Graph.PassOptions.Dense, false) })
        {
            var session = Lacuna.Graph.InferenceSession.Create(graph, options);
            var linear = session.PlanFor(shapes).Steps.Where(s => s.Node.OpType == "MatMul" && s.Kernel.StartsWith("TokenLinear ")).ToList();
            // Every linear layer (bias fused) is a token-linear kernel; each encoder layer's Q, K and V projections are one
            // (GraphPasses.FuseQkvProjections), so two fewer per layer.
            Assert.Equal(m.Layers.Count - 2 * 2, linear.Count);
            Assert.Equal(2, linear.Count(s => s.Node.Name.EndsWith("/qkv", StringComparison.Ordinal)));
            Assert.All(linear, s => Assert.Equal(3, s.Node.Inputs.Count));
            if (!sparse) Assert.All(linear, s => Assert.DoesNotContain("sparse", s.Kernel));
            else Assert.All(linear, s => Assert.Contains(", sparse ", s.Kernel)); // a sparse candidate was built and timed ("[dense-gemm .. ms, sparse .. ms]")
            var actual = session.Run(feeds);
            AssertClose(hidden.Data, actual["last_hidden_state"].ToArray(), $"hidden sparse={sparse} ({batch}, {seq})");
            AssertClose(pooled.Data, actual["pooler_output"].ToArray(), $"pooler sparse={sparse} ({batch}, {seq})");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(actual[i] - expected[i]) <= 1e-4f * scale, $"{what} element {i}: Lacuna {actual[i]} vs ONNX Runtime {expected[i]} (scale {scale})");
    }

    private static ((float[] Data, long[] Shape) Hidden, (float[] Data, long[] Shape) Pooled) RunBert(ZooModel m, int batch, int seq, int threads)
    {
        Assert.True(OnnxRuntime.IsAvailable, $"{OnnxRuntime.InstallHint}. Tried: {string.Join(", ", OnnxRuntime.Candidates())}");
        using var ort = OnnxRuntimeSession.Create(m.Model.ToBytes(), threads);
        var rng = new DeterministicRandom(9);
        var ids = Enumerable.Range(0, batch * seq).Select(_ => (long)rng.NextInt(1000)).ToArray();
        var types = Enumerable.Range(0, batch * seq).Select(i => (long)(i % seq >= seq / 2 ? 1 : 0)).ToArray();
        var mask = Enumerable.Range(0, batch * seq).Select(i => i / seq == 1 && i % seq == seq - 1 ? 0L : 1L).ToArray();
        var outputs = ort.RunAll(new Dictionary<string, (Array, long[])>
        {
            ["input_ids"] = (ids, [batch, seq]), ["token_type_ids"] = (types, [batch, seq]), ["attention_mask"] = (mask, [batch, seq]),
        });
        return (outputs["last_hidden_state"], outputs["pooler_output"]);
    }

    private Dictionary<string, List<(int Row, int Col)>> WriteSyntheticFolder(double density, ulong seed) =>
        SyntheticDlmc.WriteFolder(_dir, "transformer-tiny", DlmcTransformerMapping.MatrixNames(TransformerSpec.TransformerTiny), density, seed);

    private void WriteSmtx(string name, int rows, int cols, List<(int Row, int Col)> entries) => SyntheticDlmc.WriteSmtx(_dir, name, rows, cols, entries);
}
