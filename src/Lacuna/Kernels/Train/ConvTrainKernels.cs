using Lacuna.Threading;

namespace Lacuna.Kernels.Train;

/// <summary>How a training conv call treats zeros of its sparse operand.</summary>
public enum ConvTrainMode
{
    /// <summary>Measure the zero fraction of the sparse operand and pick by the benchmarked threshold.</summary>
    Auto = 0,
    Dense = 1,
    Sparse = 2,
}

/// <summary>
/// SparseTrain convolution kernels (Gong et al., PACT'20, arXiv 1911.10175) for training: dense layouts, zeros that
/// ReLU put into activations and gradients skipped on the fly. Activations and gradients are channel-blocked
/// (<see cref="ConvTrainLayout"/>: [N][ceil(C/8)][H][W][8]); weights and their gradient are plain [K, C, KS, KS].
/// <list type="bullet">
/// <item>FWD y[n,k,h,w] = Σ_{c,kh,kw} w[k,c,kh,kw] · x[n,c,h+kh-p,w+kw-p]; sparse operand x, vectorized over k.</item>
/// <item>BWI dx[n,c,h,w] = Σ_{k,kh,kw} w[k,c,kh,kw] · dy[n,k,h-kh+p,w-kw+p]; sparse operand dy, vectorized over c.</item>
/// <item>BWW dw[k,c,kh,kw] = Σ_{n,h,w} x[n,c,h+kh-p,w+kw-p] · dy[n,k,h,w]; sparse operand x, vectorized over k.</item>
/// </list>
/// Each call returns the mode it ran. Outputs are fully overwritten.
/// </summary>
public static unsafe class ConvTrainKernels
{
    /// <summary>
    /// Zero fraction of the sparse operand from which <see cref="ConvTrainMode.Auto"/> runs the sparse kernel.
    /// Set from `lacuna bench train-conv --net vgg16 --scale 4 --sparsity S --json` (1 thread, Zen 3, shared 2-core
    /// machine, summary speedups dense/sparse): S = 0.1: FWD 1.00, BWI 0.98, BWW 1.69; S = 0.25: FWD 1.27, BWI 1.15,
    /// BWW 0.96; S = 0.5 (full size): 1.52 / 1.52 / 1.51. FWD and BWI break even near 0.1; BWW was noisy below 0.5,
    /// so its threshold sits conservatively at 0.3.
    /// Random zeros understate the sparse kernels: on the 32-channel tile, `--net fashion-vgg` with random zeros put the
    /// sparse FWD break-even near 0.7, but raising that tile's threshold to 0.7 made `lacuna train` epochs 17 s slower
    /// (106 vs 89 s) — its 32->32@28 FWD sees 0.52 real ReLU zeros, clustered, where the sparse kernel still wins.
    /// Calibrate on `--sparsity measured`, not on random masks.
    /// </summary>
    public const double ForwardThreshold = 0.1, BackwardInputThreshold = 0.1, BackwardWeightsThreshold = 0.3;

    /// <summary>Auto's choice for a measured zero fraction and an operation's threshold.</summary>
    public static ConvTrainMode Choose(double zeroFraction, double threshold) =>
        zeroFraction >= threshold ? ConvTrainMode.Sparse : ConvTrainMode.Dense;

    /// <param name="x">blocked [N][ceil(C/8)][H][W][8], padding lanes zero</param>
    /// <param name="weight">[K, C, KS, KS]</param>
    /// <param name="y">blocked [N][ceil(K/8)][H][W][8]</param>
    /// <param name="threads">0 = <see cref="WorkerPool.DefaultThreads"/></param>
    public static ConvTrainMode Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, ConvTrainShape shape,
        ConvTrainMode mode = ConvTrainMode.Auto, int threads = 0)
    {
        Check(shape, mode, x.Length, shape?.InputLength, nameof(x), weight.Length, y.Length, shape?.OutputLength, nameof(y));
        var m = Resolve(mode, x, shape!.InputLength, ForwardThreshold);
        Forward(ConvTrainRegistry.Best(m == ConvTrainMode.Sparse, shape.OutBlocks), x, weight, y, shape, WorkerPool.Resolve(threads));
        return m;
    }

    /// <param name="dy">blocked [N][ceil(K/8)][H][W][8], padding lanes zero</param>
    /// <param name="weight">[K, C, KS, KS]</param>
    /// <param name="dx">blocked [N][ceil(C/8)][H][W][8]</param>
    public static ConvTrainMode BackwardInput(ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx, ConvTrainShape shape,
        ConvTrainMode mode = ConvTrainMode.Auto, int threads = 0)
    {
        Check(shape, mode, dy.Length, shape?.OutputLength, nameof(dy), weight.Length, dx.Length, shape?.InputLength, nameof(dx));
        var m = Resolve(mode, dy, shape!.OutputLength, BackwardInputThreshold);
        BackwardInput(ConvTrainRegistry.Best(m == ConvTrainMode.Sparse, shape.InBlocks), dy, weight, dx, shape, WorkerPool.Resolve(threads));
        return m;
    }

    /// <param name="x">blocked [N][ceil(C/8)][H][W][8]</param>
    /// <param name="dy">blocked [N][ceil(K/8)][H][W][8]</param>
    /// <param name="dWeight">[K, C, KS, KS]</param>
    public static ConvTrainMode BackwardWeights(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, ConvTrainShape shape,
        ConvTrainMode mode = ConvTrainMode.Auto, int threads = 0)
    {
        Check(shape, mode, x.Length, shape?.InputLength, nameof(x), dWeight.Length, dy.Length, shape?.OutputLength, nameof(dy), weightName: nameof(dWeight));
        var m = Resolve(mode, x, shape!.InputLength, BackwardWeightsThreshold);
        BackwardWeights(ConvTrainRegistry.Best(m == ConvTrainMode.Sparse), x, dy, dWeight, shape, WorkerPool.Resolve(threads));
        return m;
    }

    internal static void Forward(ConvTrainKernel k, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, ConvTrainShape s, int threads) =>
        Rows(k, x, weight, y, s, transpose: false, threads);

    internal static void BackwardInput(ConvTrainKernel k, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx, ConvTrainShape s, int threads) =>
        Rows(k, dy, weight, dx, s, transpose: true, threads);

    internal static void BackwardWeights(ConvTrainKernel k, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, ConvTrainShape s, int threads)
    {
        fixed (float* px = x, pdy = dy, pdw = dWeight)
            ConvTrainDriver.RunWeights(k, s, px, pdy, pdw, threads);
    }

    private static void Rows(ConvTrainKernel k, ReadOnlySpan<float> src, ReadOnlySpan<float> weight, Span<float> dst, ConvTrainShape s, bool transpose, int threads)
    {
        float[] packed = ConvTrainScratch.Get(ConvTrainScratch.Packed, ConvTrainPacking.RowsLength(s, transpose, k.TileBlocks));
        ConvTrainPacking.PackRows(weight, s, transpose, k.TileBlocks, packed);
        fixed (float* ps = src, pw = packed, pd = dst)
            ConvTrainDriver.RunRows(k, s, transpose, ps, pw, pd, threads);
    }

    private static ConvTrainMode Resolve(ConvTrainMode mode, ReadOnlySpan<float> operand, long length, double threshold) =>
        mode != ConvTrainMode.Auto ? mode : Choose(ConvTrainLayout.ZeroFraction(operand[..(int)length]), threshold);

    private static void Check(ConvTrainShape? s, ConvTrainMode mode, int inLength, long? inRequired, string inName,
        int weightLength, int outLength, long? outRequired, string outName, string weightName = "weight")
    {
        if (s is null) ThrowHelper.ArgumentNull("shape");
        s.Validate();
        if (mode is < ConvTrainMode.Auto or > ConvTrainMode.Sparse) ThrowHelper.OutOfRange(nameof(mode), mode, "Unknown mode.");
        string blocked = $"{s} (blocked, channels rounded up to 8)";
        ThrowHelper.IfTooShort(inLength, inRequired!.Value, inName, blocked);
        ThrowHelper.IfTooShort(weightLength, s.WeightLength, weightName, $"[{s.OutChannels}, {s.InChannels}, {s.Kernel}, {s.Kernel}]");
        ThrowHelper.IfTooShort(outLength, outRequired!.Value, outName, blocked);
    }
}
