namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Everything about one convolution layer except the batch size: channels, spatial sizes, kernel, strides,
/// pads, dilations, groups. Built once from shapes already checked by <see cref="Conv2dParams.OutputShape"/>.
/// </summary>
internal sealed class ConvGeometry
{
    public readonly int C, H, W, M, OH, OW, G, Cg, Mg, KH, KW, SH, SW, PT, PL, DH, DW;

    public ConvGeometry(int c, int h, int w, int m, Conv2dParams p)
    {
        C = c; H = h; W = w; M = m;
        OH = p.OutputHeight(h); OW = p.OutputWidth(w);
        G = p.Groups; Cg = c / G; Mg = m / G;
        KH = p.KernelH; KW = p.KernelW; SH = p.StrideH; SW = p.StrideW;
        PT = p.PadTop; PL = p.PadLeft; DH = p.DilationH; DW = p.DilationW;
        PadBottom = p.PadBottom; PadRight = p.PadRight;
    }

    public readonly int PadBottom, PadRight;

    public int InputImage => C * H * W;
    public int OutputImage => M * OH * OW;
    public int OutputPixels => OH * OW;
    /// <summary>Reduction length of one output element: Cg·KH·KW.</summary>
    public int K => Cg * KH * KW;
    public int Taps => KH * KW;

    public bool IsPointwise =>
        KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && PadBottom == 0 && PadRight == 0;

    public bool IsDepthwise => G == C && G == M;

    public double Flops(int batch) => 2.0 * batch * M * OH * OW * K;

    public override string ToString() =>
        $"C={C} {H}x{W} -> M={M} {OH}x{OW}, k{KH}x{KW} s{SH}x{SW} p{PT},{PL},{PadBottom},{PadRight} d{DH}x{DW} g{G}";
}
