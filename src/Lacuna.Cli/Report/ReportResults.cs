namespace Lacuna.Cli.Report;

// What `lacuna report` reads, one record per kind of result file. Every number may be missing (null): results come
// from runs that measure different things (a prune without a calibration set has no accuracy), and a missing value is
// shown as "–" in the tables and left out of the charts, never drawn as zero.

/// <summary>One row of docs/pruning-study.json: a method at a sparsity, its test accuracy and measured speed-up.</summary>
public sealed record StudyRow(string Method, double? Sparsity, double? Accuracy, double? SpeedupVsDense, bool? FineTuned);

/// <summary>One model of the study file.</summary>
public sealed record StudyModel(string Source, string Dataset, string Model, double? DenseAccuracy, IReadOnlyList<StudyRow> Rows);

/// <summary>One layer of a <c>lacuna prune --json</c> result.</summary>
public sealed record PruneLayer(string Name, string? Op, int? Rows, int? Cols, string? Pattern, double? Sparsity, double? KeptNorm,
    double? EstimatedSpeedup, double? AcceleratorSpeedup, double? MeasuredSpeedup, string? Kernel, string? Note);

/// <summary>A <c>lacuna prune --json</c> result: the model-level numbers and the per-layer table.</summary>
public sealed record PruneResult(string Source, string Model, string? Output, string Method, double? Sparsity, double? DenseAccuracy,
    double? Accuracy, double? RelativeOutputError, double? MacsDense, double? MacsKept, double? MeasuredSpeedup,
    double? AcceleratorSpeedup, double? AcceleratorEnergyRatio, string? Cpu, string? Isa, int? Threads, int? Batch,
    IReadOnlyList<PruneLayer> Layers)
{
    /// <summary>The fraction of the dense model's multiply-adds the pruned one keeps, when both counts are given.</summary>
    public double? MacsKeptFraction => MacsDense is > 0 && MacsKept is { } k ? k / MacsDense : null;
}

/// <summary>One epoch of <c>lacuna train --json</c>'s history.</summary>
public sealed record TrainEpoch(int Epoch, double? TrainAccuracy, double? TestAccuracy, double? TrainLoss, double? TestLoss);

/// <summary>One pruned layer of a training run (present when the run pruned).</summary>
public sealed record TrainLayer(string Name, int? Rows, int? Cols, double? Sparsity, string? Pattern);

/// <summary>A <c>lacuna train --json</c> result.</summary>
public sealed record TrainResult(string Source, string Network, int? Threads, double? Seconds, double? TestAccuracy,
    IReadOnlyList<(string Name, string Value)> Options, IReadOnlyList<TrainEpoch> History, IReadOnlyList<TrainLayer> Layers);

/// <summary>One case of a benchmark (a model and pattern, a matrix, the summary) and its headline ratios.</summary>
public sealed record BenchRow(string Case, IReadOnlyList<(string Metric, double Value)> Ratios);

/// <summary>A <c>lacuna bench ... --json</c> result: the machine it ran on and its ratios.</summary>
public sealed record BenchResult(string Source, string Bench, string? Cpu, string? Tier, int? Threads, IReadOnlyList<BenchRow> Rows, int RowsLeftOut);

/// <summary>Everything the report shows, in the order the files were given.</summary>
public sealed class ReportData
{
    public List<StudyModel> Study { get; } = [];
    public List<PruneResult> Prunes { get; } = [];
    public List<TrainResult> Trains { get; } = [];
    public List<BenchResult> Benches { get; } = [];
    public List<string> Files { get; } = [];
    public bool IsEmpty => Study.Count + Prunes.Count + Trains.Count + Benches.Count == 0;
}
