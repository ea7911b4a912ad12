namespace Lacuna.Kernels.DirectConv;

/// <summary>How a dense convolution is lowered. <see cref="DenseConv2dPlan"/> picks one per layer shape.</summary>
public enum ConvAlgorithm
{
    /// <summary>1x1, stride 1, no padding: Y[Mg×HW] = W[Mg×Cg] · X[Cg×HW] per image and group, no copy at all.</summary>
    Pointwise = 0,
    /// <summary>Any geometry: im2col into a reused buffer, then one GEMM per image and group, epilogue fused.</summary>
    Im2ColGemm = 1,
    /// <summary>Direct convolution on a zero-padded, stride-phase-split input copy; register tiles of channels × output columns.</summary>
    Direct = 2,
    /// <summary>Depthwise (groups = C = M): per channel, every tap swept over a phase-split padded plane (<see cref="DepthwiseConv2d"/>).</summary>
    Depthwise = 3,
}
