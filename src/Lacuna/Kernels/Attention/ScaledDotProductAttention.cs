using System.Buffers;
using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;
using Lacuna.Threading;

namespace Lacuna.Kernels.Attention;

/// <summary>
/// Fused scaled-dot-product attention per head: O = softmax(Q·Kᵀ·scale + mask)·V over the keys, with the
/// contract of <see cref="ReferenceAttention.Compute"/>. The [queries × keys] score matrix of a head is never
/// materialised: work is split into (batch, head, block of query rows) units; a unit computes its block's score tile
/// (block rows × all keys, sized to stay in L1/L2 next to the head's Kᵀ), turns each row into probabilities in place
/// and multiplies the tile by V straight into the output rows. Kᵀ of the head is packed once per unit run into
/// [headSize × keys] so both products are broadcast-FMA panels vectorized along a contiguous axis
/// (<see cref="AttentionPanelKernels"/>); consecutive units of one head reuse it. Units run in parallel on
/// <see cref="WorkerPool"/>. The softmax normalisation is applied to the output rows (headSize multiplies) rather
/// than to the probabilities (keys multiplies).
/// </summary>
public static unsafe class ScaledDotProductAttention
{
    /// <summary>Floats of score tile per unit: 8 Ki floats (32 KiB) keeps the tile and a 128×64 Kᵀ within L2.</summary>
    private const int TileFloats = 8192;

    /// <summary>Query rows per unit: a multiple of the panel's 4 rows, 4..64, the tile at most <see cref="TileFloats"/>.</summary>
    internal static int QueryBlock(int queries, int keys)
    {
        int rows = Math.Clamp(TileFloats / Math.Max(1, keys), 4, 64) & ~3;
        return Math.Min(rows, (queries + 3) & ~3);
    }

    /// <summary>The panel kernel this process uses, for benchmark headers.</summary>
    public static string Describe() => $"{AttentionPanelKernels.Best.Name}, score tile ≤ {TileFloats} floats";

    /// <param name="shape">batch, heads, query and key lengths, head size</param>
    /// <param name="q">queries in <paramref name="qLayout"/></param>
    /// <param name="k">keys in <paramref name="kLayout"/></param>
    /// <param name="v">values in <paramref name="vLayout"/></param>
    /// <param name="output">output rows in <paramref name="outputLayout"/>, every addressed row overwritten; must not overlap the inputs</param>
    /// <param name="scale">multiplies Q·Kᵀ, usually 1/√headSize</param>
    /// <param name="mask">additive mask laid out as <paramref name="maskShape"/>, or empty for none</param>
    /// <param name="threads">0: <see cref="WorkerPool.DefaultThreads"/></param>
    public static void Compute(AttentionShape shape,
        ReadOnlySpan<float> q, AttentionLayout qLayout, ReadOnlySpan<float> k, AttentionLayout kLayout,
        ReadOnlySpan<float> v, AttentionLayout vLayout, Span<float> output, AttentionLayout outputLayout,
        float scale, ReadOnlySpan<float> mask = default, AttentionMask maskShape = default, int threads = 0) =>
        ComputeWith(AttentionPanelKernels.Best, shape, q, qLayout, k, kLayout, v, vLayout, output, outputLayout, scale, mask, maskShape, threads);

    /// <summary><see cref="Compute"/> with an explicit registry entry (tests run every tier this way).</summary>
    internal static void ComputeWith(AttentionPanelKernel kernel, AttentionShape shape,
        ReadOnlySpan<float> q, AttentionLayout qLayout, ReadOnlySpan<float> k, AttentionLayout kLayout,
        ReadOnlySpan<float> v, AttentionLayout vLayout, Span<float> output, AttentionLayout outputLayout,
        float scale, ReadOnlySpan<float> mask, AttentionMask maskShape, int threads)
    {
        ReferenceAttention.Check(shape, q.Length, qLayout, k.Length, kLayout, v.Length, vLayout, output.Length, outputLayout, mask.Length, maskShape);
        var (batch, heads, lq, lk, d) = shape;
        if (batch == 0 || heads == 0 || lq == 0 || d == 0) return;
        int block = QueryBlock(lq, lk);
        int blocks = (lq + block - 1) / block;
        int units = batch * heads * blocks;
        long flops = 4L * batch * heads * lq * lk * d;
        int parts = (int)Math.Max(1, Math.Min(Math.Min(WorkerPool.Resolve(threads), units), flops / 2_000_000));
        fixed (float* pq = q, pk = k, pv = v, po = output, pm = mask)
        {
            var job = new Job
            {
                Kernel = kernel.Function, Shape = shape, Block = block, Blocks = blocks, Scale = scale,
                Q = (nint)pq, K = (nint)pk, V = (nint)pv, O = (nint)po, Mask = mask.IsEmpty ? 0 : (nint)pm,
                QL = qLayout, KL = kLayout, VL = vLayout, OL = outputLayout,
                MaskBatch = maskShape.BatchStride(lk), MaskRow = maskShape.RowStride(lk),
            };
            if (parts <= 1) { job.RunUnits(0, units); return; }
            WorkerPool.Shared.Run(parts, part =>
            {
                var (s, e) = WorkerPool.Range(units, parts, part);
                if (s < e) job.RunUnits(s, e);
            });
        }
    }

    /// <summary>One call's pointers and geometry, shared read-only by the parts.</summary>
    private sealed class Job
    {
        public delegate*<AttentionPanelArgs*, void> Kernel;
        public AttentionShape Shape;
        public int Block, Blocks;
        public float Scale;
        public nint Q, K, V, O, Mask;
        public AttentionLayout QL, KL, VL, OL;
        public long MaskBatch, MaskRow;

        public void RunUnits(int start, int end)
        {
            var (_, heads, lq, lk, d) = Shape;
            var pool = ArrayPool<float>.Shared;
            float[] kt = pool.Rent(Math.Max(1, d * lk)), tile = pool.Rent(Math.Max(1, Block * lk)), inv = pool.Rent(Block);
            try
            {
                fixed (float* pkt = kt, ptile = tile, pinv = inv)
                {
                    int packed = -1;
                    for (int u = start; u < end; u++)
                    {
                        int bh = u / Blocks, qb = u % Blocks;
                        int b = bh / heads, h = bh % heads;
                        if (bh != packed) { PackKeys((float*)K + b * KL.BatchStride + h * KL.HeadStride, pkt); packed = bh; }
                        int r0 = qb * Block, rows = Math.Min(Block, lq - r0);
                        float* qRows = (float*)Q + b * QL.BatchStride + h * QL.HeadStride + r0 * QL.RowStride;
                        float* oRows = (float*)O + b * OL.BatchStride + h * OL.HeadStride + r0 * OL.RowStride;
                        float* vRows = (float*)V + b * VL.BatchStride + h * VL.HeadStride;
                        float* maskRows = Mask == 0 ? null : (float*)Mask + b * MaskBatch + r0 * MaskRow;
                        RunBlock(qRows, rows, pkt, vRows, oRows, maskRows, ptile, pinv);
                    }
                }
            }
            finally
            {
                pool.Return(kt); pool.Return(tile); pool.Return(inv);
            }
        }

        /// <summary>Kᵀ [headSize × keys] of one head: key row t becomes column t.</summary>
        private void PackKeys(float* keys, float* kt)
        {
            int lk = Shape.KeyLength, d = Shape.HeadSize;
            for (int t = 0; t < lk; t++)
            {
                float* row = keys + t * KL.RowStride;
                for (int c = 0; c < d; c++) kt[c * lk + t] = row[c];
            }
        }

        private void RunBlock(float* qRows, int rows, float* kt, float* vRows, float* oRows, float* maskRows, float* tile, float* inv)
        {
            int lk = Shape.KeyLength, d = Shape.HeadSize;
            AttentionPanelArgs a;
            // Scores: tile[rows × keys] = Q rows · Kᵀ.
            for (int r = 0; r < rows; r += AttentionPanelKernels.MaxRows)
            {
                a.A = qRows + r * QL.RowStride; a.Lda = (nint)QL.RowStride; a.Rows = Math.Min(AttentionPanelKernels.MaxRows, rows - r);
                a.K = d; a.B = kt; a.Ldb = lk; a.N = lk; a.C = tile + r * lk; a.Ldc = lk;
                Kernel(&a);
            }
            // Each row: scale, mask, exp(s - max); the row's 1/Σ is kept for the output.
            for (int r = 0; r < rows; r++)
            {
                var s = new Span<float>(tile + r * lk, lk);
                if (maskRows != null) TensorPrimitives.MultiplyAdd(s, Scale, new ReadOnlySpan<float>(maskRows + r * MaskRow, lk), s);
                else TensorPrimitives.Multiply(s, Scale, s);
                float max = TensorPrimitives.Max(s);
                TensorPrimitives.Subtract(s, max, s);
                TensorPrimitives.Exp(s, s);
                inv[r] = 1f / TensorPrimitives.Sum(s);
            }
            // Output rows = exp tile · V, then × 1/Σ.
            for (int r = 0; r < rows; r += AttentionPanelKernels.MaxRows)
            {
                a.A = tile + r * lk; a.Lda = lk; a.Rows = Math.Min(AttentionPanelKernels.MaxRows, rows - r);
                a.K = lk; a.B = vRows; a.Ldb = (nint)VL.RowStride; a.N = d; a.C = oRows + r * OL.RowStride; a.Ldc = (nint)OL.RowStride;
                Kernel(&a);
            }
            for (int r = 0; r < rows; r++)
            {
                var o = new Span<float>(oRows + r * OL.RowStride, d);
                TensorPrimitives.Multiply(o, inv[r], o);
            }
        }
    }
}
