using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx;
using Lacuna.Pruning;
using Lacuna.Training;
using Lacuna.Training.Data;

namespace Lacuna.Cli.Study;

/// <summary>What <c>lacuna study pruning</c> runs (see <see cref="PruningStudy"/>).</summary>
public sealed record PruningStudyConfig
{
    public IReadOnlyList<string> Nets { get; init; } = ["vgg", "resnet"];
    public int Width { get; init; } = 16;
    /// <summary>Epochs of the dense model every pruned row starts from (over the whole training set).</summary>
    public int DenseEpochs { get; init; } = 4;
    /// <summary>Training images of the dense model (0 = all 60,000; tests use a few hundred).</summary>
    public int DenseLimit { get; init; }
    /// <summary>Epochs of the gradual ramp (cubic, from 0 to the target sparsity) ...</summary>
    public int PruneEpochs { get; init; } = 2;
    /// <summary>... followed by this many epochs of fine-tuning with the masks fixed.</summary>
    public int FinetuneEpochs { get; init; } = 1;
    /// <summary>Training images per pruning/fine-tuning epoch (0 = all 60,000).</summary>
    public int Limit { get; init; } = 15_000;
    /// <summary>Test images every accuracy is measured on (0 = all 10,000).</summary>
    public int TestLimit { get; init; }
    /// <summary>Peak learning rate of the pruning runs (the dense run uses the training default).</summary>
    public double PruneLearningRate { get; init; } = 1e-3;
    public IReadOnlyList<double> Sparsities { get; init; } = [0.5, 0.7, 0.8, 0.9, 0.95];
    public IReadOnlyList<string> Methods { get; init; } = PruningStudy.AllMethods;
    /// <summary>TASD-W series applied to the dense model without fine-tuning, one row each.</summary>
    public IReadOnlyList<string> TasdSeries { get; init; } = ["2:4+1:8", "2:4", "1:4+1:8", "1:4"];
    /// <summary>TASDER keeps at least this fraction of the dense model's calibration accuracy.</summary>
    public double TasderBudget { get; init; } = 0.99;
    /// <summary>Calibration images for TASDER: the last N of the training set (never the test set).</summary>
    public int CalibrationImages { get; init; } = 2000;
    /// <summary>Batch and thread count of the speed measurement (sparse plan of the pruned model vs dense plan of the dense one).</summary>
    public int Batch { get; init; } = 64;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public int Runs { get; init; } = 21;
    public string DataDir { get; init; } = ImageDataset.FashionMnistDirectory;
    public string WorkDir { get; init; } = "pruning-study-work";
    public ulong Seed { get; init; } = 1;
    /// <summary>Measure the speed of finished rows again (on a quiet machine) instead of reusing their numbers.</summary>
    public bool Retime { get; init; }
}

/// <summary>
/// The pruning study of issue 17 on Fashion-MNIST: per network, a dense model is trained once; every structured and
/// unstructured pattern is then reached from it by gradual magnitude pruning (Zhu &amp; Gupta's cubic ramp) and
/// fine-tuned with fixed masks, at each sparsity of the sweep (N:M rows have their own); TASD-W series and TASDER are
/// applied to the dense model without fine-tuning. Each row gives the test accuracy and the measured speedup of the
/// pruned model's sparse plan over the dense model's dense plan (same batch and threads, interleaved medians).
/// Every finished step is kept in <see cref="PruningStudyConfig.WorkDir"/> (the dense checkpoint, each row's checkpoint
/// and result), so an interrupted study continues where it stopped.
/// </summary>
public static class PruningStudy
{
    public static readonly string[] AllMethods = ["magnitude", "block4x4", "block16x1", "nm2:4", "nm1:4", "nm1:8", "gs", "channel", "tasd", "tasder"];

    /// <summary>The `--pattern` spelling a trained row prunes to, or null for tasd/tasder (no training).</summary>
    public static string? TrainedPattern(string method) => method switch
    {
        "magnitude" => "unstructured",
        "block4x4" => "block:4x4",
        "block16x1" => "block:16x1",
        "nm2:4" => "nm:2:4",
        "nm1:4" => "nm:1:4",
        "nm1:8" => "nm:1:8",
        "gs" => "gs:16",
        "channel" => "channel",
        "tasd" or "tasder" => null,
        _ => throw new ArgumentException($"unknown study method '{method}'; expected {string.Join(", ", AllMethods)}.", nameof(method)),
    };

    /// <summary>Runs the study; returns the array written to <paramref name="output"/> (rewritten after every row).</summary>
    public static JsonArray Run(PruningStudyConfig config, string output, TextWriter log)
    {
        foreach (var m in config.Methods) TrainedPattern(m); // unknown methods fail before any work
        var train = ImageDataset.LoadFashionMnist(config.DataDir, train: true);
        var test = ImageDataset.LoadFashionMnist(config.DataDir, train: false);
        if (config.TestLimit > 0) test = test.Slice(0, Math.Min(config.TestLimit, test.Count));
        var results = new JsonArray();
        var clock = Stopwatch.StartNew();
        foreach (string net in config.Nets)
        {
            var model = new JsonObject();
            results.Add(model);
            RunNet(config, net, train, test, model, () => Save(results, output), log, clock);
        }
        Save(results, output);
        return results;
    }

    private static void RunNet(PruningStudyConfig c, string net, ImageDataset train, ImageDataset test, JsonObject model, Action save, TextWriter log, Stopwatch clock)
    {
        string dir = Path.Combine(c.WorkDir, $"{net}-w{c.Width}");
        Directory.CreateDirectory(Path.Combine(dir, "rows"));
        var denseOptions = new TrainOptions { Network = net, Width = c.Width, Epochs = c.DenseEpochs, TrainLimit = c.DenseLimit, Seed = c.Seed };
        string denseCkpt = Path.Combine(dir, "dense.ckpt");
        var (dense, denseHistory) = TrainOrLoad(denseOptions, train, test, denseCkpt, null, log, $"{net} dense");
        var denseGraph = dense.ToGraph();
        double denseAccuracy = denseHistory[^1].TestAccuracy;
        model["dataset"] = "fashion-mnist";
        model["model"] = dense.Name;
        model["width"] = c.Width;
        model["dense_accuracy"] = Round(denseAccuracy);
        model["dense_epochs"] = c.DenseEpochs;
        model["prune_epochs"] = c.PruneEpochs;
        model["finetune_epochs"] = c.FinetuneEpochs;
        model["train_images_per_pruning_epoch"] = c.Limit == 0 ? train.Count : Math.Min(c.Limit, train.Count);
        model["test_images"] = test.Count;
        model["batch"] = c.Batch;
        model["threads"] = c.Threads;
        model["cpu"] = CpuInfo.Current.Describe();
        model["isa"] = IsaTiers.Describe();
        var rows = new JsonArray();
        model["rows"] = rows;
        log.WriteLine($"{net}: dense test accuracy {denseAccuracy:P2}");

        var jobs = new List<(string Method, string Spelling, double Sparsity)>();
        foreach (string m in c.Methods)
        {
            if (TrainedPattern(m) is { } spelling)
            {
                var p = SparsityPattern.Parse(spelling);
                foreach (double s in p.SparsityIsFree ? c.Sparsities : [p.ResultingSparsity(0)]) jobs.Add((m, spelling, s));
            }
            else if (m == "tasd") foreach (var series in c.TasdSeries) jobs.Add((m, series, 0));
            else jobs.Add((m, "tasder", 0));
        }
        for (int j = 0; j < jobs.Count; j++)
        {
            var (method, spelling, sparsity) = jobs[j];
            string key = $"{method}-{spelling}-{sparsity.ToString("0.###", CultureInfo.InvariantCulture)}".Replace(':', '_').Replace('+', 'p');
            string rowFile = Path.Combine(dir, "rows", key + ".json");
            JsonObject row;
            JsonObject? cached = File.Exists(rowFile) ? JsonNode.Parse(File.ReadAllText(rowFile))!.AsObject() : null;
            if (cached is not null && !c.Retime) row = cached;
            else
            {
                // Retiming rebuilds a finished row from what the work folder holds (a trained row's complete checkpoint,
                // tasder's recorded choice) and measures its speed again; nothing is trained or searched again.
                var t0 = Stopwatch.StartNew();
                row = method switch
                {
                    "tasd" => TasdRow(c, denseGraph, spelling, test),
                    "tasder" when cached is not null => RetimedTasderRow(c, denseGraph, cached, test),
                    "tasder" => TasderRow(c, denseGraph, train, test, log),
                    _ => TrainedRow(c, denseOptions, denseCkpt, denseGraph, method, spelling, sparsity, train, test, Path.Combine(dir, "rows", key + ".ckpt"), log),
                };
                row["seconds"] = cached?["seconds"]?.GetValue<double>() ?? Math.Round(t0.Elapsed.TotalSeconds, 1);
                File.WriteAllText(rowFile, row.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            rows.Add(row);
            save();
            log.WriteLine($"[{net} {j + 1}/{jobs.Count}] {method} {spelling} sparsity {(double)row["sparsity"]!:F3}: accuracy {(double)row["accuracy"]!:P2} " +
                          $"(dense {denseAccuracy:P2}), {(double)row["speedup_vs_dense"]!:F2}x vs dense; {clock.Elapsed.TotalMinutes:F0} min so far");
        }
    }

    /// <summary>Gradual pruning from the dense checkpoint to <paramref name="sparsity"/> by the pattern, then fine-tuning.</summary>
    private static JsonObject TrainedRow(PruningStudyConfig c, TrainOptions dense, string denseCkpt, ModelGraph denseGraph, string method, string spelling,
        double sparsity, ImageDataset train, ImageDataset test, string ckpt, TextWriter log)
    {
        bool free = SparsityPattern.Parse(spelling).SparsityIsFree;
        var options = dense with
        {
            Epochs = c.PruneEpochs + c.FinetuneEpochs,
            TrainLimit = c.Limit,
            LearningRate = c.PruneLearningRate,
            PruneMethod = spelling,
            PruneSchedule = "gradual",
            PruneSparsity = free ? sparsity : 0,
            PruneStartEpoch = 0,
            PruneEndEpoch = c.PruneEpochs,
        };
        var (network, history) = TrainOrLoad(options, train, test, ckpt, denseCkpt, log, $"{dense.Network} {method} {sparsity:0.##}");
        var masked = network.ToGraph();
        var pruned = masked;
        double accuracy = history[^1].TestAccuracy;
        if (method == "channel")
        {
            // Training masks whole filters, but a masked filter still outputs its bias (and BN shift); the shrinker
            // removes the channel outright (the filters training zeroed go first: norm 0). What is deployed is the
            // shrunk graph, so its own test accuracy is the row's; the masked network's is kept beside it.
            pruned = ModelPruning.Prune(masked, "channel", sparsity).Graph;
            accuracy = ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(pruned, PassOptions.Dense), test, 250);
        }
        var timing = ModelEvaluation.TimeAgainstDense(denseGraph, pruned, c.Batch, c.Threads, c.Runs);
        var row = Row(method, MeasuredSparsity(masked), accuracy, timing, fineTuned: true);
        row["pattern"] = spelling;
        row["macs_removed"] = Round(method == "channel"
            ? 1 - LayerGeometry.Measure(pruned).Values.Sum(g => g.DenseMacs) / LayerGeometry.Measure(denseGraph).Values.Sum(g => g.DenseMacs) // removed in- and output channels
            : MacsRemoved(denseGraph, masked));
        if (method == "channel")
        {
            row["accuracy_masked"] = Round(history[^1].TestAccuracy);
            row["parameters_dense"] = denseGraph.Initializers.Values.Sum(t => (long)t.Length);
            row["parameters_after_shrink"] = pruned.Initializers.Values.Sum(t => (long)t.Length);
        }
        return row;
    }

    /// <summary>TASD-W: the dense weights replaced by a series' approximation, no fine-tuning.</summary>
    private static JsonObject TasdRow(PruningStudyConfig c, ModelGraph dense, string series, ImageDataset test)
    {
        var pruned = ModelPruning.Prune(dense, "tasd:" + series, 0).Graph;
        double accuracy = ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(pruned, PassOptions.Dense), test, 250);
        var row = Row("tasd", MeasuredSparsity(pruned), accuracy, ModelEvaluation.TimeAgainstDense(dense, pruned, c.Batch, c.Threads, c.Runs), fineTuned: false);
        row["pattern"] = series;
        row["macs_removed"] = Round(MacsRemoved(dense, pruned));
        return row;
    }

    /// <summary>TASDER at the configured budget, calibrated on the last training images, scored on the test set.</summary>
    private static JsonObject TasderRow(PruningStudyConfig c, ModelGraph dense, ImageDataset train, ImageDataset test, TextWriter log)
    {
        int n = Math.Min(c.CalibrationImages, train.Count);
        var calibration = train.Slice(train.Count - n, n);
        double Score(ModelGraph g) => ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(g, PassOptions.Dense), calibration, 250);
        double denseScore = Score(dense);
        var outcome = ModelPruning.Prune(dense, "tasder", 0,
            budget: new ModelPruning.TasderBudget(Score, c.TasderBudget * denseScore, t => log.WriteLine($"  tasder {t.Phase} {t.Layer} {t.Pattern}: {t.Score:P2}{(t.Accepted ? " (kept)" : "")}")));
        var pruned = outcome.Graph;
        double accuracy = ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(pruned, PassOptions.Dense), test, 250);
        var row = Row("tasder", MeasuredSparsity(pruned), accuracy, ModelEvaluation.TimeAgainstDense(dense, pruned, c.Batch, c.Threads, c.Runs), fineTuned: false);
        row["pattern"] = string.Join(", ", outcome.Layers.Select(l => $"{l.Name}={l.Pattern}"));
        row["macs_removed"] = Round(MacsRemoved(dense, pruned));
        row["calibration_accuracy_dense"] = Round(denseScore);
        row["calibration_accuracy"] = Round(outcome.Search?.Score ?? double.NaN);
        return row;
    }

    /// <summary>A finished TASDER row re-applied from its recorded per-layer choice ("layer=pattern, ..."), scored and timed again.</summary>
    private static JsonObject RetimedTasderRow(PruningStudyConfig c, ModelGraph dense, JsonObject cached, ImageDataset test)
    {
        var layers = PrunableLayer.Find(dense);
        var choice = new Dictionary<string, SparsityPattern?>(StringComparer.Ordinal);
        foreach (string part in ((string?)cached["pattern"] ?? "").Split(", ", StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            string layer = part[..eq], pattern = part[(eq + 1)..];
            choice[layer] = pattern == "dense" ? null : SparsityPattern.Parse(pattern);
        }
        var pruned = Tasder.Apply(dense, layers, choice);
        double accuracy = ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(pruned, PassOptions.Dense), test, 250);
        var row = Row("tasder", MeasuredSparsity(pruned), accuracy, ModelEvaluation.TimeAgainstDense(dense, pruned, c.Batch, c.Threads, c.Runs), fineTuned: false);
        foreach (string key in new[] { "pattern", "calibration_accuracy_dense", "calibration_accuracy" }) row[key] = cached[key]?.DeepClone();
        row["macs_removed"] = Round(MacsRemoved(dense, pruned));
        return row;
    }

    private static JsonObject Row(string method, double sparsity, double accuracy, ModelEvaluation.PlanTiming timing, bool fineTuned) => new()
    {
        ["method"] = method,
        ["sparsity"] = Round(sparsity),
        ["accuracy"] = Round(accuracy),
        ["speedup_vs_dense"] = Round(timing.Speedup, 3),
        ["fine_tuned"] = fineTuned,
        ["dense_ms"] = Round(timing.DenseMs, 4),
        ["pruned_ms"] = Round(timing.SparseMs, 4),
    };

    /// <summary>Trains (or resumes, or just loads when finished) the run whose checkpoint is <paramref name="ckpt"/>.</summary>
    private static (Network, IReadOnlyList<EpochReport>) TrainOrLoad(TrainOptions options, ImageDataset train, ImageDataset test, string ckpt, string? init, TextWriter log, string what)
    {
        var network = FashionNets.Build(options.Network, options.Width, options.Seed);
        var trainer = new Trainer(network, train, test, options) { CheckpointPath = ckpt };
        if (File.Exists(ckpt)) trainer.Restore(Checkpoint.Load(ckpt));
        else if (init is not null) trainer.LoadWeights(Checkpoint.Load(init));
        if (trainer.History.Count < options.Epochs)
        {
            log.WriteLine($"{what}: training {options.Epochs - trainer.History.Count} epoch(s)");
            trainer.Run(epochDone: r => log.WriteLine($"  {what} epoch {r.Epoch}/{options.Epochs}: test accuracy {r.TestAccuracy:P2}, {r.Seconds:F0} s"));
        }
        return (network, trainer.History);
    }

    /// <summary>Zero fraction over the layers the study prunes (every prunable layer but the first and the last).</summary>
    public static double MeasuredSparsity(ModelGraph g)
    {
        long zeros = 0, total = 0;
        foreach (var l in PrunableLayer.Select(PrunableLayer.Find(g), includeFirstLast: false))
        {
            var w = l.ReadMatrix(g);
            total += w.Length;
            foreach (float v in w) if (v == 0f) zeros++;
        }
        return total == 0 ? 0 : (double)zeros / total;
    }

    /// <summary>Fraction of the whole model's weight MACs (every prunable layer, first and last included) whose weight is zero.</summary>
    public static double MacsRemoved(ModelGraph dense, ModelGraph pruned)
    {
        var geometry = LayerGeometry.Measure(dense);
        double all = 0, removed = 0;
        foreach (var l in PrunableLayer.Find(pruned))
        {
            if (!geometry.TryGetValue(l.Name, out var geo)) continue;
            var w = l.ReadMatrix(pruned);
            int zeros = 0;
            foreach (float v in w) if (v == 0f) zeros++;
            all += geo.DenseMacs;
            removed += geo.DenseMacs * zeros / Math.Max(1, w.Length);
        }
        return all == 0 ? 0 : removed / all;
    }

    private static double Round(double v, int digits = 5) => double.IsFinite(v) ? Math.Round(v, digits) : double.NaN;

    private static void Save(JsonArray results, string path) =>
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true });
            results.WriteTo(w);
        });
}
