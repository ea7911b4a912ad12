using Lacuna.Graph;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Train;
using Lacuna.Tensors;

namespace Lacuna.Training.Layers;

/// <summary>
/// 2-D convolution, weight [K, C, k, k] (He-normal), optional bias [K]. Stride-1 "same" 1x1 and 3x3 layers — every
/// conv of the training networks — run on the SparseTrain kernels (<see cref="ConvTrainKernels"/>): FWD skips the
/// zeros ReLU left in x, BWI the zeros of dy, BWW the zeros of x, each choosing dense or sparse from the zero
/// fraction it just measured (or as forced by <see cref="Mode"/>). Other geometries run on the reference
/// convolution and its reference backward passes (correct, slow).
/// </summary>
public sealed class Conv2d : Layer
{
    private readonly Parameter _weight;
    private readonly Parameter? _bias;
    private readonly Conv2dParams _params;
    private float[]? _xb, _yb, _dyb, _dxb, _y, _dx, _xSaved;
    private FeatureMap _x, _out;

    public Conv2d(string name, int inChannels, int outChannels, int kernel, int stride = 1, int pad = -1, bool bias = true, ulong seed = 1)
        : base(name)
    {
        if (inChannels < 1 || outChannels < 1) ThrowHelper.OutOfRange(nameof(inChannels), $"{inChannels}->{outChannels}", $"Conv '{name}' needs at least one channel in and out.");
        if (kernel < 1 || stride < 1) ThrowHelper.OutOfRange(nameof(kernel), $"k{kernel} s{stride}", $"Conv '{name}' needs kernel and stride ≥ 1.");
        if (pad < 0) pad = (kernel - 1) / 2;
        InChannels = inChannels; OutChannels = outChannels; Kernel = kernel; Stride = stride; Pad = pad;
        _params = Conv2dParams.Square(kernel, stride, pad);
        _weight = new Parameter(name + ".weight", [outChannels, inChannels, kernel, kernel], ParameterKind.Weight);
        var rng = new DeterministicRandom(seed);
        double std = Math.Sqrt(2.0 / (inChannels * kernel * kernel));
        for (int i = 0; i < _weight.Length; i++) _weight.Value[i] = (float)(rng.NextGaussian() * std);
        if (bias) _bias = new Parameter(name + ".bias", [outChannels], ParameterKind.Bias);
        UsesSparseTrainKernels = stride == 1 && (kernel == 1 || kernel == 3) && pad == (kernel - 1) / 2;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Pad { get; }
    public Parameter Weight => _weight;
    public Parameter? Bias => _bias;
    public bool UsesSparseTrainKernels { get; }

    /// <summary>Dense, sparse, or (default) chosen per call from the measured zero fraction.</summary>
    public ConvTrainMode Mode { get; set; } = ConvTrainMode.Auto;
    public int Threads { get; set; }

    /// <summary>What the last step measured and ran: zero fractions of x and dy, and the kernel each pass used.</summary>
    public ConvStepStats LastStats { get; private set; }

    public override IEnumerable<Parameter> Parameters() => _bias is null ? [_weight] : [_weight, _bias];

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        if (c != InChannels) ThrowHelper.Shape("x", $"Conv '{Name}' expects {InChannels} input channels but gets {c}.");
        int oh = _params.OutputHeight(h), ow = _params.OutputWidth(w);
        if (oh < 1 || ow < 1) ThrowHelper.Shape("x", $"Conv '{Name}' ({Kernel}x{Kernel}, stride {Stride}, pad {Pad}) leaves no output from {h}x{w}.");
        return (OutChannels, oh, ow);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        CheckInput(x, InChannels);
        var (k, oh, ow) = OutputShape(x.C, x.H, x.W);
        var y = FeatureMap.Ensure(ref _y, x.N * k * oh * ow);
        _x = x;
        if (UsesSparseTrainKernels)
        {
            var s = Shape(x);
            var xb = FeatureMap.Ensure(ref _xb, (int)s.InputLength);
            var yb = FeatureMap.Ensure(ref _yb, (int)s.OutputLength);
            ToBlocked(x.Data, xb, x.N, InChannels, x.H, x.W);
            double zx = ConvTrainLayout.ZeroFraction(xb.AsSpan(0, (int)s.InputLength));
            var mode = ConvTrainKernels.Forward(xb, _weight.Value, yb, s, Pick(zx, ConvTrainKernels.ForwardThreshold), Threads);
            ToNchw(yb, y, x.N, k, x.H, x.W);
            LastStats = new ConvStepStats(zx, mode, double.NaN, default, default);
        }
        else
        {
            ReferenceConv2d.Compute(x.Span, [x.N, x.C, x.H, x.W], _weight.Value, _weight.Shape, default, y, _params);
            if (training) { FeatureMap.Ensure(ref _xSaved, x.Length); x.Span.CopyTo(_xSaved); }
            LastStats = new ConvStepStats(double.NaN, ConvTrainMode.Dense, double.NaN, default, default);
        }
        if (_bias is not null) AddBias(y, x.N, k, oh * ow, _bias.Value);
        _out = new FeatureMap(y, x.N, k, oh, ow);
        return _out;
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var x = _x;
        if (_bias is not null) SumBias(dy, _bias.Grad);
        if (!UsesSparseTrainKernels)
        {
            var xs = _xSaved ?? throw new InvalidOperationException($"Conv '{Name}': backward without a training-mode forward.");
            int[] xShape = [x.N, x.C, x.H, x.W];
            ReferenceConv2dBackward.BackwardWeights(xs.AsSpan(0, x.Length), xShape, dy.Span, _weight.Grad, _weight.Shape, _params);
            if (!NeedsInputGradient) return default;
            var dxr = FeatureMap.Ensure(ref _dx, x.Length);
            ReferenceConv2dBackward.BackwardInput(dy.Span, _weight.Value, _weight.Shape, dxr, xShape, _params);
            return new FeatureMap(dxr, x.N, x.C, x.H, x.W);
        }
        var s = Shape(x);
        var dyb = FeatureMap.Ensure(ref _dyb, (int)s.OutputLength);
        ToBlocked(dy.Data, dyb, x.N, OutChannels, x.H, x.W);
        double zdy = ConvTrainLayout.ZeroFraction(dyb.AsSpan(0, (int)s.OutputLength));
        var bww = ConvTrainKernels.BackwardWeights(_xb, dyb, _weight.Grad, s, Pick(LastStats.InputZeros, ConvTrainKernels.BackwardWeightsThreshold), Threads);
        ConvTrainMode bwi = default;
        FeatureMap result = default;
        if (NeedsInputGradient)
        {
            var dxb = FeatureMap.Ensure(ref _dxb, (int)s.InputLength);
            bwi = ConvTrainKernels.BackwardInput(dyb, _weight.Value, dxb, s, Pick(zdy, ConvTrainKernels.BackwardInputThreshold), Threads);
            var dx = FeatureMap.Ensure(ref _dx, x.Length);
            ToNchw(dxb, dx, x.N, InChannels, x.H, x.W);
            result = new FeatureMap(dx, x.N, x.C, x.H, x.W);
        }
        LastStats = LastStats with { GradientZeros = zdy, BackwardInput = bwi, BackwardWeights = bww };
        return result;
    }

    /// <summary>
    /// Copies of the last training step's blocked operands (x from forward, dy from backward) and their shape, for
    /// benchmarking the kernels on real activation and gradient zero patterns. Null before a SparseTrain step.
    /// </summary>
    public (ConvTrainShape Shape, float[] X, float[] Dy)? CapturedOperands()
    {
        if (!UsesSparseTrainKernels || _xb is null || _dyb is null || _x.Data is null) return null;
        var s = Shape(_x);
        return (s, _xb.AsSpan(0, (int)s.InputLength).ToArray(), _dyb.AsSpan(0, (int)s.OutputLength).ToArray());
    }

    public override string Export(GraphExport g, string input)
    {
        string w = g.Initializer(Name + ".weight", _weight.Shape, _weight.Value);
        string[] inputs = _bias is null ? [input, w] : [input, w, g.Initializer(Name + ".bias", _bias.Shape, _bias.Value)];
        return g.Node("Conv", Name, inputs,
            GraphAttribute.Of("kernel_shape", new long[] { Kernel, Kernel }),
            GraphAttribute.Of("strides", new long[] { Stride, Stride }),
            GraphAttribute.Of("pads", new long[] { Pad, Pad, Pad, Pad }),
            GraphAttribute.Of("dilations", new long[] { 1, 1 }),
            GraphAttribute.Of("group", 1L));
    }

    private ConvTrainShape Shape(FeatureMap x) => new(x.N, InChannels, OutChannels, x.H, x.W, Kernel);

    // The zero fraction was measured once here (for the stats line); passing the decision down saves the kernel a second scan.
    private ConvTrainMode Pick(double zeros, double threshold) =>
        Mode != ConvTrainMode.Auto ? Mode : ConvTrainKernels.Choose(zeros, threshold);

    private void ToBlocked(float[] nchw, float[] blocked, int n, int c, int h, int w)
    {
        int per = c * h * w, perBlocked = (c + 7) / 8 * h * w * 8;
        Parallel.For(n, Threads, (s, e) =>
        {
            for (int b = s; b < e; b++)
                ConvTrainLayout.ToBlocked(nchw.AsSpan(b * per, per), blocked.AsSpan(b * perBlocked, perBlocked), 1, c, h, w);
        });
    }

    private void ToNchw(float[] blocked, float[] nchw, int n, int c, int h, int w)
    {
        int per = c * h * w, perBlocked = (c + 7) / 8 * h * w * 8;
        Parallel.For(n, Threads, (s, e) =>
        {
            for (int b = s; b < e; b++)
                ConvTrainLayout.ToNchw(blocked.AsSpan(b * perBlocked, perBlocked), nchw.AsSpan(b * per, per), 1, c, h, w);
        });
    }

    internal static void AddBias(float[] y, int n, int c, int plane, float[] bias)
    {
        for (int b = 0; b < n; b++)
            for (int k = 0; k < c; k++)
            {
                var row = y.AsSpan((b * c + k) * plane, plane);
                float v = bias[k];
                for (int i = 0; i < row.Length; i++) row[i] += v;
            }
    }

    internal static void SumBias(FeatureMap dy, float[] grad)
    {
        int plane = dy.H * dy.W;
        for (int k = 0; k < dy.C; k++)
        {
            double acc = 0;
            for (int b = 0; b < dy.N; b++)
            {
                var row = dy.Data.AsSpan((b * dy.C + k) * plane, plane);
                for (int i = 0; i < row.Length; i++) acc += row[i];
            }
            grad[k] = (float)acc;
        }
    }
}

/// <summary>One conv step: zero fractions of x and dy (NaN when not measured) and the kernel each pass ran.</summary>
public readonly record struct ConvStepStats(double InputZeros, ConvTrainMode ForwardMode, double GradientZeros,
    ConvTrainMode BackwardInput, ConvTrainMode BackwardWeights);
