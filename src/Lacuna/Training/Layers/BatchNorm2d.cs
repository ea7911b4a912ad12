using Lacuna.Graph;

namespace Lacuna.Training.Layers;

/// <summary>
/// Batch normalization over (N, H, W) per channel. Training: y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch's biased
/// variance; running statistics move by <see cref="Momentum"/> toward the batch's mean and unbiased variance
/// (PyTorch's convention). Inference uses the running statistics; the ONNX export is BatchNormalization with
/// ONNX's momentum = 1 − <see cref="Momentum"/>. Backward:
/// dx = γ/(M·σ)·(M·dy − Σdy − x̂·Σ(dy·x̂)) with M = N·H·W.
/// </summary>
public sealed class BatchNorm2d : Layer
{
    private readonly Parameter _gamma, _beta;
    private readonly float[] _runningMean, _runningVar;
    private float[]? _y, _xhat, _dx, _invStd;
    private FeatureMap _out;

    public BatchNorm2d(string name, int channels, float epsilon = 1e-5f, float momentum = 0.1f) : base(name)
    {
        Channels = channels; Epsilon = epsilon; Momentum = momentum;
        _gamma = new Parameter(name + ".weight", [channels], ParameterKind.Scale);
        _beta = new Parameter(name + ".bias", [channels], ParameterKind.Bias);
        _gamma.Value.AsSpan().Fill(1f);
        _runningMean = new float[channels];
        _runningVar = new float[channels];
        _runningVar.AsSpan().Fill(1f);
    }

    public int Channels { get; }
    public float Epsilon { get; }
    public float Momentum { get; }
    public int Threads { get; set; }
    public float[] RunningMean => _runningMean;
    public float[] RunningVar => _runningVar;

    public override IEnumerable<Parameter> Parameters() => [_gamma, _beta];
    public override IEnumerable<(string Name, float[] Data)> Buffers() =>
        [(Name + ".running_mean", _runningMean), (Name + ".running_var", _runningVar)];

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        if (c != Channels) ThrowHelper.Shape("x", $"BatchNorm '{Name}' has {Channels} channels but gets {c}.");
        return (c, h, w);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        CheckInput(x, Channels);
        var y = FeatureMap.Ensure(ref _y, x.Length);
        int plane = x.H * x.W, n = x.N, c = Channels;
        if (!training)
        {
            for (int k = 0; k < c; k++)
            {
                float inv = 1f / MathF.Sqrt(_runningVar[k] + Epsilon), g = _gamma.Value[k] * inv, b = _beta.Value[k] - _runningMean[k] * g;
                for (int s = 0; s < n; s++)
                {
                    int o = (s * c + k) * plane;
                    for (int i = 0; i < plane; i++) y[o + i] = x.Data[o + i] * g + b;
                }
            }
            return _out = new FeatureMap(y, n, c, x.H, x.W);
        }
        var xhat = FeatureMap.Ensure(ref _xhat, x.Length);
        var invStd = FeatureMap.Ensure(ref _invStd, c);
        int m = n * plane;
        Parallel.For(c, Threads, (k0, k1) =>
        {
            for (int k = k0; k < k1; k++)
            {
                double sum = 0, sq = 0;
                for (int s = 0; s < n; s++)
                {
                    int o = (s * c + k) * plane;
                    for (int i = 0; i < plane; i++) { double v = x.Data[o + i]; sum += v; sq += v * v; }
                }
                double mean = sum / m, variance = Math.Max(0, sq / m - mean * mean);
                float inv = (float)(1 / Math.Sqrt(variance + Epsilon));
                invStd[k] = inv;
                float g = _gamma.Value[k], b = _beta.Value[k], mu = (float)mean;
                for (int s = 0; s < n; s++)
                {
                    int o = (s * c + k) * plane;
                    for (int i = 0; i < plane; i++)
                    {
                        float h = (x.Data[o + i] - mu) * inv;
                        xhat[o + i] = h;
                        y[o + i] = g * h + b;
                    }
                }
                double unbiased = m > 1 ? variance * m / (m - 1) : variance;
                _runningMean[k] = (1 - Momentum) * _runningMean[k] + Momentum * mu;
                _runningVar[k] = (float)((1 - Momentum) * _runningVar[k] + Momentum * unbiased);
            }
        });
        return _out = new FeatureMap(y, n, c, x.H, x.W);
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var xhat = _xhat ?? throw new InvalidOperationException($"BatchNorm '{Name}': backward without a training-mode forward.");
        var dx = FeatureMap.Ensure(ref _dx, dy.Length);
        int plane = dy.H * dy.W, n = dy.N, c = Channels, m = n * plane;
        var invStd = _invStd!;
        Parallel.For(c, Threads, (k0, k1) =>
        {
            for (int k = k0; k < k1; k++)
            {
                double sumDy = 0, sumDyX = 0;
                for (int s = 0; s < n; s++)
                {
                    int o = (s * c + k) * plane;
                    for (int i = 0; i < plane; i++) { double g = dy.Data[o + i]; sumDy += g; sumDyX += g * xhat[o + i]; }
                }
                _beta.Grad[k] = (float)sumDy;
                _gamma.Grad[k] = (float)sumDyX;
                float scale = _gamma.Value[k] * invStd[k] / m, a = (float)sumDy, b = (float)sumDyX;
                for (int s = 0; s < n; s++)
                {
                    int o = (s * c + k) * plane;
                    for (int i = 0; i < plane; i++) dx[o + i] = scale * (m * dy.Data[o + i] - a - xhat[o + i] * b);
                }
            }
        });
        return new FeatureMap(dx, n, c, dy.H, dy.W);
    }

    public override string Export(GraphExport g, string input)
    {
        int[] dims = [Channels];
        return g.Node("BatchNormalization", Name,
            [input, g.Initializer(Name + ".weight", dims, _gamma.Value), g.Initializer(Name + ".bias", dims, _beta.Value),
             g.Initializer(Name + ".running_mean", dims, _runningMean), g.Initializer(Name + ".running_var", dims, _runningVar)],
            GraphAttribute.Of("epsilon", Epsilon), GraphAttribute.Of("momentum", 1f - Momentum));
    }
}
