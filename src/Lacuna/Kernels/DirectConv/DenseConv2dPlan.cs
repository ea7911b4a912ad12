using Lacuna.Kernels.Elementwise;
using Lacuna.Tensors;
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
public sealed unsafe class DenseConv2dPlan : IDisposable
{
    private readonly ConvGeometry _g;
    private readonly DirectLayout? _layout;
    private readonly DepthwiseLayout? _depthwise;
    // Native and 64-byte aligned (NativeArray): the channel-lane tiles load 16-channel weight vectors, which then
    // never span two lines; and a candidate the planner drops frees them at once instead of leaving a hole in the
    // pinned-object heap.
    private readonly NativeArray<float>? _weight; // original [M, Cg, KH, KW] (Depthwise), packed (Direct); null for GEMM
    private readonly NativeArray<float>? _bias;   // [M], or packed for Direct; null when there is none (GEMM paths)
    private readonly GemmPackedA[]? _packed; // GEMM lowerings: each group's [Mg × K] weights packed once
    private bool _disposed;

    private DenseConv2dPlan(ConvGeometry g, ConvAlgorithm algorithm, DirectConvKernel? kernel,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Conv2dParams p, Activation activation)
    {
        _g = g; Algorithm = algorithm; Params = p; Activation = activation;
        if (algorithm == ConvAlgorithm.Direct)
        {
            _layout = new DirectLayout(g, kernel ?? DirectConvKernels.Choose(g));
            int wLength = (int)_layout.PackedWeightLength(g), bLength = _layout.PackedBiasLength(g);
            _weight = new NativeArray<float>(wLength);
            _bias = new NativeArray<float>(bLength);
            DirectConvDriver.Pack(g, _layout, weight, bias, _weight.Span, _bias.Span);
        }
        else if (algorithm == ConvAlgorithm.Depthwise)
        {
            _depthwise = new DepthwiseLayout(g);
            _weight = new NativeArray<float>(weight[..(g.M * g.K)]);
            if (!bias.IsEmpty) _bias = new NativeArray<float>(bias);
        }
        else
        {
            // The GEMM lowerings multiply the constant weights as A: packed into panels once here instead of on
            // every call (ResNet-50's 1x1 layers at 7x7 and 14x14 spent a large share of each call packing A). The
            // panels are then the plan's only copy: the original one went unread and doubled a dense plan's memory.
            _packed = new GemmPackedA[g.G];
            for (int gr = 0; gr < g.G; gr++)
                _packed[gr] = Gemm.PackA(g.Mg, g.K, weight.Slice(gr * g.Mg * g.K, g.Mg * g.K), g.K, false, n: g.OutputPixels);
            if (!bias.IsEmpty) _bias = new NativeArray<float>(bias);
        }
    }

    /// <summary>
    /// Frees the weights at once (the conv planner disposes the candidates it did not choose); a later
    /// <see cref="Run"/> throws <see cref="ObjectDisposedException"/>. Without it the finalizers free them.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        _weight?.Dispose();
        _bias?.Dispose();
        if (_packed is not null) foreach (var a in _packed) a.Dispose();
    }

    /// <summary>
    /// Prepares a conv with weight [M, C/groups, KH, KW] and bias [M] (or empty) for inputs [N, C, H, W] with
    /// C = weightShape[1]·groups and the given H, W. <paramref name="algorithm"/> forces a lowering (benchmarks);
    /// null lets the plan choose.
    /// </summary>
    /// <param name="directTile">For <see cref="ConvAlgorithm.Direct"/>: a register tile the plan chooses from, by name
    /// (see <see cref="DirectTiles"/>, e.g. "4x24"); null lets the plan choose.</param>
    public static DenseConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputHeight, int inputWidth, Activation activation = default, ConvAlgorithm? algorithm = null,
        string? directTile = null)
    {
        DirectConvKernel? kernel = null;
        if (directTile is not null)
        {
            kernel = DirectConvKernels.Candidates.FirstOrDefault(k => $"{k.Rows}x{k.Width}" == directTile);
            if (kernel is null)
                ThrowHelper.Argument(nameof(directTile), $"No direct tile '{directTile}' on this machine; there are: {string.Join(", ", DirectTiles)}.");
        }
        return Create(weight, weightShape, bias, p, inputHeight, inputWidth, activation, algorithm, kernel);
    }

    /// <summary>Names ("RowsxWidth") of the direct register tiles the plan chooses from in this process.</summary>
    public static IReadOnlyList<string> DirectTiles =>
        DirectConvKernels.Candidates.Select(k => $"{k.Rows}x{k.Width}").ToArray();

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
        if (alg == ConvAlgorithm.Depthwise && !g.IsDepthwise)
            ThrowHelper.Argument(nameof(algorithm), $"Depthwise needs groups = input channels = output channels; this conv is {g}.");
        if (kernel is not null && (alg != ConvAlgorithm.Direct || !IsaTiers.IsSupported(kernel.Tier)))
            ThrowHelper.Argument(nameof(kernel), $"Kernel {kernel} needs the Direct algorithm and a supported tier.");
        return new DenseConv2dPlan(g, alg, kernel, weight, bias, p, activation);
    }

    public ConvAlgorithm Algorithm { get; }
    public Conv2dParams Params { get; }
    public Activation Activation { get; }

    /// <summary>What runs: the algorithm, and for Direct the register tile, e.g. "Direct Avx2Fma 4x24".</summary>
    public string Describe() => _layout is not null ? $"{Algorithm} {_layout.Kernel.Name}"
        : _depthwise is not null ? $"{Algorithm} {DepthwiseConvKernels.Best.Name}" : Algorithm.ToString();

    public int[] InputShape(int batch) => new[] { batch, _g.C, _g.H, _g.W };
    public int[] OutputShape(int batch) => new[] { batch, _g.M, _g.OH, _g.OW };

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW], fully overwritten</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 0) => Run(input, output, batch, default, default, threads);

    /// <summary>Whether <see cref="Run(ReadOnlySpan{float}, Span{float}, int, ReadOnlySpan{float}, Activation, int, PostActivation)"/> fuses a residual and a post-activation (all but the depthwise tiles do).</summary>
    public bool FusesEpilogue => Algorithm != ConvAlgorithm.Depthwise;

    /// <summary>
    /// y = act(conv(x) + residual), the residual [batch, M, OH, OW] added to each block of output rows as it is
    /// finished (<see cref="OutputEpilogue"/>), on plans that <see cref="FusesEpilogue"/> and have no
    /// activation of their own. An empty <paramref name="residual"/> is the plain conv; <paramref name="post"/> is applied to
    /// each block last, residual or not.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, ReadOnlySpan<float> residual, Activation residualActivation, int threads = 0,
        PostActivation post = default)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        ThrowHelper.IfTooShort(input.Length, (long)batch * _g.InputImage, nameof(input), $"input [{batch}, {_g.C}, {_g.H}, {_g.W}]");
        ThrowHelper.IfTooShort(output.Length, (long)batch * _g.OutputImage, nameof(output), $"output [{batch}, {_g.M}, {_g.OH}, {_g.OW}]");
        if (!residual.IsEmpty)
        {
            ThrowHelper.IfTooShort(residual.Length, (long)batch * _g.OutputImage, nameof(residual), $"residual [{batch}, {_g.M}, {_g.OH}, {_g.OW}]");
            if (!FusesEpilogue || Activation.Kind != ActivationKind.None)
                ThrowHelper.Argument(nameof(residual), $"this plan ({Describe()}, activation {Activation}) cannot fuse a residual: that needs a direct or GEMM lowering and no activation of the plan's own.");
        }
        if (post.Kind != PostActivationKind.None && !FusesEpilogue)
            ThrowHelper.Argument(nameof(post), $"this plan ({Describe()}) cannot fuse {post}: that needs a direct or GEMM lowering.");
        int t = WorkerPool.Resolve(threads);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batch == 0) return;
        fixed (float* px = input, py = output, pr = residual)
        {
            var epilogue = new OutputEpilogue(residual.IsEmpty ? null : pr, residualActivation, post);
            Execute(_g, Algorithm, _layout, _weight is null ? null : _weight.Pointer, _bias is null ? null : _bias.Pointer, Activation, px, py, batch, t, _packed, _depthwise, epilogue);
        }
        GC.KeepAlive(this); // the weights are native: the plan must outlive the kernels that read them
    }

    internal static void Execute(ConvGeometry g, ConvAlgorithm alg, DirectLayout? layout, float* weight, float* bias,
        Activation act, float* input, float* output, int batch, int threads, GemmPackedA[]? packed = null, DepthwiseLayout? depthwise = null,
        OutputEpilogue epilogue = default)
    {
        switch (alg)
        {
            case ConvAlgorithm.Depthwise:
                DepthwiseConv2d.Run(g, depthwise ?? new DepthwiseLayout(g), DepthwiseConvKernels.Best, weight, bias, act, input, output, batch, threads);
                break;
            case ConvAlgorithm.Pointwise: GemmConvDriver.RunPointwise(g, weight, bias, act, input, output, batch, threads, packed, epilogue); break;
            case ConvAlgorithm.Im2ColGemm: GemmConvDriver.RunIm2Col(g, weight, bias, act, input, output, batch, threads, packed, epilogue); break;
            default: DirectConvDriver.Run(g, layout!, weight, bias, act, input, output, batch, threads, epilogue); break;
        }
    }

    /// <summary>
    /// The lowering for a layer shape, from `lacuna bench dense-conv --json` (1 thread, Zen 3, packed Gemm,
    /// median of 3; ms as direct vs im2col+GEMM):
    /// direct wins where the image is large relative to the channels — conv1 7x7/2 2.75 vs 6.47, 3x3 64@56
    /// 2.98 vs 3.77, VGG 64@224 44.0 vs 59.4, 128@112 40.5 vs 45.4, 1x1 256->64@56 1.38 vs 1.44, 3x3 512@7
    /// 3.47 vs 3.72; GEMM wins where the reduction is long and there are enough pixels to fill its tiles —
    /// VGG 256@56 43.1 vs 39.9, 512@28 44.5 vs 37.0, 512@14 10.6 vs 10.3, and 1x1 512->128@28 1.55 vs 1.19,
    /// 1024->256@14 1.54 vs 1.20, 2048->512@7 1.75 vs 1.65 (Pointwise is that GEMM without the im2col copy).
    /// Strided 3x3 and 3x3 128@28 / 256@14 were within 3% either way; they stay Direct.
    /// Depthwise (groups = C = M) runs <see cref="ConvAlgorithm.Depthwise"/>; other one-channel groups (Mg = 1) are a
    /// matrix-vector product as a GEMM, so direct regardless.
    /// With the AVX-512 tiles (Zen 4, 1 thread, direct vs GEMM ms) direct's channel-lane tiles win every 3x3 that
    /// went to im2col — VGG 256@56 34.5 vs 41.8, 512@28 33.7 vs 38.2, 512@14 8.2 vs 10.0, rn50 3x3 256@14 2.13 vs
    /// 2.89 — and, reading the input in place (<see cref="DirectLayout.InputAsIs"/>), the pointwise layers too:
    /// 2048->512@7 1.20-1.21 vs 1.52-1.53, 1024->256@14 0.96-1.00 vs 1.21, 512->128@28 0.97 vs 1.08-1.11
    /// (tile-only timings, direct_tiles_ms, vs the pointwise GEMM).
    /// </summary>
    internal static ConvAlgorithm ChooseAlgorithm(ConvGeometry g)
    {
        if (g.IsDepthwise) return ConvAlgorithm.Depthwise;
        if (g.Mg == 1) return ConvAlgorithm.Direct;
        bool avx512 = DirectConvKernels.BestTier == IsaTier.Avx512;
        if (g.IsPointwise) return g.Cg >= 512 && !avx512 ? ConvAlgorithm.Pointwise : ConvAlgorithm.Direct;
        if (avx512) return ConvAlgorithm.Direct;
        bool unitStride = g.SH == 1 && g.SW == 1;
        if (unitStride && g.K >= 2304 && g.OutputPixels >= 196) return ConvAlgorithm.Im2ColGemm;
        return ConvAlgorithm.Direct;
    }
}
