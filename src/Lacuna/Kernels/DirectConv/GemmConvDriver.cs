using Lacuna.Kernels.Elementwise;
using Lacuna.Threading;

namespace Lacuna.Kernels.DirectConv;

/// <summary>Convolutions lowered to <see cref="Gemm.Compute"/>: bias (Row) and activation fused in its epilogue.</summary>
internal static unsafe class GemmConvDriver
{
    /// <summary>1x1 stride 1 unpadded: Y[n, g] [Mg × HW] = W_g [Mg × Cg] · X[n, g] [Cg × HW], no copy.</summary>
    /// <param name="packed">The weights of each group packed once (a plan's constant weights), or null to pack per call.</param>
    /// <param name="weight">The weights [M × Cg]; only read (and may be null) without <paramref name="packed"/>.</param>
    /// <param name="epilogue">Applied to each finished panel of the output (packed weights only), or none.</param>
    public static void RunPointwise(ConvGeometry g, float* weight, float* bias, Activation act, float* input, float* output, int batch, int threads,
        GemmPackedA[]? packed = null, OutputEpilogue epilogue = default)
    {
        if (!epilogue.IsNone && packed is null) ThrowHelper.Argument(nameof(epilogue), "a fused epilogue needs packed weights.");
        int hw = g.OutputPixels;
        for (int n = 0; n < batch; n++)
            for (int gr = 0; gr < g.G; gr++)
            {
                var x = new ReadOnlySpan<float>(input + ((long)n * g.C + gr * g.Cg) * hw, g.Cg * hw);
                var y = new Span<float>(output + ((long)n * g.M + gr * g.Mg) * hw, g.Mg * hw);
                if (packed is not null)
                    Gemm.Compute(packed[gr], hw, x, hw, y, hw, BiasOf(g, bias, gr), bias == null ? BiasAxis.None : BiasAxis.Row, act,
                        epilogue.At(((long)n * g.M + gr * g.Mg) * hw), threads);
                else
                    Gemm.Compute(g.Mg, hw, g.Cg, new ReadOnlySpan<float>(weight + (long)gr * g.Mg * g.Cg, g.Mg * g.Cg), g.Cg, false, x, hw, false, y, hw,
                        bias: BiasOf(g, bias, gr), biasAxis: bias == null ? BiasAxis.None : BiasAxis.Row,
                        activation: act, threads: threads);
            }
    }

    /// <summary>Any geometry: im2col of one image and group into a reused per-thread buffer, then one GEMM.</summary>
    /// <param name="packed">The weights of each group packed once (a plan's constant weights), or null to pack per call.</param>
    /// <param name="weight">The weights [M × K]; only read (and may be null) without <paramref name="packed"/>.</param>
    /// <param name="epilogue">Applied to each finished panel of the output (packed weights only), or none.</param>
    public static void RunIm2Col(ConvGeometry g, float* weight, float* bias, Activation act, float* input, float* output, int batch, int threads,
        GemmPackedA[]? packed = null, OutputEpilogue epilogue = default)
    {
        if (!epilogue.IsNone && packed is null) ThrowHelper.Argument(nameof(epilogue), "a fused epilogue needs packed weights.");
        int k = g.K, hw = g.OutputPixels;
        float[] col = ConvScratch.Get(ConvScratch.Columns, (long)k * hw);
        fixed (float* pc = col)
        {
            for (int n = 0; n < batch; n++)
                for (int gr = 0; gr < g.G; gr++)
                {
                    Im2Col.FillAll(g, input + ((long)n * g.C + gr * g.Cg) * g.H * g.W, pc, threads);
                    var y = new Span<float>(output + ((long)n * g.M + gr * g.Mg) * hw, g.Mg * hw);
                    if (packed is not null)
                        Gemm.Compute(packed[gr], hw, new ReadOnlySpan<float>(pc, k * hw), hw, y, hw, BiasOf(g, bias, gr),
                            bias == null ? BiasAxis.None : BiasAxis.Row, act, epilogue.At(((long)n * g.M + gr * g.Mg) * hw), threads);
                    else
                        Gemm.Compute(g.Mg, hw, k, new ReadOnlySpan<float>(weight + (long)gr * g.Mg * k, g.Mg * k), k, false, new ReadOnlySpan<float>(pc, k * hw), hw, false, y, hw,
                            bias: BiasOf(g, bias, gr), biasAxis: bias == null ? BiasAxis.None : BiasAxis.Row,
                            activation: act, threads: threads);
                }
        }
    }

    private static ReadOnlySpan<float> BiasOf(ConvGeometry g, float* bias, int group) =>
        bias == null ? default : new ReadOnlySpan<float>(bias + (long)group * g.Mg, g.Mg);
}
