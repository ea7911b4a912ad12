using Lacuna.Tensors;

namespace Lacuna.Kernels;

/// <summary>
/// A constant op(B) [K×N] (e.g. a token-linear layer's weights, op(B) = Wᵀ) packed once into the NR-wide column
/// panels of <paramref name="kernel"/> over the full K, so a call with few rows (128 tokens) does not repack all
/// K·N weights for its few row tiles: ceil(N/NR) panels of K·NR floats; the last one at the edge tile's width when
/// its columns fit there (the layout the driver's edge tail expects), zero columns past N.
/// </summary>
internal sealed unsafe class GemmPackedB : IDisposable
{
    private readonly AlignedBuffer _cols;

    public GemmPackedB(GemmKernel kernel, int n, int k, ReadOnlySpan<float> b, int ldb, bool transB)
    {
        Kernel = kernel; N = n; K = k;
        int nr = kernel.NR;
        int panels = (n + nr - 1) / nr;
        _cols = new AlignedBuffer(checked(Math.Max(1, panels * nr * k)), clear: false);
        int full = Math.Max(0, n - 1) / nr * nr, last = n - full;
        int lastWidth = kernel.Edge is { } e && last <= e.NR ? e.NR : nr;
        // Lines are columns of op(B): op(B)(p, j) = b[p·ldb + j], or b[j·ldb + p] when transposed.
        nint lineStride = transB ? ldb : 1, kStride = transB ? 1 : ldb;
        bool avx2 = kernel.Tier >= IsaTier.Avx2Fma;
        fixed (float* pb = b)
        {
            GemmPack.Panels(pb, lineStride, kStride, full, k, nr, _cols.Pointer, PanelStride, avx2);
            if (n > 0) GemmPack.Panels(pb + full * lineStride, lineStride, kStride, last, k, lastWidth, _cols.Pointer + full / nr * PanelStride, PanelStride, avx2);
        }
    }

    public int N { get; }
    public int K { get; }

    /// <summary>The entry the panels were packed for: a run may use any entry with the same NR and edge width (<see cref="Fits"/>).</summary>
    public GemmKernel Kernel { get; }

    /// <summary>Floats from one panel to the next (K·NR).</summary>
    public nint PanelStride => (nint)K * Kernel.NR;

    /// <summary>[ceil(N/NR) panels × K × width], k-major.</summary>
    public float* ColumnPanels => _cols.Pointer;

    /// <summary>Whether <paramref name="k"/> reads these panels as packed: same NR, same edge tile width.</summary>
    public bool Fits(GemmKernel k) => k.NR == Kernel.NR && k.Edge?.NR == Kernel.Edge?.NR;

    public void Dispose() => _cols.Dispose();
}
