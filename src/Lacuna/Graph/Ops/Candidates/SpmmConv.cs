using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Threading;

namespace Lacuna.Graph.Ops;

/// <summary>
/// A conv layer run as a sparse product Y[i] (M × OH·OW) = W (M × K) · X'[i] (K × OH·OW) on any
/// <see cref="ISpmmPlan"/> (CSR or a structured format), X' being the image itself (1x1), its strided gather, or its
/// im2col matrix. Each helper captures only the plan and the shape, never a sibling candidate's state.
/// </summary>
internal static unsafe class SpmmConv
{
    /// <summary>1x1 stride 1: one image at a time, Y[i] = W · X[i] (C × HW).</summary>
    public static Action<ReadOnlySpan<float>, Span<float>, int> Images(ISpmmPlan plan, int m, int c, int hw) => (x, y, n) =>
    {
        for (int i = 0; i < n; i++)
            plan.Run(x.Slice(i * c * hw, c * hw), hw, y.Slice(i * m * hw, m * hw));
    };

    /// <summary><see cref="Images"/> with its epilogue (a residual [n, M, HW] or none, a post-activation) on each window of Y as it is finished.</summary>
    public static EpilogueConvRun ImagesWithEpilogue(SpmmPlan plan, int m, int c, int hw) => (x, y, n, r, act, post) =>
    {
        for (int i = 0; i < n; i++)
            plan.Run(x.Slice(i * c * hw, c * hw), hw, y.Slice(i * m * hw, m * hw), r.IsEmpty ? default : r.Slice(i * m * hw, m * hw), act, 0, post);
    };

    /// <summary>Strided 1x1: the product on the [C, OH, OW] gather of each image.</summary>
    public static Action<ReadOnlySpan<float>, Span<float>, int> Strided(ISpmmPlan plan, int m, int c, int h, int w, Conv2dParams p) =>
        StridedPointwise.Wrap(c, h, w, p, Images(plan, m, c, p.OutputHeight(h) * p.OutputWidth(w)));

    /// <summary>Any geometry (one group): im2col of each image into the calling thread's scratch, then the product.</summary>
    public static Action<ReadOnlySpan<float>, Span<float>, int> Im2Col(ConvGeometry g, ISpmmPlan plan) => (x, y, n) => RunIm2Col(g, plan, x, y, n);

    public static Func<string> Describe(ISpmmPlan plan, string suffix) => () => plan.Describe() + suffix;

    private static void RunIm2Col(ConvGeometry g, ISpmmPlan plan, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        int k = g.K, hw = g.OutputPixels;
        float[] col = ConvScratch.Get(ConvScratch.Columns, (long)k * hw);
        int threads = WorkerPool.Resolve(0);
        fixed (float* px = x, pc = col)
            for (int i = 0; i < n; i++)
            {
                Kernels.DirectConv.Im2Col.FillAll(g, px + (long)i * g.InputImage, pc, threads);
                plan.Run(new ReadOnlySpan<float>(pc, k * hw), hw, y.Slice(i * g.OutputImage, g.OutputImage));
            }
    }
}
