namespace Lacuna.Training.Optim;

/// <summary>
/// SGD with momentum and L2 weight decay (on <see cref="ParameterKind.Weight"/> only):
/// g = ∇ + λ·w; v = μ·v + g; w −= lr·(nesterov ? g + μ·v : v).
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][] _velocity;

    public Sgd(IReadOnlyList<Parameter> parameters, float momentum = 0.9f, float weightDecay = 5e-4f, bool nesterov = true) : base(parameters)
    {
        if (!(momentum >= 0 && momentum < 1)) ThrowHelper.OutOfRange(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        if (!(weightDecay >= 0)) ThrowHelper.OutOfRange(nameof(weightDecay), weightDecay, "Weight decay must be non-negative.");
        Momentum = momentum; WeightDecay = weightDecay; Nesterov = nesterov;
        _velocity = parameters.Select(p => new float[p.Length]).ToArray();
    }

    public float Momentum { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    protected override void Update(int index, Parameter p, float lr)
    {
        var v = _velocity[index];
        var w = p.Value;
        var grad = p.Grad;
        float decay = p.Kind == ParameterKind.Weight ? WeightDecay : 0f, mu = Momentum;
        for (int i = 0; i < w.Length; i++)
        {
            float g = grad[i] + decay * w[i];
            v[i] = mu * v[i] + g;
            w[i] -= lr * (Nesterov ? g + mu * v[i] : v[i]);
        }
    }

    public override IEnumerable<(string Name, float[] Data)> State() =>
        Parameters.Select((p, i) => (p.Name + ".momentum", _velocity[i]));

    public override string Describe() => $"SGD (momentum {Momentum}{(Nesterov ? ", Nesterov" : "")}, weight decay {WeightDecay})";
}
