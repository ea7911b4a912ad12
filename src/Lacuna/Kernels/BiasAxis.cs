namespace Lacuna.Kernels;

/// <summary>Where a GEMM bias is broadcast from.</summary>
public enum BiasAxis
{
    None = 0,
    /// <summary>bias[M]: one value per output row (per output channel in a conv lowered to GEMM).</summary>
    Row = 1,
    /// <summary>bias[N]: one value per output column (ONNX Gemm's usual C of shape [N]).</summary>
    Column = 2,
}
