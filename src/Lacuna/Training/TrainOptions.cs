namespace Lacuna.Training;

/// <summary>
/// How to train. Defaults are those `lacuna train --net vgg` uses: Adam at 2e-3 with a cosine schedule and
/// light augmentation, batch 64, 6 epochs.
/// </summary>
public sealed record TrainOptions
{
    public string Network { get; init; } = "vgg";
    public int Width { get; init; } = 32;
    public int Epochs { get; init; } = 6;
    public int BatchSize { get; init; } = 64;
    /// <summary>"adam" or "sgd".</summary>
    public string Optimizer { get; init; } = "adam";
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>"cosine", "step" or "constant".</summary>
    public string Schedule { get; init; } = "cosine";
    public float WeightDecay { get; init; } = 1e-4f;
    public float Momentum { get; init; } = 0.9f;
    public bool Augment { get; init; } = true;
    public ulong Seed { get; init; } = 1;
    /// <summary>Use only the first N training images (0 = all): for quick runs and tests.</summary>
    public int TrainLimit { get; init; }
    /// <summary>Evaluate on only the first N test images (0 = all).</summary>
    public int TestLimit { get; init; }
    /// <summary>The final sparsity of the pruned conv and FC weights (0 = dense unless the method fixes its own, as N:M does).</summary>
    public double PruneSparsity { get; init; }
    /// <summary>A <see cref="Pruning.SparsityPattern"/> spelling (unstructured, block:RxC, nm:N:M, gs:V, channel, 2:4+1:8) or "global".</summary>
    public string PruneMethod { get; init; } = "unstructured";
    /// <summary>"oneshot" (prune once at <see cref="PruneStartEpoch"/>) or "gradual" (cubic ramp to <see cref="PruneEndEpoch"/>).</summary>
    public string PruneSchedule { get; init; } = "oneshot";
    /// <summary>s_i of the gradual ramp.</summary>
    public double PruneInitialSparsity { get; init; }
    /// <summary>Where pruning starts, in epochs (fractions allowed).</summary>
    public double PruneStartEpoch { get; init; }
    /// <summary>Where the gradual ramp reaches the final sparsity, in epochs (null = two thirds of <see cref="Epochs"/>).</summary>
    public double? PruneEndEpoch { get; init; }
    /// <summary>Steps between mask updates during the gradual ramp.</summary>
    public int PruneEverySteps { get; init; } = 50;
    /// <summary>Prune the first conv and the last FC too (excluded by default).</summary>
    public bool PruneFirstAndLast { get; init; }
    /// <summary>The least density "global" leaves any layer.</summary>
    public double PruneMinDensity { get; init; } = Pruning.GlobalMagnitude.DefaultMinDensity;

    /// <summary>Whether any weight is pruned: a sparsity is asked, or the method fixes its own (N:M, TASD).</summary>
    public bool Prunes => PruneSparsity > 0 || PruneMethod != "global" && !Pruning.SparsityPattern.Parse(PruneMethod).SparsityIsFree;

    public double PruneEndEpochOrDefault => PruneEndEpoch ?? Epochs * 2.0 / 3.0;
    /// <summary>Also write the checkpoint every this many steps (0 = at the end of each epoch only).</summary>
    public int CheckpointEverySteps { get; init; }

    public void Validate()
    {
        if (!FashionNets.Names.Contains(Network)) ThrowHelper.Argument(nameof(Network), $"Unknown network '{Network}' (known: {string.Join(", ", FashionNets.Names)}).");
        if (Width < 1) ThrowHelper.OutOfRange(nameof(Width), Width, "Width must be at least 1.");
        if (Epochs < 1) ThrowHelper.OutOfRange(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (BatchSize < 1) ThrowHelper.OutOfRange(nameof(BatchSize), BatchSize, "Batch size must be at least 1.");
        if (Optimizer is not ("adam" or "sgd")) ThrowHelper.Argument(nameof(Optimizer), $"Unknown optimizer '{Optimizer}' (adam, sgd).");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) ThrowHelper.OutOfRange(nameof(LearningRate), LearningRate, "The learning rate must be positive and finite.");
        Optim.LearningRateSchedule.Parse(Schedule, LearningRate);
        if (!(PruneSparsity >= 0 && PruneSparsity < 1)) ThrowHelper.OutOfRange(nameof(PruneSparsity), PruneSparsity, "Pruning sparsity must be in [0, 1).");
        if (PruneMethod != "global") Pruning.SparsityPattern.Parse(PruneMethod); // throws naming the families
        if (!Pruning.PruningSchedule.Kinds.Contains(PruneSchedule))
            ThrowHelper.Argument(nameof(PruneSchedule), $"Unknown pruning schedule '{PruneSchedule}' (oneshot, gradual).");
        if (!(PruneInitialSparsity >= 0 && PruneInitialSparsity <= PruneSparsity || PruneInitialSparsity == 0))
            ThrowHelper.OutOfRange(nameof(PruneInitialSparsity), PruneInitialSparsity, "The initial pruning sparsity must be in [0, the final sparsity].");
        double end = PruneEndEpochOrDefault;
        if (!(PruneStartEpoch >= 0 && PruneStartEpoch <= Epochs) || !(end >= PruneStartEpoch && end <= Epochs))
            ThrowHelper.OutOfRange(nameof(PruneEndEpoch), $"{PruneStartEpoch}..{end}", $"Pruning must start and end within the {Epochs} epochs, start <= end.");
        if (PruneEverySteps < 1) ThrowHelper.OutOfRange(nameof(PruneEverySteps), PruneEverySteps, "Steps between mask updates must be at least 1.");
        if (!(PruneMinDensity >= 0 && PruneMinDensity <= 1)) ThrowHelper.OutOfRange(nameof(PruneMinDensity), PruneMinDensity, "The minimum density must be in [0, 1].");
        if (TrainLimit < 0 || TestLimit < 0 || CheckpointEverySteps < 0)
            ThrowHelper.OutOfRange(nameof(TrainLimit), $"{TrainLimit}/{TestLimit}/{CheckpointEverySteps}", "Limits and intervals must be non-negative.");
    }
}

/// <summary>One epoch's results; mean sparsities are over the epoch's training steps.</summary>
public sealed record EpochReport
{
    public int Epoch { get; init; }
    public double TrainLoss { get; init; }
    public double TrainAccuracy { get; init; }
    public double TestLoss { get; init; }
    public double TestAccuracy { get; init; }
    public double Seconds { get; init; }
    public double ImagesPerSecond { get; init; }
    /// <summary>Mean fraction of zeros each ReLU wrote.</summary>
    public Dictionary<string, double> ReluSparsity { get; init; } = [];
    /// <summary>Per conv: mean zero fraction of its input x and of its output gradient dy.</summary>
    public Dictionary<string, double> ConvInputZeros { get; init; } = [];
    public Dictionary<string, double> ConvGradientZeros { get; init; } = [];
    /// <summary>Fraction of FWD/BWI/BWW passes that ran the sparse kernels.</summary>
    public double SparsePassFraction { get; init; }
}

/// <summary>Progress of one training step, for a progress bar.</summary>
public readonly record struct TrainStep(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double Accuracy,
    double ImagesPerSecond, double LearningRate, IReadOnlyList<(string Layer, double Sparsity)> ReluSparsity, double PruneTarget = double.NaN);
