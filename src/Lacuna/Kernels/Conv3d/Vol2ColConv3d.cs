using System.Buffers;
using Lacuna.Threading;

namespace Lacuna.Kernels.Conv3d;

/// <summary>
/// 3-D convolution (ONNX Conv on [N, C, D, H, W]) as im2col into the repo's dense GEMM: per image, group and block of
/// output rows, <see cref="Vol2Col"/> lays the taps out as Col [Cg·KD·KH·KW × cols] (threaded over tap rows), and one
/// GEMM Y[Mg × cols] = Wg[Mg × Cg·KD·KH·KW] · Col writes the block in place (ldc = OD·OH·OW) with the bias and the
/// activation as its epilogue. The weight needs no packing, so run-time weights take the same path. A 1×1×1 kernel
/// with unit strides and no padding multiplies the input directly. On several threads the row blocks are shared out
/// (at least one per thread), each filled and multiplied on its own thread; on one, a block's fill is split by taps. Same contract as <see cref="Reference.ReferenceConvNd"/>.
/// </summary>
public static class Vol2ColConv3d
{
    /// <summary>
    /// The column block's size limit in floats (4 MB): blocks of output rows keep it near the caches and bounded for
    /// large volumes, while still giving the GEMM wide panels. Measured on a 32x16x3x3x3 layer over 8x28x28 (1 thread,
    /// AVX-512): vol2col 0.93 ms at 16 MB (one block), 0.55 ms at 4 MB; at 1 MB and below a 64x32x3x3x3 stride-2 layer's
    /// blocks got too narrow for the GEMM (1.1 -> 4.1 ms).
    /// </summary>
    internal const int ColumnBudget = 1 << 20;

    public static unsafe void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvNdParams p, Activation activation = default, int threads = 0, int columnBudget = ColumnBudget)
    {
        if (p.Spatial != 3) ThrowHelper.Shape(nameof(p), $"Vol2ColConv3d takes 3-D parameters; got {p.Spatial}-D ({p}).");
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0], c = inputShape[1], m = os[1], cg = c / p.Groups, mg = m / p.Groups;
        var e = new Vol2Col.Extents(inputShape[2], inputShape[3], inputShape[4], os[2], os[3], os[4]);
        int inVol = e.D * e.H * e.W, outVol = e.OD * e.OH * e.OW, taps = cg * p.KernelVolume, outRows = e.OD * e.OH;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * inVol, nameof(input), "X [N, C, D, H, W]");
        ThrowHelper.IfTooShort(weight.Length, (long)m * taps, nameof(weight), "W [M, C/groups, KD, KH, KW]");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * outVol, nameof(output), "Y [N, M, OD, OH, OW]");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");
        int t = WorkerPool.Resolve(threads);
        bool hasBias = !bias.IsEmpty;
        var axis = hasBias ? BiasAxis.Row : BiasAxis.None;
        bool pointwise = p.KernelVolume == 1 && p.Strides.All(s => s == 1) && p.PadsBegin.Concat(p.PadsEnd).All(v => v == 0);
        int blockRows = (int)Math.Clamp((long)columnBudget / ((long)taps * e.OW), 1, outRows);
        // With several threads, whole blocks go to threads (each fills its own columns and runs a one-thread GEMM):
        // a layer's few output channels (M = 32) gave the threaded GEMM too little to split.
        if (t > 1 && outRows >= t) blockRows = Math.Min(blockRows, (outRows + t - 1) / t);
        int blocks = (outRows + blockRows - 1) / blockRows, parts = t > 1 ? Math.Min(t, blocks) : 1;
        fixed (float* px = input, pw = weight, pb = bias, py = output)
        {
            float* xs = px, ws = pw, bs = pb, ys = py;
            for (int b = 0; b < n; b++)
                for (int g = 0; g < p.Groups; g++)
                {
                    long x0 = (long)(b * c + g * cg) * inVol, y0 = (long)(b * m + g * mg) * outVol;
                    var w = new ReadOnlySpan<float>(ws + (long)g * mg * taps, mg * taps);
                    var gb = bias.IsEmpty ? default : new ReadOnlySpan<float>(bs + g * mg, mg);
                    if (pointwise)
                    {
                        Gemm.Compute(mg, outVol, taps, w, taps, false, new ReadOnlySpan<float>(xs + x0, cg * inVol), inVol, false,
                            new Span<float>(ys + y0, mg * outVol), outVol, bias: gb, biasAxis: axis, activation: activation, threads: t);
                        continue;
                    }
                    int gIndex = g;
                    KernelParallel.For(blocks, parts, (b0, b1) =>
                    {
                        var col = ArrayPool<float>.Shared.Rent(taps * blockRows * e.OW);
                        try
                        {
                            for (int block = b0; block < b1; block++)
                            {
                                int row0 = block * blockRows, rows = Math.Min(blockRows, outRows - row0), cols = rows * e.OW;
                                fixed (float* pc = col)
                                {
                                    float* cs = pc;
                                    int fillParts = parts > 1 ? 1 : KernelParallel.Parts(t, taps, (long)taps * cols);
                                    KernelParallel.For(taps, fillParts, (t0, t1) => Vol2Col.Fill(xs + x0, e, p, row0, rows, cs, t0, t1));
                                }
                                Gemm.Compute(mg, cols, taps, new ReadOnlySpan<float>(ws + (long)gIndex * mg * taps, mg * taps), taps, false, col, cols, false,
                                    new Span<float>(ys + y0 + (long)row0 * e.OW, (mg - 1) * outVol + cols), outVol,
                                    bias: hasBias ? new ReadOnlySpan<float>(bs + gIndex * mg, mg) : default, biasAxis: axis, activation: activation,
                                    threads: parts > 1 ? 1 : t);
                            }
                        }
                        finally
                        {
                            ArrayPool<float>.Shared.Return(col);
                        }
                    });
                }
        }
    }
}
