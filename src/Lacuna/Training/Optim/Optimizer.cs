namespace Lacuna.Training.Optim;

/// <summary>
/// Updates parameters from their gradients. Masked parameters (<see cref="Parameter.Mask"/>) have their pruned
/// gradients zeroed before the update and their pruned values zeroed after it, so they stay exactly zero.
/// Per-parameter state (momentum, moments) is exposed by name for checkpoints.
/// </summary>
public abstract class Optimizer
{
    protected Optimizer(IReadOnlyList<Parameter> parameters) => Parameters = parameters;

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Updates performed so far (Adam's bias correction uses it; checkpoints keep it).</summary>
    public long Steps { get; set; }

    public void Step(double learningRate)
    {
        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
            ThrowHelper.OutOfRange(nameof(learningRate), learningRate, "The learning rate must be finite and non-negative.");
        Steps++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            p.ApplyMask();
            Update(i, p, (float)learningRate);
            p.ApplyMask();
        }
    }

    protected abstract void Update(int index, Parameter p, float learningRate);

    /// <summary>Named state arrays, e.g. <c>conv1.weight.momentum</c>.</summary>
    public abstract IEnumerable<(string Name, float[] Data)> State();

    public abstract string Describe();
}
