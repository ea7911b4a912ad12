using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Kernels.Train;
using Lacuna.Pruning;
using Lacuna.Training.Data;
using Lacuna.Training.Layers;
using Lacuna.Training.Optim;

namespace Lacuna.Training;

/// <summary>
/// Trains a <see cref="Network"/> on an <see cref="ImageDataset"/> with softmax cross-entropy: seeded shuffled batches,
/// the optimizer and schedule of <see cref="TrainOptions"/>, evaluation on the test set after every epoch, and an
/// atomic checkpoint after every epoch (and every <see cref="TrainOptions.CheckpointEverySteps"/>). A run resumed from a
/// checkpoint continues at the step it stopped at with the same batch order and dropout masks.
/// </summary>
public sealed class Trainer
{
    private readonly ImageDataset _train, _test;
    private readonly Optimizer _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly List<EpochReport> _history = [];
    private int _epoch, _stepInEpoch;
    private long _globalStep;
    private long _prunedAt = -1; // the global step of the last mask update (-1: none yet)

    public Trainer(Network network, ImageDataset train, ImageDataset test, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options.Validate();
        Network = network; Options = options;
        _train = options.TrainLimit > 0 ? train.Slice(0, Math.Min(options.TrainLimit, train.Count)) : train;
        _test = options.TestLimit > 0 ? test.Slice(0, Math.Min(options.TestLimit, test.Count)) : test;
        if (_train.Height != network.Height || _train.Width != network.Width)
            ThrowHelper.Shape(nameof(train), $"Images are {_train.Height}x{_train.Width}; network '{network.Name}' takes {network.Height}x{network.Width}.");
        var ps = network.Parameters;
        _optimizer = options.Optimizer == "sgd"
            ? new Sgd(ps, options.Momentum, options.WeightDecay)
            : new Adam(ps, weightDecay: options.WeightDecay);
        _schedule = LearningRateSchedule.Parse(options.Schedule, options.LearningRate);
        if (options.Prunes)
        {
            Pruning = new LayerPruning(network, options.PruneMethod, options.PruneFirstAndLast, options.PruneMinDensity);
            bool fixedPattern = !Pruning.Pattern.SparsityIsFree;
            long total = (long)options.Epochs * StepsPerEpoch;
            // Updates run before a step, so the last one must be before the last step: clamp into [0, total − 1].
            long end = Math.Clamp((long)Math.Round(options.PruneEndEpochOrDefault * StepsPerEpoch), 0, total - 1);
            long start = Math.Clamp((long)Math.Round(options.PruneStartEpoch * StepsPerEpoch), 0, end);
            PruningSchedule = new PruningSchedule(options.PruneSchedule, options.PruneInitialSparsity,
                Pruning.Pattern.ResultingSparsity(options.PruneSparsity), start, end, options.PruneEverySteps, fixedPattern);
        }
    }

    /// <summary>The layers the schedule prunes and how (null for a dense run).</summary>
    public LayerPruning? Pruning { get; }
    /// <summary>When masks are updated, in global steps (null for a dense run).</summary>
    public PruningSchedule? PruningSchedule { get; }
    public long GlobalStep => _globalStep;

    /// <summary>
    /// Recomputes the masks when the schedule has an update at the current step and it has not run yet (Run calls this
    /// before every step; a resumed run knows from its checkpoint whether the update at its step already ran).
    /// </summary>
    public void PruneIfDue()
    {
        if (Pruning is null || PruningSchedule is null || _prunedAt == _globalStep || !PruningSchedule.IsDue(_globalStep)) return;
        Pruning.PruneTo(PruningSchedule.TargetAt(_globalStep));
        _prunedAt = _globalStep;
    }

    /// <summary>The sparsity the masks were last set to (0 before the first update).</summary>
    public double CurrentPruneTarget => _prunedAt >= 0 && PruningSchedule is not null ? PruningSchedule.TargetAt(_prunedAt) : 0;

    public Network Network { get; }
    public TrainOptions Options { get; }
    public IReadOnlyList<EpochReport> History => _history;
    public int StepsPerEpoch => (_train.Count + Options.BatchSize - 1) / Options.BatchSize;
    public string CheckpointPath { get; set; } = "";
    public Optimizer Optimizer => _optimizer;

    /// <summary>Magnitude-prunes every conv and FC weight to <paramref name="sparsity"/> and fixes the masks.</summary>
    public static void PruneWeights(Network network, double sparsity)
    {
        foreach (var p in network.Parameters.Where(p => p.Kind == ParameterKind.Weight))
        {
            Pruner.Magnitude(p.Value, sparsity);
            p.FreezeSparsityPattern();
        }
    }

    /// <summary>
    /// Runs the remaining epochs. On cancellation, writes a checkpoint at the current step (when a path is set) and
    /// returns early; the history then ends at the last finished epoch.
    /// </summary>
    public IReadOnlyList<EpochReport> Run(Action<TrainStep>? progress = null, Action<EpochReport>? epochDone = null,
        CancellationToken cancel = default)
    {
        var dropouts = Network.Leaves.OfType<Dropout>().ToArray();
        var relus = Network.Relus.ToArray();
        var convs = Network.Convs.ToArray();
        long totalSteps = (long)Options.Epochs * StepsPerEpoch;
        var logitGrad = new float[Options.BatchSize * Network.Classes];
        while (_epoch < Options.Epochs)
        {
            var sw = Stopwatch.StartNew();
            double lossSum = 0; long correct = 0, seen = 0;
            var reluSum = new double[relus.Length];
            var xZeros = new double[convs.Length];
            var dyZeros = new double[convs.Length];
            long passes = 0, sparsePasses = 0;
            int step = 0, measured = 0;
            foreach (var (images, labels) in _train.Batches(Options.BatchSize, EpochSeed(_epoch), Options.Augment))
            {
                using var imagesTensor = images;
                if (step++ < _stepInEpoch) continue;
                if (cancel.IsCancellationRequested) { SaveCheckpoint(); return _history; }
                PruneIfDue();
                foreach (var d in dropouts) d.Reseed(Options.Seed * 0x9E3779B97F4A7C15UL + (ulong)_globalStep);
                var x = new FeatureMap(images.Span.ToArray(), labels.Length, 1, _train.Height, _train.Width);
                var logits = Network.Forward(x, training: true);
                var (loss, ok) = SoftmaxCrossEntropy.Compute(logits, labels, logitGrad);
                Network.Backward(new FeatureMap(logitGrad, logits.N, logits.C, 1, 1));
                double lr = _schedule.At(_globalStep, totalSteps);
                _optimizer.Step(lr);
                _globalStep++; _stepInEpoch++;
                lossSum += loss * labels.Length; correct += ok; seen += labels.Length; measured++;
                for (int i = 0; i < relus.Length; i++) reluSum[i] += relus[i].LastSparsity;
                for (int i = 0; i < convs.Length; i++)
                {
                    var s = convs[i].LastStats;
                    if (!double.IsNaN(s.InputZeros)) xZeros[i] += s.InputZeros;
                    if (!double.IsNaN(s.GradientZeros)) dyZeros[i] += s.GradientZeros;
                    passes += 2 + (convs[i].NeedsInputGradient ? 1 : 0);
                    sparsePasses += (s.ForwardMode == ConvTrainMode.Sparse ? 1 : 0) + (s.BackwardWeights == ConvTrainMode.Sparse ? 1 : 0)
                                  + (convs[i].NeedsInputGradient && s.BackwardInput == ConvTrainMode.Sparse ? 1 : 0);
                }
                progress?.Invoke(new TrainStep(_epoch + 1, Options.Epochs, _stepInEpoch, StepsPerEpoch, lossSum / seen, (double)correct / seen,
                    seen / sw.Elapsed.TotalSeconds, lr, relus.Select(r => (r.Name, r.LastSparsity)).ToArray(),
                    Pruning is null ? double.NaN : CurrentPruneTarget));
                if (Options.CheckpointEverySteps > 0 && _globalStep % Options.CheckpointEverySteps == 0) SaveCheckpoint();
            }
            double seconds = sw.Elapsed.TotalSeconds;
            var (testLoss, testAcc) = Evaluate(_test);
            int m = Math.Max(1, measured);
            var report = new EpochReport
            {
                Epoch = _epoch + 1,
                TrainLoss = seen > 0 ? lossSum / seen : double.NaN,
                TrainAccuracy = seen > 0 ? (double)correct / seen : double.NaN,
                TestLoss = testLoss,
                TestAccuracy = testAcc,
                Seconds = seconds,
                ImagesPerSecond = seen / seconds,
                ReluSparsity = relus.Select((r, i) => (r.Name, reluSum[i] / m)).ToDictionary(),
                ConvInputZeros = convs.Select((c, i) => (c.Name, xZeros[i] / m)).ToDictionary(),
                ConvGradientZeros = convs.Select((c, i) => (c.Name, dyZeros[i] / m)).ToDictionary(),
                SparsePassFraction = passes == 0 ? 0 : (double)sparsePasses / passes,
            };
            _history.Add(report);
            _epoch++; _stepInEpoch = 0; // the checkpoint resumes at the next epoch's first step
            SaveCheckpoint();
            epochDone?.Invoke(report);
        }
        return _history;
    }

    /// <summary>Mean loss and accuracy of the network in inference mode.</summary>
    public (double Loss, double Accuracy) Evaluate(ImageDataset data, int batch = 250)
    {
        double loss = 0; long correct = 0;
        int pixels = data.Height * data.Width;
        for (int start = 0; start < data.Count; start += batch)
        {
            int n = Math.Min(batch, data.Count - start);
            var x = new FeatureMap(data.Images.AsSpan(start * pixels, n * pixels).ToArray(), n, 1, data.Height, data.Width);
            var logits = Network.Forward(x, training: false);
            var (l, ok) = SoftmaxCrossEntropy.Compute(logits, data.Labels.AsSpan(start, n), default);
            loss += l * n; correct += ok;
        }
        return (loss / data.Count, (double)correct / data.Count);
    }

    private ulong EpochSeed(int epoch) => Options.Seed * 1_000_003UL + (ulong)epoch;

    // ---- checkpoints ----

    public void SaveCheckpoint()
    {
        if (string.IsNullOrEmpty(CheckpointPath)) return;
        ToCheckpoint().Save(CheckpointPath);
    }

    public Checkpoint ToCheckpoint()
    {
        var meta = new JsonObject
        {
            ["format"] = "lacuna-training-checkpoint",
            ["network"] = Network.Name,
            ["options"] = JsonSerializer.SerializeToNode(Options),
            ["epoch"] = _epoch,
            ["step_in_epoch"] = _stepInEpoch,
            ["global_step"] = _globalStep,
            ["prune_last_step"] = _prunedAt,
            ["optimizer_steps"] = _optimizer.Steps,
            ["history"] = JsonSerializer.SerializeToNode(_history),
        };
        var arrays = new List<(string, float[])>();
        foreach (var p in Network.Parameters)
        {
            arrays.Add(("param:" + p.Name, p.Value));
            if (p.Mask is { } mask) arrays.Add(("mask:" + p.Name, Array.ConvertAll(mask, b => b ? 1f : 0f)));
        }
        foreach (var (name, data) in Network.Buffers) arrays.Add(("buffer:" + name, data));
        foreach (var (name, data) in _optimizer.State()) arrays.Add(("optim:" + name, data));
        return new Checkpoint(meta, arrays);
    }

    /// <summary>The options a checkpoint was written with (to rebuild its network before <see cref="Restore"/>).</summary>
    public static TrainOptions OptionsOf(Checkpoint c) =>
        c.Metadata["options"]?.Deserialize<TrainOptions>() ?? throw new LacunaFormatException("checkpoint", "metadata has no 'options'.");

    /// <summary>
    /// Starts this run from another run's trained weights (`--init`): parameters and BatchNorm statistics only, not its
    /// masks, optimizer state or progress, so a dense model can be pruned many ways. Every array must match this network.
    /// </summary>
    public void LoadWeights(Checkpoint c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if ((string?)c.Metadata["network"] != Network.Name)
            ThrowHelper.Format("checkpoint", $"it holds network '{c.Metadata["network"]}', not '{Network.Name}'.");
        var arrays = c.Arrays.ToDictionary(a => a.Name, a => a.Data, StringComparer.Ordinal);
        var targets = Network.Parameters.Select(p => ("param:" + p.Name, p.Value)).Concat(Network.Buffers.Select(b => ("buffer:" + b.Name, b.Data)));
        foreach (var (name, target) in targets)
        {
            if (!arrays.TryGetValue(name, out var data)) ThrowHelper.Format("checkpoint", $"array '{name}' is missing.");
            if (data.Length != target.Length) ThrowHelper.Format("checkpoint", $"array '{name}' has {data.Length} values; the network needs {target.Length}.");
            data.CopyTo(target, 0);
        }
    }

    /// <summary>Loads weights, masks, statistics, optimizer state and progress; every array must match this network.</summary>
    public void Restore(Checkpoint c)
    {
        if ((string?)c.Metadata["network"] != Network.Name)
            ThrowHelper.Format("checkpoint", $"it holds network '{c.Metadata["network"]}', not '{Network.Name}'.");
        var arrays = c.Arrays.ToDictionary(a => a.Name, a => a.Data, StringComparer.Ordinal);
        void Take(string name, float[] target)
        {
            if (!arrays.Remove(name, out var data)) ThrowHelper.Format("checkpoint", $"array '{name}' is missing.");
            if (data.Length != target.Length) ThrowHelper.Format("checkpoint", $"array '{name}' has {data.Length} values; the network needs {target.Length}.");
            data.CopyTo(target, 0);
        }
        foreach (var p in Network.Parameters)
        {
            Take("param:" + p.Name, p.Value);
            if (arrays.Remove("mask:" + p.Name, out var mask))
            {
                if (mask.Length != p.Length) ThrowHelper.Format("checkpoint", $"mask of '{p.Name}' has {mask.Length} values; the parameter has {p.Length}.");
                p.SetMask(Array.ConvertAll(mask, v => v != 0f));
            }
        }
        foreach (var (name, data) in Network.Buffers) Take("buffer:" + name, data);
        foreach (var (name, data) in _optimizer.State()) Take("optim:" + name, data);
        if (arrays.Count > 0) ThrowHelper.Format("checkpoint", $"array '{arrays.Keys.First()}' does not belong to network '{Network.Name}'.");
        _epoch = (int?)c.Metadata["epoch"] ?? 0;
        _stepInEpoch = (int?)c.Metadata["step_in_epoch"] ?? 0;
        _globalStep = (long?)c.Metadata["global_step"] ?? 0;
        _prunedAt = (long?)c.Metadata["prune_last_step"] ?? -1;
        _optimizer.Steps = (long?)c.Metadata["optimizer_steps"] ?? 0;
        _history.Clear();
        if (c.Metadata["history"]?.Deserialize<List<EpochReport>>() is { } h) _history.AddRange(h);
    }
}
