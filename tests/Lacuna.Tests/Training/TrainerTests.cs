using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Training;
using Lacuna.Training.Data;
using Lacuna.Training.Layers;
using Lacuna.Training.Optim;

namespace Lacuna.Tests.Training;

/// <summary>Optimizers, schedules, checkpoints, resume, masked training and ONNX export of trained networks.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A learnable 28x28 task: class c is a bright bar at row band c (plus noise).</summary>
    internal static ImageDataset Bars(int count, ulong seed, int classes = 4)
    {
        var rng = new DeterministicRandom(seed);
        var images = new float[count * 784];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int c = labels[i] = rng.NextInt(classes);
            for (int p = 0; p < 784; p++)
            {
                int row = p / 28;
                images[i * 784 + p] = (row / 7 == c ? 1.5f : -0.5f) + rng.NextFloat(-0.5f, 0.5f);
            }
        }
        return new ImageDataset(images, labels, 28, 28, classes);
    }

    private static TrainOptions Tiny(string net = "vgg") => new()
    {
        Network = net, Width = 4, Epochs = 2, BatchSize = 16, LearningRate = 3e-3, TrainLimit = 0, Augment = true, Seed = 3,
    };

    private static Network Build(TrainOptions o) => FashionNets.Build(o.Network, o.Width, o.Seed, classes: 4) is var n ? Single(n) : null!;

    private static Network Single(Network n) { n.Threads = 1; return n; }

    [Fact]
    public void Sgd_and_adam_steps_follow_their_formulas()
    {
        var w = new Parameter("w", [2], ParameterKind.Weight);
        w.Value[0] = 1f; w.Value[1] = -2f; w.Grad[0] = 0.5f; w.Grad[1] = 0.25f;
        var sgd = new Sgd([w], momentum: 0.9f, weightDecay: 0.1f, nesterov: false);
        sgd.Step(0.1);
        Assert.Equal(1f - 0.1f * (0.5f + 0.1f * 1f), w.Value[0], 6);
        float v1 = 0.25f + 0.1f * -2f; // velocity of w[1] after step 1
        Assert.Equal(-2f - 0.1f * v1, w.Value[1], 6);

        var a = new Parameter("a", [1], ParameterKind.Bias);
        a.Value[0] = 1f; a.Grad[0] = 4f;
        var adam = new Adam([a], weightDecay: 0.5f);
        adam.Step(0.01);
        Assert.Equal(1f - 0.01f, a.Value[0], 5); // first Adam step moves by lr·sign(g); no decay on a bias
    }

    [Fact]
    public void Masked_parameters_stay_zero_through_updates()
    {
        var w = new Parameter("w", [6], ParameterKind.Weight);
        for (int i = 0; i < 6; i++) { w.Value[i] = i - 2.5f; w.Grad[i] = 1f; }
        w.SetMask([true, false, true, false, true, false]);
        var adam = new Adam([w], weightDecay: 0.1f);
        for (int s = 0; s < 3; s++) { for (int i = 0; i < 6; i++) w.Grad[i] = 1f; adam.Step(0.1); }
        Assert.Equal([0f, 0f, 0f], new[] { w.Value[1], w.Value[3], w.Value[5] });
        Assert.All(new[] { w.Value[0], w.Value[2], w.Value[4] }, v => Assert.NotEqual(0f, v));
        Assert.Throws<ShapeMismatchException>(() => w.SetMask(new bool[5]));
    }

    [Fact]
    public void Schedules()
    {
        var cos = new CosineSchedule(1.0, 0.1);
        Assert.Equal(0.1, cos.At(0, 100), 9);           // warm-up from 1/10
        Assert.Equal(1.0, cos.At(10, 100), 9);          // peak after warm-up
        Assert.Equal(0.5, cos.At(55, 100), 9);          // half-way through the decay
        Assert.True(cos.At(99, 100) < 0.001);
        var step = LearningRateSchedule.Parse("step", 1.0);
        Assert.Equal([1.0, 0.1, 0.01], new[] { step.At(10, 100), step.At(50, 100), step.At(80, 100) }.Select(v => Math.Round(v, 9)));
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse("warp", 1));
    }

    [Theory]
    [InlineData("vgg")]
    [InlineData("resnet")]
    public void Training_learns_a_simple_task(string net)
    {
        var o = Tiny(net) with { Epochs = 3, LearningRate = 1e-2, Augment = false };
        var trainer = new Trainer(Build(o), Bars(320, 1), Bars(128, 2), o);
        var before = trainer.Evaluate(Bars(128, 2));
        var steps = new List<TrainStep>();
        var history = trainer.Run(steps.Add);
        Assert.Equal(3, history.Count);
        Assert.Equal(3 * 20, steps.Count);
        Assert.True(history[^1].TestAccuracy > 0.9, $"test accuracy {history[^1].TestAccuracy} (before {before.Accuracy})");
        Assert.True(history[^1].TestLoss < before.Loss);
        Assert.All(history[^1].ReluSparsity.Values, s => Assert.InRange(s, 0.01, 0.999));
        Assert.All(history[^1].ConvInputZeros.Skip(1).Select(kv => kv.Value), z => Assert.True(z > 0.05, $"non-initial conv input zeros {z}"));
    }

    [Fact]
    public void Resume_mid_epoch_reproduces_the_uninterrupted_run_exactly()
    {
        var o = Tiny() with { Epochs = 2 };
        var train = Bars(96, 4); var test = Bars(32, 5);
        var straight = new Trainer(Build(o), train, test, o);
        straight.Run();

        string path = Path.Combine(_dir, "run.ckpt");
        using var cancel = new CancellationTokenSource();
        var first = new Trainer(Build(o), train, test, o) { CheckpointPath = path };
        first.Run(s => { if (s.Epoch == 2 && s.Step == 2) cancel.Cancel(); }, cancel: cancel.Token);
        Assert.Single(first.History);

        var ckpt = Checkpoint.Load(path);
        Assert.Equal(o, Trainer.OptionsOf(ckpt));
        var resumed = new Trainer(Build(o), train, test, o) { CheckpointPath = path };
        resumed.Restore(ckpt);
        resumed.Run();
        Assert.Equal(2, resumed.History.Count);
        var a = straight.Network.Parameters; var b = resumed.Network.Parameters;
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Value, b[i].Value);
        Assert.Equal(straight.History[^1].TestAccuracy, resumed.History[^1].TestAccuracy);
    }

    [Fact]
    public void Checkpoint_rejects_damage_and_foreign_networks()
    {
        var o = Tiny() with { Epochs = 1 };
        string path = Path.Combine(_dir, "a.ckpt");
        var t = new Trainer(Build(o), Bars(32, 6), Bars(16, 7), o) { CheckpointPath = path };
        t.SaveCheckpoint();
        byte[] good = File.ReadAllBytes(path);

        var flipped = (byte[])good.Clone(); flipped[good.Length / 2] ^= 1;
        File.WriteAllBytes(path, flipped);
        Assert.Contains("checksum", Assert.Throws<LacunaFormatException>(() => Checkpoint.Load(path)).Message);
        File.WriteAllBytes(path, good[..(good.Length - 100)]);
        Assert.Throws<LacunaFormatException>(() => Checkpoint.Load(path));
        File.WriteAllBytes(path, "not a checkpoint at all"u8.ToArray());
        Assert.Contains("LCNACKPT", Assert.Throws<LacunaFormatException>(() => Checkpoint.Load(path)).Message);
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(Path.Combine(_dir, "missing.ckpt")));

        File.WriteAllBytes(path, good);
        var other = Tiny("resnet") with { Epochs = 1 };
        var foreign = new Trainer(Build(other), Bars(32, 6), Bars(16, 7), other);
        Assert.Contains("fashion-vgg", Assert.Throws<LacunaFormatException>(() => foreign.Restore(Checkpoint.Load(path))).Message);
        var wider = o with { Width = 5 };
        var mismatch = new Trainer(Build(wider), Bars(32, 6), Bars(16, 7), wider);
        Assert.Contains("conv1_1.weight", Assert.Throws<LacunaFormatException>(() => mismatch.Restore(Checkpoint.Load(path))).Message);
    }

    [Fact]
    public void A_failed_save_leaves_the_previous_checkpoint_and_no_temporary_file()
    {
        string path = Path.Combine(_dir, "keep.ckpt");
        new Checkpoint(new() { ["v"] = 1 }, [("a", [1f, 2f])]).Save(path);
        byte[] before = File.ReadAllBytes(path);
        var tooLongName = new string('x', 70000);
        Assert.ThrowsAny<ArgumentException>(() => new Checkpoint(new() { ["v"] = 2 }, [("a", [3f]), (tooLongName, [4f])]).Save(path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
        var back = Checkpoint.Load(path);
        Assert.Equal([1f, 2f], back.Arrays[0].Data);
    }

    [Fact]
    public void Masked_training_keeps_the_pruned_pattern()
    {
        var o = Tiny() with { Epochs = 1, PruneSparsity = 0.6, PruneFirstAndLast = true };
        var net = Build(o);
        var trainer = new Trainer(net, Bars(64, 8), Bars(16, 9), o);
        trainer.PruneIfDue(); // one-shot at step 0, as Run would before its first step
        var patterns = net.Parameters.Where(p => p.Kind == ParameterKind.Weight).Select(p => p.Value.Select(v => v == 0f).ToArray()).ToList();
        trainer.Run();
        var weights = net.Parameters.Where(p => p.Kind == ParameterKind.Weight).ToList();
        for (int i = 0; i < weights.Count; i++)
        {
            Assert.InRange(weights[i].Sparsity(), 0.59, 1.0);
            for (int j = 0; j < patterns[i].Length; j++)
                if (patterns[i][j]) Assert.Equal(0f, weights[i].Value[j]);
        }
    }

    [Theory]
    [InlineData("vgg")]
    [InlineData("resnet")]
    public void Exported_graph_runs_in_the_inference_engine_and_matches(string net)
    {
        var o = Tiny(net) with { Epochs = 1 };
        var network = Build(o);
        new Trainer(network, Bars(64, 10), Bars(16, 11), o).Run(); // moves BN statistics away from their initial values
        var data = Bars(8, 12);
        var expected = network.Forward(new FeatureMap(data.Images, 8, 1, 28, 28), training: false).Span.ToArray();
        string file = Path.Combine(_dir, net + ".onnx");
        OnnxGraphExporter.ToModel(network.ToGraph()).Save(file);
        var session = InferenceSession.Create(OnnxGraphImporter.Load(file));
        using var x = Tensor.FromArray(data.Images, 8, 1, 28, 28);
        var outputs = session.Run(new Dictionary<string, Tensor> { ["input"] = x });
        var logits = outputs["logits"];
        Assert.Equal([8, 4], logits.Shape.AsSpan().ToArray());
        var got = logits.Span.ToArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"logit {i}: {got[i]} vs {expected[i]}");
        foreach (var t in outputs.Values) t.Dispose();
    }

    [Fact]
    public void Bad_options_and_inputs_get_clear_errors()
    {
        Assert.Contains("optimizer", Assert.Throws<ArgumentException>(() => new TrainOptions { Optimizer = "lion" }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { LearningRate = double.NaN }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { PruneSparsity = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => FashionNets.Build("alexnet"));
        var net = FashionNets.Vgg(4);
        Assert.Contains("[N, 1, 28, 28]", Assert.Throws<ShapeMismatchException>(() => net.Forward(FeatureMap.Zeros(1, 1, 32, 32), true)).Message);
    }
}
