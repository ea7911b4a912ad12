using Lacuna.Formats;
using Lacuna.Threading;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// Sparse × dense matrix product for pruned weights: Y[M×N] = act(W[M×K] · X[K×N] + bias[M]), W in CSR,
/// X and Y dense row-major (N = output pixels × batch for a 1x1 conv or an im2col'd conv). Vectorized along N
/// (Tadokoro et al., IEICE CPSY2020-55): each non-zero w[m,k] is broadcast and FMA'd into a register tile of
/// <see cref="SpmmKernel.Width"/> consecutive columns of row k of X. Columns are processed in chunks that keep
/// the touched rows of X in L2 across all output rows; the last N mod Width columns run once over a zero-padded
/// copy, so no read ever leaves X. Threads take contiguous row ranges of equal non-zero count.
/// Buffers: x ≥ K·N, y ≥ M·N, bias [M] or empty. Plans are immutable and safe to share between threads.
/// </summary>
public sealed unsafe class SpmmPlan
{
    /// <summary>Floats of X one column chunk should span (K · chunk): half of Zen 3's 512 KiB L2.</summary>
    private const int ChunkFloats = 64 * 1024;

    private readonly int[] _rowOffsets;
    private readonly int[] _cols;       // pinned
    private readonly float[] _values;   // pinned
    private readonly float[] _bias;     // pinned, [M]
    private readonly int[] _defaultParts;
    private readonly SpmmKernel _kernel;

    private SpmmPlan(CsrMatrix w, float[] bias, Activation activation, SpmmKernel kernel)
    {
        Weights = w;
        M = w.Rows; K = w.Cols;
        _rowOffsets = w.RowOffsets;
        _cols = GC.AllocateUninitializedArray<int>(Math.Max(1, w.Nnz), pinned: true);
        w.ColumnIndices.CopyTo(_cols, 0);
        _values = GC.AllocateUninitializedArray<float>(Math.Max(1, w.Nnz), pinned: true);
        w.Values.CopyTo(_values, 0);
        _bias = GC.AllocateArray<float>(Math.Max(1, M), pinned: true);
        bias.CopyTo(_bias, 0);
        Activation = activation;
        _kernel = kernel;
        _defaultParts = w.PartitionRowsByNnz(WorkerPool.Shared.MaxThreads);
    }

    public static SpmmPlan Create(CsrMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(weights, bias, activation, null);

    internal static SpmmPlan Create(CsrMatrix weights, ReadOnlySpan<float> bias, Activation activation, SpmmKernel? kernel)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        var b = new float[weights.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new SpmmPlan(weights, b, activation, kernel ?? SpmmKernels.Best);
    }

    public CsrMatrix Weights { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }
    public string Describe() => $"Spmm {_kernel.Name}, sparsity {Weights.Sparsity:P1}";

    /// <param name="x">X [K × n], row-major</param>
    /// <param name="n">columns of X and Y</param>
    /// <param name="y">Y [M × n], fully overwritten</param>
    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        int t = WorkerPool.Resolve(threads);
        if (n == 0 || M == 0) return;
        if (n == 1)
        {
            fixed (float* px1 = x, py1 = y, pv1 = _values, pb1 = _bias)
            fixed (int* pc1 = _cols)
            {
                float* xs = px1, ys = py1, vs = pv1, bs = pb1;
                int* cs = pc1;
                int[] offs = _rowOffsets;
                var act = Activation;
                var tier = _kernel.Tier;
                int p1 = Math.Min(t, M);
                int[] b1 = p1 == _defaultParts.Length - 1 ? _defaultParts : Weights.PartitionRowsByNnz(p1);
                if (p1 == 1) Spmv.Rows(0, M, offs, cs, vs, bs, xs, ys, act, tier);
                else WorkerPool.Shared.Run(p1, p => Spmv.Rows(b1[p], b1[p + 1], offs, cs, vs, bs, xs, ys, act, tier));
            }
            return;
        }
        int width = _kernel.Width;
        int nMain = n / width * width, tail = n - nMain;
        float[]? padded = null;
        if (tail > 0)
        {
            // The last columns, zero-padded to one full tile per row of X: the kernel reads whole tiles.
            padded = SpmmScratch.Tail((long)K * width);
            for (int k = 0; k < K; k++)
            {
                var dst = padded.AsSpan(k * width, width);
                x.Slice(k * n + nMain, tail).CopyTo(dst);
                dst[tail..].Clear();
            }
        }
        int parts = Math.Min(t, M);
        int[] bounds = parts == _defaultParts.Length - 1 ? _defaultParts : Weights.PartitionRowsByNnz(parts);
        int chunk = Math.Max(width, ChunkFloats / Math.Max(1, K) / width * width);
        fixed (float* px = x, py = y, pv = _values, pb = _bias, pt = padded)
        fixed (int* pc = _cols)
        {
            var job = new Job(this, px, py, pv, pb, pc, pt, n, nMain, tail, chunk);
            if (parts == 1) job.Rows(0, M);
            else WorkerPool.Shared.Run(parts, p => job.Rows(bounds[p], bounds[p + 1]));
        }
    }

    private readonly struct Job
    {
        private readonly SpmmPlan _plan;
        private readonly float* _x, _y, _values, _bias, _tailX;
        private readonly int* _cols;
        private readonly int _n, _nMain, _tail, _chunk;

        public Job(SpmmPlan plan, float* x, float* y, float* values, float* bias, int* cols, float* tailX, int n, int nMain, int tail, int chunk)
        {
            _plan = plan; _x = x; _y = y; _values = values; _bias = bias; _cols = cols; _tailX = tailX;
            _n = n; _nMain = nMain; _tail = tail; _chunk = chunk;
        }

        public void Rows(int m0, int m1)
        {
            var kernel = _plan._kernel;
            int width = kernel.Width;
            int[] offsets = _plan._rowOffsets;
            SpmmArgs a;
            a.Activation = _plan.Activation.Kind; a.Min = _plan.Activation.Min; a.Max = _plan.Activation.Max;
            for (int c0 = 0; c0 < _nMain; c0 += _chunk)
            {
                int c1 = Math.Min(_nMain, c0 + _chunk);
                a.Stride = _n;
                a.Valid = width;
                for (int m = m0; m < m1; m++)
                {
                    int start = offsets[m];
                    a.Cols = _cols + start; a.Values = _values + start; a.Count = offsets[m + 1] - start;
                    a.Bias = _bias[m];
                    float* yRow = _y + (long)m * _n;
                    for (int g = c0; g < c1; g += width)
                    {
                        a.X = _x + g;
                        a.Y = yRow + g;
                        kernel.Function(&a);
                    }
                }
            }
            if (_tail == 0) return;
            a.X = _tailX; a.Stride = width; a.Valid = _tail;
            for (int m = m0; m < m1; m++)
            {
                int start = offsets[m];
                a.Cols = _cols + start; a.Values = _values + start; a.Count = offsets[m + 1] - start;
                a.Bias = _bias[m];
                a.Y = _y + (long)m * _n + _nMain;
                kernel.Function(&a);
            }
        }
    }
}

/// <summary>Per-thread pinned scratch for the zero-padded tail columns of X.</summary>
internal static class SpmmScratch
{
    [ThreadStatic] private static float[]? t_tail;

    public static float[] Tail(long length)
    {
        if (length > Array.MaxLength) ThrowHelper.NotSupported($"SpMM tail scratch of {length} floats exceeds the largest array.");
        if (t_tail is null || t_tail.Length < length)
        {
            t_tail = null;
            t_tail = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 16), pinned: true);
        }
        return t_tail;
    }
}
