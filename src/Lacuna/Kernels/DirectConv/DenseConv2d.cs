using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Dense 2-D convolution, NCHW float32, bias and activation fused: the engine's dense conv path.
/// y[n,m,oh,ow] = act(bias[m] + Σ_{c,kh,kw} w[m,c,kh,kw] · x[n, g·Cg + c, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw]),
/// the contract of <see cref="Reference.ReferenceConv2d"/>. For constant weights prefer <see cref="DenseConv2dPlan"/>,
/// which packs them once; this one-off form packs into per-thread scratch on every call.
/// </summary>
public static unsafe class DenseConv2d
{
    /// <param name="input">[N, C, H, W]</param>
    /// <param name="weight">[M, C/groups, KH, KW]</param>
    /// <param name="bias">[M] or empty</param>
    /// <param name="output">[N, M, OH, OW], fully overwritten</param>
    /// <param name="threads">0 = <see cref="WorkerPool.DefaultThreads"/></param>
    public static void Compute(
        ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape,
        ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias,
        Span<float> output,
        Conv2dParams p,
        Activation activation = default,
        int threads = 0)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0];
        ThrowHelper.IfNegative(n, nameof(inputShape));
        var g = Check(weight, weightShape, bias, p, inputShape[1], inputShape[2], inputShape[3]);
        ThrowHelper.IfTooShort(input.Length, (long)n * g.InputImage, nameof(input), "the input shape");
        ThrowHelper.IfTooShort(output.Length, (long)n * os[1] * os[2] * os[3], nameof(output), "the output shape");
        int t = WorkerPool.Resolve(threads);
        if (n == 0) return;
        var alg = DenseConv2dPlan.ChooseAlgorithm(g);
        fixed (float* px = input, py = output, pw = weight, pbias = bias)
        {
            float* pb = bias.IsEmpty ? null : pbias;
            if (alg != ConvAlgorithm.Direct)
            {
                DenseConv2dPlan.Execute(g, alg, null, pw, pb, activation, px, py, n, t);
                return;
            }
            var layout = new DirectLayout(g, DirectConvKernels.Choose(g));
            float[] packedW = ConvScratch.Get(ConvScratch.PackedWeights, layout.PackedWeightLength(g));
            float[] packedB = ConvScratch.Get(ConvScratch.PackedBias, layout.PackedBiasLength(g));
            DirectConvDriver.Pack(g, layout, weight, bias, packedW, packedB);
            fixed (float* ppw = packedW, ppb = packedB)
                DenseConv2dPlan.Execute(g, alg, layout, ppw, ppb, activation, px, py, n, t);
        }
    }

    /// <summary>Validates weight and bias against the parameters for inputs of C×H×W; returns the layer geometry.</summary>
    internal static ConvGeometry Check(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int c, int h, int w)
    {
        p.OutputShape(new[] { 1, c, h, w }, weightShape);
        int m = weightShape[0];
        if (m < 1) ThrowHelper.Shape(nameof(weightShape), $"Conv2d weight needs at least one output channel; got M={m}.");
        var g = new ConvGeometry(c, h, w, m, p);
        ThrowHelper.IfTooShort(weight.Length, (long)m * g.K, nameof(weight), $"the weight shape [{m}, {g.Cg}, {g.KH}, {g.KW}]");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");
        return g;
    }
}
