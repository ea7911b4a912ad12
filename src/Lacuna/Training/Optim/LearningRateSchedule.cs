namespace Lacuna.Training.Optim;

/// <summary>The learning rate at a step (0-based) of a run of <c>totalSteps</c>.</summary>
public abstract record LearningRateSchedule(double BaseRate)
{
    public abstract double At(long step, long totalSteps);

    /// <summary>Parses <c>constant</c>, <c>cosine</c> or <c>step</c> (×0.1 at 50% and 75% of the run).</summary>
    public static LearningRateSchedule Parse(string name, double baseRate, double warmupFraction = 0.02) => name switch
    {
        "constant" => new ConstantSchedule(baseRate),
        "cosine" => new CosineSchedule(baseRate, warmupFraction),
        "step" => new StepSchedule(baseRate, [0.5, 0.75], 0.1),
        _ => throw new ArgumentException($"Unknown learning-rate schedule '{name}' (constant, cosine, step).", nameof(name)),
    };
}

public sealed record ConstantSchedule(double BaseRate) : LearningRateSchedule(BaseRate)
{
    public override double At(long step, long totalSteps) => BaseRate;
}

/// <summary>Linear warm-up over the first <see cref="WarmupFraction"/> of steps, then a cosine decay to zero.</summary>
public sealed record CosineSchedule(double BaseRate, double WarmupFraction = 0.02) : LearningRateSchedule(BaseRate)
{
    public override double At(long step, long totalSteps)
    {
        long warm = (long)(WarmupFraction * totalSteps);
        if (step < warm) return BaseRate * (step + 1) / warm;
        double t = totalSteps <= warm ? 1 : (double)(step - warm) / (totalSteps - warm);
        return BaseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, t)));
    }
}

/// <summary>Multiplies the rate by <see cref="Factor"/> at each fraction of the run in <see cref="Milestones"/>.</summary>
public sealed record StepSchedule(double BaseRate, double[] Milestones, double Factor) : LearningRateSchedule(BaseRate)
{
    public override double At(long step, long totalSteps)
    {
        double rate = BaseRate, t = (double)step / Math.Max(1, totalSteps);
        foreach (double m in Milestones) if (t >= m) rate *= Factor;
        return rate;
    }
}
