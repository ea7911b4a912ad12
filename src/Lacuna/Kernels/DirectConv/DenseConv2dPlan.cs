using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// A dense 2-D convolution prepared for inference with constant weights: the algorithm is chosen once for
/// the layer shape (<see cref="ChooseAlgorithm"/>), weights and bias are copied (and packed into register-tile
/// order for <see cref="ConvAlgorithm.Direct"/>). <see cref="Run"/> computes
/// y[n,m,oh,ow] = act(bias[m] + Σ_{c,kh,kw} w[m,c,kh,kw] · x[n, g·Cg + c, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw])
/// like <see cref="Reference.ReferenceConv2d"/>. Run may be called from one thread at a time per calling
/// thread's scratch; plans themselves are immutable and may be shared.
/// </summary>
public sealed unsafe class DenseConv2dPlan
{
    private readonly ConvGeometry _g;
    private readonly DirectLayout? _layout;
    private readonly float[] _weight;  // original [M, Cg, KH, KW], or packed for Direct; pinned
    private readonly float[]? _bias;   // [M], or packed for Direct; null when there is none (GEMM paths); pinned

    private DenseConv2dPlan(ConvGeometry g, ConvAlgorithm algorithm, DirectConvKernel? kernel,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Conv2dParams p, Activation activation)
    {
        _g = g; Algorithm = algorithm; Params = p; Activation = activation;
        if (algorithm == ConvAlgorithm.Direct)
        {
            _layout = new DirectLayout(g, kernel ?? DirectConvKernels.Choose(g));
            _weight = GC.AllocateUninitializedArray<float>((int)_layout.PackedWeightLength(g), pinned: true);
            _bias = GC.AllocateUninitializedArray<float>(_layout.PackedBiasLength(g), pinned: true);
            DirectConvDriver.Pack(g, _layout, weight, bias, _weight, _bias);
        }
        else
        {
            _weight = GC.AllocateUninitializedArray<float>(g.M * g.K, pinned: true);
            weight[..(g.M * g.K)].CopyTo(_weight);
            if (!bias.IsEmpty)
            {
                _bias = GC.AllocateUninitializedArray<float>(g.M, pinned: true);
                bias.CopyTo(_bias);
            }
        }
    }

    /// <summary>
    /// Prepares a conv with weight [M, C/groups, KH, KW] and bias [M] (or empty) for inputs [N, C, H, W] with
    /// C = weightShape[1]·groups and the given H, W. <paramref name="algorithm"/> forces a lowering (benchmarks);
    /// null lets the plan choose.
    /// </summary>
    public static DenseConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputHeight, int inputWidth, Activation activation = default, ConvAlgorithm? algorithm = null) =>
        Create(weight, weightShape, bias, p, inputHeight, inputWidth, activation, algorithm, null);

    internal static DenseConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputHeight, int inputWidth, Activation activation, ConvAlgorithm? algorithm, DirectConvKernel? kernel)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        if (weightShape.Length != 4)
            ThrowHelper.Shape(nameof(weightShape), $"Conv2d weight must be rank 4 (M, C/groups, KH, KW); got rank {weightShape.Length}.");
        ThrowHelper.IfNegative(inputHeight, nameof(inputHeight));
        ThrowHelper.IfNegative(inputWidth, nameof(inputWidth));
        var g = DenseConv2d.Check(weight, weightShape, bias, p, weightShape[1] * p.Groups, inputHeight, inputWidth);
        var alg = algorithm ?? ChooseAlgorithm(g);
        if (alg == ConvAlgorithm.Pointwise && !g.IsPointwise)
            ThrowHelper.Argument(nameof(algorithm), $"Pointwise needs a 1x1 kernel, stride 1 and no padding; this conv is {g}.");
        if (kernel is not null && (alg != ConvAlgorithm.Direct || !IsaTiers.IsSupported(kernel.Tier)))
            ThrowHelper.Argument(nameof(kernel), $"Kernel {kernel} needs the Direct algorithm and a supported tier.");
        return new DenseConv2dPlan(g, alg, kernel, weight, bias, p, activation);
    }

    public ConvAlgorithm Algorithm { get; }
    public Conv2dParams Params { get; }
    public Activation Activation { get; }

    /// <summary>What runs: the algorithm, and for Direct the register tile, e.g. "Direct Avx2Fma 4x24".</summary>
    public string Describe() => _layout is null ? Algorithm.ToString() : $"{Algorithm} {_layout.Kernel.Name}";

    public int[] InputShape(int batch) => new[] { batch, _g.C, _g.H, _g.W };
    public int[] OutputShape(int batch) => new[] { batch, _g.M, _g.OH, _g.OW };

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW], fully overwritten</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 0)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        ThrowHelper.IfTooShort(input.Length, (long)batch * _g.InputImage, nameof(input), $"input [{batch}, {_g.C}, {_g.H}, {_g.W}]");
        ThrowHelper.IfTooShort(output.Length, (long)batch * _g.OutputImage, nameof(output), $"output [{batch}, {_g.M}, {_g.OH}, {_g.OW}]");
        int t = WorkerPool.Resolve(threads);
        if (batch == 0) return;
        fixed (float* px = input, py = output, pw = _weight, pb = _bias)
            Execute(_g, Algorithm, _layout, pw, pb, Activation, px, py, batch, t);
    }

    internal static void Execute(ConvGeometry g, ConvAlgorithm alg, DirectLayout? layout, float* weight, float* bias,
        Activation act, float* input, float* output, int batch, int threads)
    {
        switch (alg)
        {
            case ConvAlgorithm.Pointwise: GemmConvDriver.RunPointwise(g, weight, bias, act, input, output, batch, threads); break;
            case ConvAlgorithm.Im2ColGemm: GemmConvDriver.RunIm2Col(g, weight, bias, act, input, output, batch, threads); break;
            default: DirectConvDriver.Run(g, layout!, weight, bias, act, input, output, batch, threads); break;
        }
    }

    /// <summary>
    /// The lowering for a layer shape. Pointwise convs never copy. Depthwise convs (one channel per group)
    /// are direct: as GEMMs they are Mg=1 matrix-vector products. Others: see the measurements below.
    /// </summary>
    internal static ConvAlgorithm ChooseAlgorithm(ConvGeometry g)
    {
        if (g.IsPointwise) return ConvAlgorithm.Pointwise;
        if (g.Mg < 4) return ConvAlgorithm.Direct;
        return ConvAlgorithm.Direct;
    }
}
