using Lacuna.Tensors;

namespace Lacuna.Kernels;

/// <summary>
/// A constant op(A) [M×K] packed once for <see cref="Gemm.Compute(GemmPackedA, int, ReadOnlySpan{float}, int, Span{float}, int, ReadOnlySpan{float}, BiasAxis, Activation, int)"/>
/// (inference weights): MR-row panels over the full K, ceil(M/MR)·MR·K floats, zero rows past M, in the layout
/// of the kernel the dispatcher picked when it was packed.
/// </summary>
public sealed unsafe class GemmPackedA : IDisposable
{
    private readonly AlignedBuffer _rows;

    internal GemmPackedA(GemmKernel kernel, int m, int k, ReadOnlySpan<float> a, int lda, bool transA)
    {
        Kernel = kernel; M = m; K = k;
        int mr = kernel.MR;
        _rows = new AlignedBuffer(checked((m + mr - 1) / mr * mr * k), clear: false);
        fixed (float* pa = a)
            GemmPack.Panels(pa, transA ? 1 : lda, transA ? lda : 1, m, k, mr, _rows.Pointer, (nint)mr * k, kernel.Tier >= IsaTier.Avx2Fma);
    }

    public int M { get; }
    public int K { get; }
    internal GemmKernel Kernel { get; }

    /// <summary>[ceil(M/MR) panels × K × MR]: panel q holds rows q·MR .. q·MR+MR-1, k-major.</summary>
    internal float* RowPanels => _rows.Pointer;

    public void Dispose() => _rows.Dispose();
}
