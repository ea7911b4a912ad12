namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// Work a kernel fuses into the layer's output block by block: a residual sum y = act(y + r) and then a
/// <see cref="PostActivation"/> f(y), applied to each block of y it has just finished (an SpMM window, a direct-conv
/// row of a channel block, a GEMM panel, a sparse conv's compacted rows) while that block is still in L1/L2, on the
/// thread that wrote it. As a pass of its own after the conv, the residual sum read y back from memory and ran on one
/// thread: ResNet-50 at DLMC 0.9, 2 threads (`lacuna run --profile`), a 256x64x3136 1x1 SpMM planned at 0.106 ms
/// took 0.35-0.38 ms with its residual Add+Relu after it. <see cref="R"/> has the layout of y (same offsets); with a
/// residual the kernel runs with no activation of its own, since <see cref="Act"/> must follow the sum.
/// </summary>
internal readonly unsafe struct OutputEpilogue
{
    public OutputEpilogue(float* r, Activation act, PostActivation post = default)
    {
        R = r;
        Act = act;
        Post = post;
    }

    /// <summary>The residual, laid out as the output; null for none.</summary>
    public float* R { get; }

    /// <summary>The activation after the residual sum (unused without one).</summary>
    public Activation Act { get; }

    /// <summary>Applied last, to every block.</summary>
    public PostActivation Post { get; }

    public bool IsNone => R == null && Post.Kind == PostActivationKind.None;

    /// <summary>The same epilogue for an output that starts <paramref name="offset"/> floats in (one image of a batch).</summary>
    public OutputEpilogue At(long offset) => R == null ? this : new OutputEpilogue(R + offset, Act, Post);

    /// <summary>The epilogue on y[offset .. offset + count), r read at the same offsets.</summary>
    public void Apply(float* y, long offset, int count)
    {
        if (count <= 0) return;
        var dst = new Span<float>(y + offset, count);
        if (R != null) AddActivation.Range(dst, new ReadOnlySpan<float>(R + offset, count), dst, Act);
        Post.Apply(dst);
    }

    /// <summary><see cref="Apply"/> on <paramref name="rows"/> rows of <paramref name="count"/> floats, <paramref name="stride"/> apart.</summary>
    public void ApplyRows(float* y, long offset, int rows, long stride, int count)
    {
        for (int r = 0; r < rows; r++) Apply(y, offset + r * stride, count);
    }
}
