using Lacuna.Tensors;

namespace Lacuna.Kernels;

/// <summary>
/// A constant op(A) [M×K] packed once for <see cref="Gemm.Compute(GemmPackedA, int, ReadOnlySpan{float}, int, Span{float}, int, ReadOnlySpan{float}, BiasAxis, Activation, int)"/>
/// (inference weights). Stored as MR-row panels over the full K (ceil(M/MR)·MR·K floats, zero rows past M);
/// the NR-column panels that the small-N (transposed) orientation needs are derived on first use.
/// </summary>
public sealed unsafe class GemmPackedA : IDisposable
{
    private readonly AlignedBuffer _rows;
    private AlignedBuffer? _columns;
    private readonly object _gate = new();

    internal GemmPackedA(GemmKernel kernel, int m, int k, ReadOnlySpan<float> a, int lda, bool transA)
    {
        Kernel = kernel; M = m; K = k;
        int mr = kernel.MR;
        _rows = new AlignedBuffer(checked((m + mr - 1) / mr * mr * k), clear: false);
        fixed (float* pa = a)
            GemmPack.Panels(pa, transA ? 1 : lda, transA ? lda : 1, m, k, mr, _rows.Pointer, (nint)mr * k, kernel.Tier == IsaTier.Avx2Fma);
    }

    public int M { get; }
    public int K { get; }
    internal GemmKernel Kernel { get; }

    /// <summary>[ceil(M/MR) panels × K × MR]: panel q holds rows q·MR .. q·MR+MR-1, k-major.</summary>
    internal float* RowPanels => _rows.Pointer;

    /// <summary>[ceil(M/NR) panels × K × NR]: rows of A as NR-wide panels (A in the B role of Cᵀ = Bᵀ·Aᵀ), built once.</summary>
    internal float* ColumnPanels()
    {
        var cols = Volatile.Read(ref _columns);
        if (cols is null)
        {
            lock (_gate)
            {
                cols = _columns;
                if (cols is null)
                {
                    cols = BuildColumnPanels();
                    Volatile.Write(ref _columns, cols);
                }
            }
        }
        return cols.Pointer;
    }

    private AlignedBuffer BuildColumnPanels()
    {
        int mr = Kernel.MR, nr = Kernel.NR, m = M, k = K;
        int panels = (m + nr - 1) / nr;
        var buf = new AlignedBuffer(checked(panels * nr * k), clear: true);
        float* src = _rows.Pointer, dst = buf.Pointer;
        for (int i = 0; i < m; i++)
        {
            float* s = src + (nint)(i / mr) * mr * k + i % mr;
            float* d = dst + (nint)(i / nr) * nr * k + i % nr;
            for (int p = 0; p < k; p++) d[p * nr] = s[p * mr];
        }
        return buf;
    }

    public void Dispose()
    {
        _rows.Dispose();
        _columns?.Dispose();
    }
}
