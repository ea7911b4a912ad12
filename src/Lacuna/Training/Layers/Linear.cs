using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Tensors;

namespace Lacuna.Training.Layers;

/// <summary>
/// Fully connected: y[N, out] = x[N, in] · Wᵀ + b, W [out, in] (ONNX Gemm with transB = 1), on the dense GEMM.
/// The input must be flat ([N, in, 1, 1]: put a <see cref="Flatten"/> before it).
/// dx = dy · W; dW = dyᵀ · x; db = Σ_n dy.
/// </summary>
public sealed class Linear : Layer
{
    private readonly Parameter _weight, _bias;
    private float[]? _y, _dx;
    private FeatureMap _x, _out;

    public Linear(string name, int inFeatures, int outFeatures, ulong seed = 1) : base(name)
    {
        if (inFeatures < 1 || outFeatures < 1) ThrowHelper.OutOfRange(nameof(inFeatures), $"{inFeatures}->{outFeatures}", $"Linear '{name}' needs features ≥ 1.");
        In = inFeatures; Out = outFeatures;
        _weight = new Parameter(name + ".weight", [outFeatures, inFeatures], ParameterKind.Weight);
        _bias = new Parameter(name + ".bias", [outFeatures], ParameterKind.Bias);
        var rng = new DeterministicRandom(seed);
        // Uniform ±1/√in, the classic fully connected initialization: logits start small whatever the width.
        float bound = 1f / MathF.Sqrt(inFeatures);
        rng.Fill(_weight.Value, -bound, bound);
        rng.Fill(_bias.Value, -bound, bound);
    }

    public int In { get; }
    public int Out { get; }
    public int Threads { get; set; }
    public Parameter Weight => _weight;

    public override IEnumerable<Parameter> Parameters() => [_weight, _bias];

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        if (c != In || h != 1 || w != 1) ThrowHelper.Shape("x", $"Linear '{Name}' expects [N, {In}, 1, 1] (flattened) but gets [N, {c}, {h}, {w}].");
        return (Out, 1, 1);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        OutputShape(x.C, x.H, x.W);
        var y = FeatureMap.Ensure(ref _y, x.N * Out);
        Gemm.Compute(x.N, Out, In, x.Data, In, false, _weight.Value, In, true, y, Out,
            bias: _bias.Value, biasAxis: BiasAxis.Column, threads: Threads);
        _x = x;
        return _out = new FeatureMap(y, x.N, Out, 1, 1);
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        int n = dy.N;
        // dW[out, in] = dyᵀ[out, N] · x[N, in]
        Gemm.Compute(Out, In, n, dy.Data, Out, true, _x.Data, In, false, _weight.Grad, In, threads: Threads);
        for (int o = 0; o < Out; o++)
        {
            double acc = 0;
            for (int b = 0; b < n; b++) acc += dy.Data[b * Out + o];
            _bias.Grad[o] = (float)acc;
        }
        if (!NeedsInputGradient) return default;
        var dx = FeatureMap.Ensure(ref _dx, n * In);
        Gemm.Compute(n, In, Out, dy.Data, Out, false, _weight.Value, In, false, dx, In, threads: Threads);
        return new FeatureMap(dx, n, In, 1, 1);
    }

    public override string Export(GraphExport g, string input) => g.Node("Gemm", Name,
        [input, g.Initializer(Name + ".weight", _weight.Shape, _weight.Value), g.Initializer(Name + ".bias", _bias.Shape, _bias.Value)],
        GraphAttribute.Of("transB", 1L));
}
