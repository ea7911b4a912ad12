using System.Buffers;
using System.Numerics.Tensors;
using Lacuna.Kernels.Reference;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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

        /// <summary>
        /// Kᵀ [headSize × keys] of one head: key row t becomes column t, by 8×8 register transposes (element by element,
        /// each store landed lk floats after the previous one).
        /// </summary>
        private void PackKeys(float* keys, float* kt) =>
            Layout.Transpose.TransposeTile(keys, KL.RowStride, kt, Shape.KeyLength, 0, Shape.HeadSize, 0, Shape.KeyLength);

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
            for (int r = 0; r < rows; r++) inv[r] = 1f / ExpRow(tile + r * lk, maskRows == null ? null : maskRows + r * MaskRow, lk, Scale);
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
        /// <summary>One score row s[0..n) becomes exp(s·scale + mask − max); returns its sum.</summary>
        private static float ExpRow(float* s, float* mask, int n, float scale)
        {
            if (Avx512F.IsSupported && n >= 16) return ExpRowAvx512(s, mask, n, scale);
            var row = new Span<float>(s, n);
            if (mask != null) TensorPrimitives.MultiplyAdd(row, scale, new ReadOnlySpan<float>(mask, n), row);
            else TensorPrimitives.Multiply(row, scale, row);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            return TensorPrimitives.Sum(row);
        }

        /// <summary>
        /// <see cref="ExpRow"/> in two passes (scale, mask and maximum; exponent and sum) with <see cref="ExpAvx512"/>:
        /// the same as five TensorPrimitives passes, whose per-call cost was paid for every row of 128 keys.
        /// </summary>
        private static float ExpRowAvx512(float* s, float* mask, int n, float scale)
        {
            var vs = Vector512.Create(scale);
            var mx = Vector512.Create(float.NegativeInfinity);
            int j = 0;
            for (; j + 16 <= n; j += 16)
            {
                var v = Avx512F.LoadVector512(s + j) * vs;
                if (mask != null) v += Avx512F.LoadVector512(mask + j);
                v.Store(s + j);
                mx = Vector512.Max(mx, v);
            }
            var m256 = Vector256.Max(mx.GetLower(), mx.GetUpper());
            var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
            float max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
            for (; j < n; j++)
            {
                float v = s[j] * scale + (mask != null ? mask[j] : 0f);
                s[j] = v;
                max = MathF.Max(max, v);
            }
            var vmax = Vector512.Create(max);
            var sum = Vector512<float>.Zero;
            j = 0;
            for (; j + 16 <= n; j += 16)
            {
                var e = ExpAvx512.NonPositive(Avx512F.LoadVector512(s + j) - vmax);
                e.Store(s + j);
                sum += e;
            }
            float total = Vector512.Sum(sum);
            for (; j < n; j++)
            {
                float e = MathF.Exp(s[j] - max);
                s[j] = e;
                total += e;
            }
            return total;
        }
    }
}
