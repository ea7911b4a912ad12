namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// A residual sum fused into the kernel that produces a layer's output: y = act(y + r), applied by the kernel to each
/// block of y it has just finished (an SpMM window, a direct-conv row of a channel block, a sparse conv's compacted
/// rows) while that block is still in L1/L2, on the thread that wrote it. As a pass of its own after the conv, the sum
/// read y back from memory and ran on one thread: ResNet-50 at DLMC 0.9, 2 threads (`lacuna run --profile`), a
/// 256x64x3136 1x1 SpMM planned at 0.106 ms took 0.35-0.38 ms with its residual Add+Relu after it.
/// <see cref="R"/> has the layout of y (same offsets); the kernel runs with no activation of its own, since the
/// activation must follow the sum.
/// </summary>
internal readonly unsafe struct ResidualEpilogue
{
    public ResidualEpilogue(float* r, Activation act)
    {
        R = r;
        Act = act;
    }

    /// <summary>The residual, laid out as the output; null for none.</summary>
    public float* R { get; }

    public Activation Act { get; }

    public bool IsNone => R == null;

    /// <summary>y[offset .. offset + count) = act(y + r) at the same offsets.</summary>
    public void Apply(float* y, long offset, int count)
    {
        if (count <= 0) return;
        var dst = new Span<float>(y + offset, count);
        AddActivation.Range(dst, new ReadOnlySpan<float>(R + offset, count), dst, Act);
    }

    /// <summary><see cref="Apply"/> on <paramref name="rows"/> rows of <paramref name="count"/> floats, <paramref name="stride"/> apart.</summary>
    public void ApplyRows(float* y, long offset, int rows, long stride, int count)
    {
        for (int r = 0; r < rows; r++) Apply(y, offset + r * stride, count);
    }
}
