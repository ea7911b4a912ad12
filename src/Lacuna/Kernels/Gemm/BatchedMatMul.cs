using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels;

/// <summary>
/// MatMul with NumPy batch broadcasting ([..., M, K] · [..., K, N], a 1-D operand as a row or column): one
/// <see cref="Gemm"/> per output matrix, the operands' matrix offsets precomputed (a broadcast operand repeats its
/// matrix). Many small products (attention's QKᵀ and ·V per head) run whole matrices per thread, single-threaded
/// inside; few large ones let the GEMM split each. The specification is <see cref="Reference.ReferenceMatMul"/>.
/// </summary>
public sealed class BatchedMatMul
{
    private readonly int _m, _n, _k;
    private readonly int[] _aOffset, _bOffset;

    public BatchedMatMul(int[] a, int[] b)
    {
        _m = a.Length == 1 ? 1 : a[^2];
        _k = a[^1];
        _n = b.Length == 1 ? 1 : b[^1];
        int[] aBatch = a.Length > 2 ? a[..^2] : [], bBatch = b.Length > 2 ? b[..^2] : [];
        int[] batch = Broadcast.Shape(aBatch, bBatch, "MatMul batch dimensions", "B");
        int[] sa = Broadcast.Strides(aBatch, batch), sb = Broadcast.Strides(bBatch, batch);
        int count = Broadcast.ElementCount(batch);
        _aOffset = new int[count];
        _bOffset = new int[count];
        for (int t = 0; t < count; t++)
        {
            _aOffset[t] = Broadcast.SourceIndex(t, batch, sa) * _m * _k;
            _bOffset[t] = Broadcast.SourceIndex(t, batch, sb) * _k * _n;
        }
    }

    public int Batches => _aOffset.Length;

    public string Describe() => $"batched Gemm {Batches}x[{_m}x{_k}]·[{_k}x{_n}] ({Gemm.Describe()})";

    /// <summary>Output matrices per thread below which whole products are spread over threads (each then single-threaded).</summary>
    private const long SmallProductFlops = 1 << 22;

    public unsafe void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        int batches = Batches, m = _m, n = _n, k = _k;
        if (batches == 0 || m == 0 || n == 0) return;
        if (k == 0) { y[..(batches * m * n)].Clear(); return; }
        int threads = WorkerPool.Resolve(0);
        int al = a.Length, bl = b.Length, yl = y.Length;
        fixed (float* pa = a, pb = b, py = y)
        {
            float* ap = pa, bp = pb, yp = py;
            void One(int t, int gemmThreads) => Gemm.Compute(m, n, k,
                new ReadOnlySpan<float>(ap + _aOffset[t], m * k), k, false,
                new ReadOnlySpan<float>(bp + _bOffset[t], k * n), n, false,
                new Span<float>(yp + (long)t * m * n, m * n), n, threads: gemmThreads);
            if (threads > 1 && batches >= threads && 2L * m * n * k < SmallProductFlops)
            {
                WorkerPool.Shared.Run(threads, part =>
                {
                    var (t0, t1) = WorkerPool.Range(batches, threads, part);
                    for (int t = t0; t < t1; t++) One(t, 1);
                });
                return;
            }
            for (int t = 0; t < batches; t++) One(t, 0);
        }
    }
}
