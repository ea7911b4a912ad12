namespace Lacuna.Training.Optim;

/// <summary>
/// Adam (Kingma &amp; Ba) with decoupled weight decay (AdamW, Loshchilov &amp; Hutter) on <see cref="ParameterKind.Weight"/>:
/// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; w −= lr·(m̂/(√v̂ + ε) + λ·w), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m, _v;

    public Adam(IReadOnlyList<Parameter> parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(parameters)
    {
        if (!(beta1 >= 0 && beta1 < 1)) ThrowHelper.OutOfRange(nameof(beta1), beta1, "β1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) ThrowHelper.OutOfRange(nameof(beta2), beta2, "β2 must be in [0, 1).");
        if (!(epsilon > 0)) ThrowHelper.OutOfRange(nameof(epsilon), epsilon, "ε must be positive.");
        if (!(weightDecay >= 0)) ThrowHelper.OutOfRange(nameof(weightDecay), weightDecay, "Weight decay must be non-negative.");
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay;
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public float WeightDecay { get; }

    protected override void Update(int index, Parameter p, float lr)
    {
        var m = _m[index];
        var v = _v[index];
        var w = p.Value;
        var grad = p.Grad;
        float c1 = 1f / (1f - MathF.Pow(Beta1, Steps)), c2 = 1f / (1f - MathF.Pow(Beta2, Steps));
        float decay = p.Kind == ParameterKind.Weight ? WeightDecay : 0f;
        for (int i = 0; i < w.Length; i++)
        {
            float g = grad[i];
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            w[i] -= lr * (m[i] * c1 / (MathF.Sqrt(v[i] * c2) + Epsilon) + decay * w[i]);
        }
    }

    public override IEnumerable<(string Name, float[] Data)> State() =>
        Parameters.Select((p, i) => (p.Name + ".adam_m", _m[i])).Concat(Parameters.Select((p, i) => (p.Name + ".adam_v", _v[i])));

    public override string Describe() => $"Adam (β1 {Beta1}, β2 {Beta2}, ε {Epsilon}, decoupled weight decay {WeightDecay})";
}
