using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Training;
using Lacuna.Training.Data;

namespace Lacuna.Tests.Training;

/// <summary>Pruning schedules inside training: the cubic ramp, exact final sparsity per pattern, masks through resume, --init.</summary>
public sealed class PruningScheduleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-prune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ImageDataset Train = TrainerTests.Bars(64, 21), Test = TrainerTests.Bars(16, 22);

    // 64 images, batch 16: 4 steps per epoch.
    private static TrainOptions Tiny(string method, double sparsity) => new()
    {
        Network = "vgg", Width = 4, Epochs = 2, BatchSize = 16, LearningRate = 3e-3, Seed = 5,
        PruneMethod = method, PruneSparsity = sparsity, PruneSchedule = "gradual", PruneStartEpoch = 0, PruneEndEpoch = 1, PruneEverySteps = 2,
    };

    private static Network Build(TrainOptions o)
    {
        var n = FashionNets.Build(o.Network, o.Width, o.Seed, classes: 4);
        n.Threads = 1;
        return n;
    }

    [Fact]
    public void Cubic_schedule_values_and_update_steps_follow_the_formula()
    {
        Assert.Equal(0.1, PruningSchedule.Cubic(10, 10, 40, 0.1, 0.9), 12);
        Assert.Equal(0.9, PruningSchedule.Cubic(40, 10, 40, 0.1, 0.9), 12);
        Assert.Equal(0.9 + (0.1 - 0.9) * 0.125, PruningSchedule.Cubic(25, 10, 40, 0.1, 0.9), 12);     // half way: (1 − ½)³
        Assert.Equal(0.9 + (0.0 - 0.9) * Math.Pow(1 - 7.0 / 30, 3), PruningSchedule.Cubic(17, 10, 40, 0, 0.9), 12);
        Assert.Equal(0.1, PruningSchedule.Cubic(3, 10, 40, 0.1, 0.9), 12);   // before t0: s_i
        Assert.Equal(0.9, PruningSchedule.Cubic(99, 10, 40, 0.1, 0.9), 12);  // after t1: s_f

        var gradual = new PruningSchedule("gradual", 0, 0.8, 10, 40, 7);
        var due = Enumerable.Range(0, 60).Where(t => gradual.IsDue(t)).ToArray();
        Assert.Equal([10, 17, 24, 31, 38, 40], due);
        Assert.Equal(PruningSchedule.Cubic(24, 10, 40, 0, 0.8), gradual.TargetAt(24), 12);
        for (int t = 11; t <= 40; t++) Assert.True(gradual.TargetAt(t) >= gradual.TargetAt(t - 1)); // never decreases

        Assert.Equal([5], Enumerable.Range(0, 60).Where(t => new PruningSchedule("oneshot", 0, 0.8, 5, 40, 7).IsDue(t)).ToArray());
        var fixedPattern = new PruningSchedule("gradual", 0, 0.5, 5, 40, 7, FixedPattern: true);
        Assert.Equal([5], Enumerable.Range(0, 60).Where(t => fixedPattern.IsDue(t)).ToArray());
        Assert.Equal(0.5, fixedPattern.TargetAt(5));
    }

    public static TheoryData<string, double> Methods() => new()
    {
        { "unstructured", 0.7 }, { "global", 0.7 }, { "block:4x4", 0.5 }, { "block:16x1", 0.5 }, { "nm:2:4", 0 },
        { "gs:8", 0.75 }, { "channel", 0.5 }, { "2:4+1:8", 0 },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Gradual_run_ends_at_the_exact_sparsity_with_the_pattern_in_every_pruned_layer(string method, double sparsity)
    {
        var o = Tiny(method, sparsity);
        var net = Build(o);
        var trainer = new Trainer(net, Train, Test, o);
        var targets = new List<double>();
        trainer.Run(s => targets.Add(s.PruneTarget));
        var pruning = trainer.Pruning!;
        Assert.Null(pruning.Violation());
        // Steps 0 and 2 update on the ramp, step 4 reaches s_f; then fixed masks for the rest.
        if (pruning.Pattern.SparsityIsFree)
        {
            Assert.Equal(PruningSchedule.Cubic(2, 0, 4, 0, sparsity), targets[2], 12);
            Assert.All(targets.Skip(4), t => Assert.Equal(sparsity, t, 12));
        }
        var included = pruning.Layers.Where(l => l.Included).ToList();
        Assert.Equal(pruning.Layers.Count - 2, included.Count); // first conv and last FC stay dense
        Assert.All(pruning.Layers.Where(l => !l.Included), l => Assert.Equal(0, l.Sparsity));
        foreach (var l in pruning.Layers)
            if (l.Parameter.Mask is { } mask)
                for (int i = 0; i < mask.Length; i++) if (!mask[i]) Assert.Equal(0f, l.Parameter.Value[i]);
        long zeros = 0, total = 0;
        foreach (var l in included)
        {
            var w = l.Parameter.Value;
            int z = w.Count(v => v == 0f);
            zeros += z; total += w.Length;
            switch (method)
            {
                case "unstructured": Assert.Equal((int)Math.Round(sparsity * w.Length), z); break;
                case "channel": Assert.Equal((int)Math.Round(sparsity * l.Rows) * l.Cols, z); break;
                case "nm:2:4":
                    int kept = 0;
                    for (int g = 0; g < l.Cols; g += 4) kept += Math.Min(2, l.Cols - g);
                    Assert.Equal(w.Length - kept * l.Rows, z);
                    break;
                default:
                    // The final weights are a fixed point of the pruner: pruning them again to s_f changes nothing.
                    var again = (float[])w.Clone();
                    if (method != "global") pruning.Pattern.Prune(again, l.Rows, l.Cols, sparsity);
                    Assert.Equal(w, again);
                    break;
            }
        }
        if (method == "global") Assert.Equal((long)Math.Round(sparsity * total), zeros);
        if (method is "block:4x4" or "block:16x1" or "gs:8") Assert.InRange((double)zeros / total, sparsity - 0.08, sparsity + 0.08);
    }

    [Fact]
    public void Resume_mid_ramp_gives_bit_identical_weights_and_masks()
    {
        var o = Tiny("unstructured", 0.8) with { PruneEndEpoch = 1.5, PruneEverySteps = 1 };
        var straight = new Trainer(Build(o), Train, Test, o);
        straight.Run();

        string path = Path.Combine(_dir, "ramp.ckpt");
        using var cancel = new CancellationTokenSource();
        var first = new Trainer(Build(o), Train, Test, o) { CheckpointPath = path };
        first.Run(s => { if (s.Epoch == 1 && s.Step == 3) cancel.Cancel(); }, cancel: cancel.Token);
        Assert.Equal(3, first.GlobalStep);

        var ckpt = Checkpoint.Load(path);
        Assert.Equal(o, Trainer.OptionsOf(ckpt)); // the schedule's options travel with the checkpoint
        var resumed = new Trainer(Build(o), Train, Test, o) { CheckpointPath = path };
        resumed.Restore(ckpt);
        // The masks restored are the ones of the interrupted run (pruned entries zero).
        foreach (var p in resumed.Network.Parameters.Where(p => p.Mask is not null))
            for (int i = 0; i < p.Length; i++) if (!p.Mask![i]) Assert.Equal(0f, p.Value[i]);
        resumed.Run();
        var a = straight.Network.Parameters; var b = resumed.Network.Parameters;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Value, b[i].Value);
            Assert.Equal(a[i].Mask, b[i].Mask);
        }
        Assert.Equal(straight.History[^1].TestAccuracy, resumed.History[^1].TestAccuracy);
    }

    [Fact]
    public void Init_loads_trained_weights_but_not_optimizer_or_progress_and_export_keeps_the_zeros()
    {
        var dense = Tiny("unstructured", 0) with { Epochs = 1 };
        string path = Path.Combine(_dir, "dense.ckpt");
        var denseRun = new Trainer(Build(dense), Train, Test, dense) { CheckpointPath = path };
        denseRun.Run();
        Assert.Null(denseRun.Pruning);

        var o = Tiny("nm:2:4", 0) with { PruneSchedule = "oneshot" };
        var pruned = new Trainer(Build(o), Train, Test, o);
        pruned.LoadWeights(Checkpoint.Load(path));
        for (int i = 0; i < pruned.Network.Parameters.Count; i++)
            Assert.Equal(denseRun.Network.Parameters[i].Value, pruned.Network.Parameters[i].Value);
        Assert.Equal(0, pruned.Optimizer.Steps);
        Assert.Equal(0, pruned.GlobalStep);
        Assert.Empty(pruned.History);
        pruned.Run();
        Assert.Equal(2, pruned.History.Count);
        Assert.Null(pruned.Pruning!.Violation());

        string onnx = Path.Combine(_dir, "pruned.onnx");
        OnnxGraphExporter.ToModel(pruned.Network.ToGraph()).Save(onnx);
        var graph = OnnxGraphImporter.Load(onnx);
        foreach (var l in pruned.Pruning.Layers.Where(l => l.Included))
        {
            var exported = graph.Initializers.Values.Single(t => t.Floats is { } f && f.Length == l.Parameter.Length && f.SequenceEqual(l.Parameter.Value));
            Assert.Null(pruned.Pruning.Pattern.Violation(exported.Floats!, l.Rows, l.Cols));
            Assert.Equal(0.5, exported.Floats!.Count(v => v == 0f) / (double)exported.Floats!.Length, 1);
        }

        var foreign = FashionNets.Build("resnet", 4, 5, classes: 4);
        var wrong = new Trainer(foreign, Train, Test, o with { Network = "resnet" });
        Assert.Contains("fashion-vgg", Assert.Throws<LacunaFormatException>(() => wrong.LoadWeights(Checkpoint.Load(path))).Message);
    }

    [Fact]
    public void Bad_pruning_options_get_clear_errors()
    {
        Assert.Contains("unknown sparsity pattern", Assert.Throws<ArgumentException>(() => new TrainOptions { PruneMethod = "diagonal" }.Validate()).Message);
        Assert.Contains("oneshot", Assert.Throws<ArgumentException>(() => new TrainOptions { PruneSchedule = "linear" }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { PruneSparsity = 0.5, PruneInitialSparsity = 0.7 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { Epochs = 3, PruneEndEpoch = 4 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { PruneStartEpoch = 2, PruneEndEpoch = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { PruneEverySteps = 0 }.Validate());
        Assert.False(new TrainOptions().Prunes);
        Assert.True(new TrainOptions { PruneMethod = "nm:2:4" }.Prunes);
    }
}
