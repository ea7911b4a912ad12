using System.Buffers;
using System.Numerics.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.ConvTranspose;

/// <summary>
/// 3-D ConvTranspose as <see cref="ConvTranspose2d"/> does 2-D: per image, group and block of input rows (an input row
/// is one (d, h) pair, W pixels), one GEMM Col [Mg·KD·KH·KW × cols] = Wgᵀ · Xg(block), then col2vol adds each column
/// row into the output at its kernel offset, over a bias-filled output. col2vol is threaded over output channels (each
/// writes only its own volume); the row adds are contiguous vector adds at stride 1 and a strided scatter otherwise.
/// Same contract as <see cref="Reference.ReferenceConvTransposeNd"/>.
/// </summary>
public static class ConvTranspose3d
{
    /// <summary>The column block's size limit in floats (16 MB): bounded for large volumes, wide panels for the GEMM.</summary>
    internal const int ColumnBudget = 1 << 22;

    public static unsafe void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape,
        ReadOnlySpan<float> bias, Span<float> output, ConvTransposeNdParams p, int threads = 0, int columnBudget = ColumnBudget)
    {
        if (p.Spatial != 3) ThrowHelper.Shape(nameof(p), $"ConvTranspose3d takes 3-D parameters; got {p.Spatial}-D ({p}).");
        int[] os = p.OutputShape(inputShape, weightShape);
        int n = inputShape[0], c = inputShape[1], m = os[1], cg = c / p.Groups, mg = m / p.Groups;
        int d = inputShape[2], h = inputShape[3], w = inputShape[4];
        int inVol = d * h * w, outVol = os[2] * os[3] * os[4], kVol = p.KernelVolume, rows = mg * kVol, inRows = d * h;
        ThrowHelper.IfTooShort(input.Length, (long)n * c * inVol, nameof(input), "X [N, C, D, H, W]");
        ThrowHelper.IfTooShort(weight.Length, (long)c * rows, nameof(weight), "W [C, M/groups, KD, KH, KW]");
        ThrowHelper.IfTooShort(output.Length, (long)n * m * outVol, nameof(output), "Y [N, M, OD, OH, OW]");
        if (!bias.IsEmpty && bias.Length != m) ThrowHelper.Shape(nameof(bias), $"ConvTranspose bias has {bias.Length} values; M = {m}.");
        int t = WorkerPool.Resolve(threads);
        int blockRows = (int)Math.Clamp((long)columnBudget / ((long)rows * w), 1, inRows);
        var col = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * blockRows * w));
        try
        {
            fixed (float* pc = col, py = output)
            {
                float* cs = pc, ys = py;
                for (int b = 0; b < n; b++)
                    for (int g = 0; g < p.Groups; g++)
                    {
                        int y0 = (b * m + g * mg) * outVol;
                        for (int mm = 0; mm < mg; mm++)
                            output.Slice(y0 + mm * outVol, outVol).Fill(bias.IsEmpty ? 0f : bias[g * mg + mm]);
                        var x = input.Slice((b * c + g * cg) * inVol);
                        for (int row0 = 0; row0 < inRows; row0 += blockRows)
                        {
                            int block = Math.Min(blockRows, inRows - row0), cols = block * w;
                            Gemm.Compute(rows, cols, cg, weight.Slice(g * cg * rows, cg * rows), rows, true,
                                x.Slice(row0 * w), inVol, false, col, cols, threads: t);
                            int parts = KernelParallel.Parts(t, mg, (long)rows * cols);
                            KernelParallel.For(mg, parts, (m0, m1) =>
                            {
                                for (int mm = m0; mm < m1; mm++)
                                    Col2Vol(new ReadOnlySpan<float>(cs + (long)mm * kVol * cols, kVol * cols), row0, block, h, w,
                                        new Span<float>(ys + y0 + (long)mm * outVol, outVol), os, p);
                            });
                        }
                    }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
        }
    }

    /// <summary>Adds one output channel's column rows [KD·KH·KW × block·W] (input rows [row0, row0 + block)) into its volume.</summary>
    private static void Col2Vol(ReadOnlySpan<float> col, int row0, int block, int h, int w, Span<float> y, int[] os, ConvTransposeNdParams p)
    {
        int od = os[2], oh = os[3], ow = os[4], cols = block * w, sw = p.Strides[2];
        for (int kz = 0; kz < p.Kernel[0]; kz++)
            for (int ky = 0; ky < p.Kernel[1]; ky++)
                for (int kx = 0; kx < p.Kernel[2]; kx++)
                {
                    var tap = col.Slice(((kz * p.Kernel[1] + ky) * p.Kernel[2] + kx) * cols, cols);
                    int dx = kx * p.Dilations[2] - p.PadsBegin[2];
                    // Input columns ix whose output column ix·SW + dx lies in [0, OW).
                    int ix0 = dx >= 0 ? 0 : (-dx + sw - 1) / sw;
                    int ix1 = ow - 1 - dx < 0 ? 0 : Math.Min(w, (ow - 1 - dx) / sw + 1);
                    if (ix0 >= ix1) continue;
                    for (int r = 0; r < block; r++)
                    {
                        int q = row0 + r, iz = q / h, iy = q % h;
                        int oz = iz * p.Strides[0] - p.PadsBegin[0] + kz * p.Dilations[0];
                        int oy = iy * p.Strides[1] - p.PadsBegin[1] + ky * p.Dilations[1];
                        if ((uint)oz >= (uint)od || (uint)oy >= (uint)oh) continue;
                        var src = tap.Slice(r * w, w);
                        var dst = y.Slice((oz * oh + oy) * ow, ow);
                        if (sw == 1) TensorPrimitives.Add(dst.Slice(ix0 + dx, ix1 - ix0), src[ix0..ix1], dst.Slice(ix0 + dx, ix1 - ix0));
                        else for (int ix = ix0; ix < ix1; ix++) dst[ix * sw + dx] += src[ix];
                    }
                }
    }
}
