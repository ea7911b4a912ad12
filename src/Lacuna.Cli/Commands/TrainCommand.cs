using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Threading;
using Lacuna.Training;
using Lacuna.Training.Data;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna train</c>: trains a VGG-style CNN or a small ResNet on Fashion-MNIST with the SparseTrain kernels, shows a
/// progress bar (loss, accuracy, images/s, ReLU sparsity per layer), checkpoints atomically after every epoch,
/// resumes with --resume, and exports the trained model to ONNX, which it then reloads in the inference engine and
/// checks against the trained network.
/// </summary>
public static class TrainCommand
{
    public const string DefaultData = ImageDataset.FashionMnistDirectory;

    public static Command Build()
    {
        var d = new TrainOptions();
        var net = new Option<string>("--net") { Description = "Network: vgg (no BN between conv and ReLU) or resnet.", DefaultValueFactory = _ => d.Network };
        var width = new Option<int>("--width") { Description = "Channels of the first stage (later stages double).", DefaultValueFactory = _ => d.Width };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => d.Epochs };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => d.BatchSize };
        var optimizer = new Option<string>("--optimizer") { Description = "adam (decoupled weight decay) or sgd (Nesterov momentum).", DefaultValueFactory = _ => d.Optimizer };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => d.LearningRate };
        var schedule = new Option<string>("--schedule") { Description = "cosine (with warm-up), step or constant.", DefaultValueFactory = _ => d.Schedule };
        var decay = new Option<float>("--weight-decay") { Description = "Weight decay (conv and FC weights only).", DefaultValueFactory = _ => d.WeightDecay };
        var noAugment = new Option<bool>("--no-augment") { Description = "Disable random flips and shifts." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, batch order, augmentation and dropout.", DefaultValueFactory = _ => d.Seed };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files (Debian dataset-fashion-mnist).", DefaultValueFactory = _ => DefaultData };
        var limit = new Option<int>("--limit") { Description = "Train on the first N images only (0 = all 60000)." };
        var testLimit = new Option<int>("--test-limit") { Description = "Evaluate on the first N test images only (0 = all 10000)." };
        var prune = new Option<double>("--prune") { Description = "Final sparsity of the conv/FC weights (the first conv and the last FC are left dense unless --prune-first-last)." };
        var pruneMethod = new Option<string>("--prune-method") { Description = "unstructured, global (one magnitude threshold across layers), block:RxC, nm:N:M, gs:V, channel (whole filters) or a TASD series such as 2:4+1:8.", DefaultValueFactory = _ => d.PruneMethod };
        var pruneSchedule = new Option<string>("--prune-schedule") { Description = "oneshot (prune at --prune-start, then train with fixed masks) or gradual (cubic ramp from --prune-initial at --prune-start to --prune at --prune-end, masks updated every --prune-every steps, then fine-tune). N:M and TASD prune once at --prune-start under either.", DefaultValueFactory = _ => d.PruneSchedule };
        var pruneInitial = new Option<double>("--prune-initial") { Description = "Sparsity at the start of the gradual ramp." };
        var pruneStart = new Option<double>("--prune-start") { Description = "Epoch where pruning starts (fractions allowed)." };
        var pruneEnd = new Option<double?>("--prune-end") { Description = "Epoch where the gradual ramp reaches --prune (default: two thirds of --epochs)." };
        var pruneEvery = new Option<int>("--prune-every") { Description = "Steps between mask updates during the ramp.", DefaultValueFactory = _ => d.PruneEverySteps };
        var pruneFirstLast = new Option<bool>("--prune-first-last") { Description = "Prune the first conv and the last FC too." };
        var pruneMinDensity = new Option<double>("--prune-min-density") { Description = "Least density --prune-method global leaves a layer.", DefaultValueFactory = _ => d.PruneMinDensity };
        var init = new Option<string?>("--init") { Description = "Start from the weights and BN statistics of this checkpoint (a trained dense model), with fresh optimizer and progress." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file, written atomically after every epoch (default: <net>.ckpt)." };
        var every = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps." };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint (its options win, except --epochs, --threads and --checkpoint-every)." };
        var output = new Option<string?>("--output", "-o") { Description = "ONNX file for the trained model (default: <net>.onnx)." };
        var profile = new Option<bool>("--profile") { Description = "Print the seconds each layer spent in forward and backward." };
        var json = CommonOptions.Json();
        var cmd = new Command("train", "Train a CNN on Fashion-MNIST with the SparseTrain kernels; checkpoint, resume, export ONNX.")
        {
            net, width, epochs, batch, optimizer, lr, schedule, decay, noAugment, seed, threads, data, limit, testLimit, prune,
            pruneMethod, pruneSchedule, pruneInitial, pruneStart, pruneEnd, pruneEvery, pruneFirstLast, pruneMinDensity, init,
            checkpoint, every, resume, output, profile, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            try
            {
                string? resumePath = pr.GetValue(resume);
                Checkpoint? ckpt = resumePath is null ? null : Checkpoint.Load(resumePath);
                var options = ckpt is not null
                    ? Trainer.OptionsOf(ckpt) with
                    {
                        Epochs = pr.GetResult(epochs) is null ? Trainer.OptionsOf(ckpt).Epochs : pr.GetValue(epochs),
                        CheckpointEverySteps = pr.GetValue(every),
                    }
                    : new TrainOptions
                    {
                        Network = pr.GetValue(net)!, Width = pr.GetValue(width), Epochs = pr.GetValue(epochs), BatchSize = pr.GetValue(batch),
                        Optimizer = pr.GetValue(optimizer)!, LearningRate = pr.GetValue(lr), Schedule = pr.GetValue(schedule)!,
                        WeightDecay = pr.GetValue(decay), Augment = !pr.GetValue(noAugment), Seed = pr.GetValue(seed),
                        TrainLimit = pr.GetValue(limit), TestLimit = pr.GetValue(testLimit), PruneSparsity = pr.GetValue(prune),
                        CheckpointEverySteps = pr.GetValue(every),
                        PruneMethod = pr.GetValue(pruneMethod)!, PruneSchedule = pr.GetValue(pruneSchedule)!,
                        PruneInitialSparsity = pr.GetValue(pruneInitial), PruneStartEpoch = pr.GetValue(pruneStart),
                        PruneEndEpoch = pr.GetValue(pruneEnd) ?? pr.GetValue(epochs) * 2.0 / 3.0, // fixed now, so a resume with more --epochs keeps the ramp
                        PruneEverySteps = pr.GetValue(pruneEvery),
                        PruneFirstAndLast = pr.GetValue(pruneFirstLast), PruneMinDensity = pr.GetValue(pruneMinDensity),
                    };
                options.Validate();
                string ckptPath = pr.GetValue(checkpoint) ?? resumePath ?? $"{options.Network}.ckpt";
                string onnxPath = pr.GetValue(output) ?? $"{options.Network}.onnx";
                string? initPath = pr.GetValue(init);
                if (initPath is not null && ckpt is not null) { Console.Error.WriteLine("train: --init and --resume exclude each other (a resumed run has its own weights)."); return 2; }
                Checkpoint? initial = initPath is null ? null : Checkpoint.Load(initPath);
                return Run(options, ckpt, initial, ckptPath, onnxPath, pr.GetValue(data)!, t, pr.GetValue(json), pr.GetValue(profile));
            }
            catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException or IOException or ArithmeticException)
            {
                Console.Error.WriteLine($"train: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    /// <summary>Exit code after SIGTERM (128 + 15, what a shell reports for a TERM death) once the checkpoint is written.</summary>
    public const int TerminatedExitCode = 143;

    private static int Run(TrainOptions options, Checkpoint? resume, Checkpoint? initial, string ckptPath, string onnxPath, string dataDir, int threads, bool json, bool profile)
    {
        WorkerPool.DefaultThreads = threads;
        var train = ImageDataset.LoadFashionMnist(dataDir, train: true);
        var test = ImageDataset.LoadFashionMnist(dataDir, train: false);
        var network = FashionNets.Build(options.Network, options.Width, options.Seed);
        network.Threads = threads;
        if (profile) network.Body.Timings = [];
        var trainer = new Trainer(network, train, test, options) { CheckpointPath = ckptPath };
        if (initial is not null) trainer.LoadWeights(initial);
        if (resume is not null) trainer.Restore(resume);
        var log = Console.Error;
        log.WriteLine($"{network.Name}: {network.ParameterCount:N0} parameters, {network.Convs.Count()} convs; {trainer.Optimizer.Describe()}, " +
                      $"lr {options.LearningRate} {options.Schedule}, batch {options.BatchSize}, {options.Epochs} epochs, {threads} thread(s); " +
                      $"{IsaTiers.Describe()}");
        if (trainer.Pruning is { } pruning && trainer.PruningSchedule is { } ps)
            log.WriteLine($"pruning: {pruning.Method} to {ps.FinalSparsity:P0}, {ps.Kind}" +
                          (ps.Kind == "gradual" && !ps.FixedPattern ? $" from {ps.InitialSparsity:P0} over steps {ps.StartStep}-{ps.EndStep} every {ps.EverySteps}" : $" at step {ps.StartStep}") +
                          $"; {pruning.Layers.Count(l => l.Included)} of {pruning.Layers.Count} weights (" +
                          (options.PruneFirstAndLast ? "first conv and last FC included" : "first conv and last FC dense") + ")");
        if (trainer.History.Count > 0) log.WriteLine($"resumed from {ckptPath} after epoch {trainer.History.Count}");

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); log.WriteLine("\nstopping: checkpointing the current step…"); };
        Console.CancelKeyPress += onCancel;
        // A container stop or a scheduler's preemption sends SIGTERM: checkpoint the current step as Ctrl+C does.
        bool terminated = false;
        using var onTerm = OperatingSystem.IsWindows() ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
            {
                ctx.Cancel = true; terminated = true;
                if (!cancel.IsCancellationRequested) { cancel.Cancel(); log.WriteLine("\nterminated: checkpointing the current step…"); }
            });
        var bar = new ProgressLine(log);
        var wall = Stopwatch.StartNew();
        try
        {
            trainer.Run(bar.Update, r =>
            {
                bar.Finish();
                log.WriteLine($"epoch {r.Epoch}/{options.Epochs}: train loss {r.TrainLoss:F4} acc {r.TrainAccuracy:P2} | test loss {r.TestLoss:F4} " +
                              $"acc {r.TestAccuracy:P2} | {r.Seconds:F0} s, {r.ImagesPerSecond:F0} img/s, sparse passes {r.SparsePassFraction:P0} → {ckptPath}");
            }, cancel.Token);
        }
        finally { Console.CancelKeyPress -= onCancel; }
        if (cancel.IsCancellationRequested)
        {
            bar.Finish();
            log.WriteLine($"stopped; resume with: lacuna train --resume {ckptPath}");
            return terminated ? TerminatedExitCode : 130;
        }
        double trainSeconds = wall.Elapsed.TotalSeconds;

        PrintSparsityTable(log, trainer.History);
        if (trainer.Pruning is { } pruned)
        {
            log.WriteLine("weight sparsity per layer (rows × cols, pattern):");
            foreach (var l in pruned.Layers)
                log.WriteLine($"  {l.Name,-22} {l.Rows,5} × {l.Cols,-6} {l.Sparsity,7:F4} {(l.Included ? pruned.Method : "dense")}");
        }
        if (network.Body.Timings is { } timings)
        {
            log.WriteLine("seconds per layer (training and evaluation):   forward  backward");
            foreach (var (layer, (f, b)) in timings) log.WriteLine($"  {layer,-30} {f,8:F2} {b,9:F2}");
            log.WriteLine($"  {"total",-30} {timings.Values.Sum(v => v.Forward),8:F2} {timings.Values.Sum(v => v.Backward),9:F2}");
        }
        var graph = network.ToGraph();
        OnnxGraphExporter.ToModel(graph, "lacuna train").Save(onnxPath);
        var check = CheckExport(onnxPath, network, test);
        log.WriteLine($"exported {onnxPath}; reloaded in the inference engine: max |Δlogit| {check.MaxDiff:G3} over {check.Images} test images, " +
                      $"accuracy there {check.Accuracy:P2}");
        var last = trainer.History[^1];
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                command = "train", network = network.Name, options, threads, seconds = trainSeconds,
                test_accuracy = last.TestAccuracy, onnx = onnxPath, onnx_max_abs_diff = check.MaxDiff, history = trainer.History,
                pruning = trainer.PruningSchedule, layers = LayerTable(network, trainer.Pruning),
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
            Console.WriteLine($"{network.Name}: test accuracy {last.TestAccuracy:P2} after {trainer.History.Count} epochs, {trainSeconds:F0} s this run");
        return 0;
    }

    /// <summary>Every conv and FC weight as a matrix, its final sparsity and the pattern it was pruned to ("dense" if not).</summary>
    internal static object[] LayerTable(Network network, LayerPruning? pruning)
    {
        var layers = pruning?.Layers ?? new LayerPruning(network, "unstructured").Layers;
        return layers.Select(l => (object)new
        {
            name = l.Name, rows = l.Rows, cols = l.Cols, sparsity = l.Sparsity,
            pattern = pruning is not null && l.Included ? pruning.Method : "dense",
        }).ToArray();
    }

    private static void PrintSparsityTable(TextWriter log, IReadOnlyList<EpochReport> history)
    {
        if (history.Count == 0) return;
        var layers = history[0].ReluSparsity.Keys.ToArray();
        log.WriteLine("ReLU output sparsity (mean over each epoch's training steps):");
        log.WriteLine($"  {"layer",-22}" + string.Concat(history.Select(h => $" {"ep" + h.Epoch,6}")));
        foreach (string l in layers)
            log.WriteLine($"  {l,-22}" + string.Concat(history.Select(h => $" {h.ReluSparsity.GetValueOrDefault(l),6:F3}")));
        log.WriteLine("zero fraction of each conv's output gradient dy (what BWI skips):");
        foreach (string l in history[0].ConvGradientZeros.Keys)
            log.WriteLine($"  {l,-22}" + string.Concat(history.Select(h => $" {h.ConvGradientZeros.GetValueOrDefault(l),6:F3}")));
        log.WriteLine($"  {"test accuracy",-22}" + string.Concat(history.Select(h => $" {h.TestAccuracy,6:F4}")));
        log.WriteLine($"  {"seconds",-22}" + string.Concat(history.Select(h => $" {h.Seconds,6:F0}")));
    }

    /// <summary>Reloads the exported model and compares its logits with the trained network's on test images.</summary>
    internal static (double MaxDiff, double Accuracy, int Images) CheckExport(string onnxPath, Network network, ImageDataset test, int images = 500)
    {
        images = Math.Min(images, test.Count);
        var session = InferenceSession.Create(OnnxGraphImporter.Load(onnxPath));
        int pixels = test.Height * test.Width;
        using var x = Tensor.FromArray(test.Images.AsSpan(0, images * pixels), images, 1, test.Height, test.Width);
        var outputs = session.Run(new Dictionary<string, Tensor> { [session.RuntimeInputs[0].Name] = x });
        var logits = outputs.Values.First().Span;
        var expected = network.Forward(new FeatureMap(test.Images.AsSpan(0, images * pixels).ToArray(), images, 1, test.Height, test.Width), training: false);
        double max = 0;
        int correct = 0, k = network.Classes;
        for (int b = 0; b < images; b++)
        {
            int arg = 0;
            for (int i = 0; i < k; i++)
            {
                max = Math.Max(max, Math.Abs(logits[b * k + i] - expected.Data[b * k + i]));
                if (logits[b * k + i] > logits[b * k + arg]) arg = i;
            }
            if (arg == test.Labels[b]) correct++;
        }
        foreach (var t in outputs.Values) t.Dispose();
        return (max, (double)correct / images, images);
    }

    /// <summary>One redrawn status line on a terminal; a line per tenth of an epoch when redirected.</summary>
    private sealed class ProgressLine(TextWriter log)
    {
        private readonly bool _tty = !Console.IsErrorRedirected;
        private long _last;
        private int _lastTenth = -1;

        public void Update(TrainStep s)
        {
            int tenth = s.Step * 10 / s.StepsPerEpoch;
            if (_tty && Stopwatch.GetElapsedTime(_last).TotalMilliseconds < 200 && s.Step != s.StepsPerEpoch) return;
            if (!_tty && tenth == _lastTenth) return;
            _last = Stopwatch.GetTimestamp(); _lastTenth = tenth;
            int filled = s.Step * 20 / s.StepsPerEpoch;
            string sparsity = string.Join(" ", s.ReluSparsity.Select(r => $"{r.Sparsity:F2}"));
            string prune = double.IsNaN(s.PruneTarget) ? "" : $"prune {s.PruneTarget:P1} ";
            string line = $"ep {s.Epoch}/{s.Epochs} [{new string('#', filled)}{new string('.', 20 - filled)}] {s.Step}/{s.StepsPerEpoch} " +
                          $"loss {s.Loss:F4} acc {s.Accuracy:P1} {s.ImagesPerSecond:F0} img/s lr {s.LearningRate:G3} {prune}relu sparsity {sparsity}";
            int width = Console.WindowWidth > 20 ? Console.WindowWidth - 1 : 160;
            if (_tty) log.Write("\r" + (line.Length > width ? line[..width] : line) + "\x1b[K");
            else log.WriteLine(line);
        }

        public void Finish()
        {
            if (_tty) log.WriteLine();
            _lastTenth = -1;
        }
    }
}
