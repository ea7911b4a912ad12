using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Lacuna.Kernels.Reference;

namespace Lacuna.Kernels.Layout;

/// <summary>
/// ONNX Transpose for any rank and permutation with the contract of <see cref="ReferenceShapeOps.Transpose"/>.
/// The permutation is first simplified: size-1 axes are dropped and output axes that are also neighbours in the
/// input are merged (so NCHW→NHWC becomes a batch of [C, HW]→[HW, C] transposes, and a channel shuffle
/// [N, g, C/g, H, W]→(0, 2, 1, 3, 4) becomes copies of whole H·W planes). Then either the innermost output axis is
/// contiguous in the input and each run of it is one memmove, or the two innermost axes (the output's, and the
/// input's contiguous one) are transposed in cache tiles of <see cref="Tile"/>², reading and writing whole cache
/// lines, each tile by 8×8 (AVX) or 4×4 (SSE) register transposes with scalar edges. Units (runs, or tile strips) are split across threads.
/// </summary>
public static class Transpose
{
    /// <summary>Tile edge: a 32×32 float tile reads 32 cache lines of the source and writes 32 of the destination.</summary>
    private const int Tile = 32;

    public static unsafe void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm, Span<float> output, int threads = 0)
    {
        int[] outShape = ReferenceShapeOps.TransposeShape(inputShape, perm);
        int[] p = ReferenceShapeOps.ResolvePerm(inputShape, perm);
        ReferenceCheck.Data(input.Length, inputShape, "input", "Transpose");
        ReferenceCheck.Output(output.Length, outShape, "Transpose");
        if (input.IsEmpty) return;
        if (input.Overlaps(output)) ThrowHelper.Argument(nameof(output), "Transpose: output must not overlap the input.");
        var (sizes, srcStrides) = Simplify(outShape, p, ReferenceCheck.Strides(inputShape));
        fixed (float* px = input, py = output)
        {
            if (sizes.Length == 0) { *py = *px; return; }
            if (srcStrides[^1] == 1) Runs(px, py, sizes, srcStrides, threads);
            else Tiles(px, py, sizes, srcStrides, threads);
        }
    }

    /// <summary>
    /// Channel shuffle: input [N, C, H, W] (or any rank ≥ 2 with channels on axis 1) read as [N, g, C/g, rest] and
    /// written as [N, C/g, g, rest], the Reshape → Transpose(0, 2, 1, 3, ...) → Reshape of ShuffleNet.
    /// </summary>
    public static void ChannelShuffle(ReadOnlySpan<float> input, ReadOnlySpan<int> inputShape, int groups, Span<float> output, int threads = 0)
    {
        ReferenceCheck.Data(input.Length, inputShape, "input", "ChannelShuffle");
        if (inputShape.Length < 2) ThrowHelper.Shape("input", $"ChannelShuffle: input must be rank ≥ 2 (N, C, ...); got rank {inputShape.Length}.");
        int c = inputShape[1];
        if (groups < 1 || c % groups != 0)
            ThrowHelper.OutOfRange(nameof(groups), groups, $"ChannelShuffle: {c} channels do not split into {groups} groups.");
        int rest = ReferenceCheck.Product(inputShape[2..]);
        Compute(input, [inputShape[0], groups, c / groups, rest], [0, 2, 1, 3], output, threads);
    }

    /// <summary>Output axes without size-1 ones, neighbours that are neighbours in the input merged; with input strides.</summary>
    private static (int[] Sizes, long[] SrcStrides) Simplify(int[] outShape, int[] perm, int[] inStrides)
    {
        var sizes = new List<int>();
        var strides = new List<long>();
        for (int k = 0; k < outShape.Length; k++)
        {
            int size = outShape[k];
            if (size == 1) continue;
            long stride = inStrides[perm[k]];
            if (sizes.Count > 0 && strides[^1] == stride * size)
            {
                sizes[^1] *= size;
                strides[^1] = stride;
            }
            else
            {
                sizes.Add(size);
                strides.Add(stride);
            }
        }
        return (sizes.ToArray(), strides.ToArray());
    }

    private static long[] RowMajor(int[] sizes)
    {
        var s = new long[sizes.Length];
        long acc = 1;
        for (int i = sizes.Length - 1; i >= 0; i--) { s[i] = acc; acc *= sizes[i]; }
        return s;
    }

    /// <summary>The innermost output axis is contiguous in the input: one copy per run of it.</summary>
    private static unsafe void Runs(float* src, float* dst, int[] sizes, long[] srcStrides, int threads)
    {
        int r = sizes.Length, run = sizes[r - 1];
        int units = 1;
        for (int d = 0; d < r - 1; d++) units *= sizes[d];
        int parts = KernelParallel.Parts(threads, units, (long)units * run);
        KernelParallel.For(units, parts, (s, e) =>
        {
            var coord = new int[r - 1];
            long from = Decompose(s, sizes, srcStrides, r - 1, coord);
            for (int u = s; u < e; u++)
            {
                float* a = src + from, b = dst + (long)u * run;
                if (run < 8) for (int i = 0; i < run; i++) b[i] = a[i];
                else new ReadOnlySpan<float>(a, run).CopyTo(new Span<float>(b, run));
                from = Next(sizes, srcStrides, r - 1, coord, from);
            }
        });
    }

    /// <summary>
    /// Output axis q is the input's contiguous one and the innermost output axis r-1 is strided in the input:
    /// each unit is a strip of <see cref="Tile"/> entries of axis q, transposed against all of axis r-1 tile by tile.
    /// </summary>
    private static unsafe void Tiles(float* src, float* dst, int[] sizes, long[] srcStrides, int threads)
    {
        int r = sizes.Length, q = Array.IndexOf(srcStrides, 1L);
        if (q < 0) ThrowHelper.Argument("perm", "Transpose: no axis is contiguous in the input (internal error).");
        long[] dstStrides = RowMajor(sizes);
        // The outer axes: every axis but q and r-1, with their source and destination strides.
        var outerSizes = new List<int>();
        var outerSrc = new List<long>();
        var outerDst = new List<long>();
        for (int d = 0; d < r - 1; d++)
            if (d != q) { outerSizes.Add(sizes[d]); outerSrc.Add(srcStrides[d]); outerDst.Add(dstStrides[d]); }
        int[] os = outerSizes.ToArray();
        long[] osrc = outerSrc.ToArray(), odst = outerDst.ToArray();
        int outer = 1;
        foreach (int v in os) outer *= v;
        int rows = sizes[q], cols = sizes[r - 1];
        long ldDst = dstStrides[q], ldSrc = srcStrides[r - 1];
        int strips = (rows + Tile - 1) / Tile;
        int units = outer * strips;
        int parts = KernelParallel.Parts(threads, units, (long)outer * rows * cols);
        KernelParallel.For(units, parts, (s, e) =>
        {
            var coord = new int[os.Length];
            for (int u = s; u < e; u++)
            {
                int o = u / strips, i0 = u % strips * Tile, i1 = Math.Min(rows, i0 + Tile);
                long from = Decompose(o, os, osrc, os.Length, coord), to = 0;
                for (int d = 0; d < os.Length; d++) to += coord[d] * odst[d];
                for (int j0 = 0; j0 < cols; j0 += Tile)
                    TransposeTile(src + from, ldSrc, dst + to, ldDst, i0, i1, j0, Math.Min(cols, j0 + Tile));
            }
        });
    }

    /// <summary>
    /// dst[i·ldd + j] = src[j·lds + i] for i in [i0, i1), j in [j0, j1): 8×8 register transposes (AVX), else 4×4
    /// (SSE), then scalar for the edges and on other hardware.
    /// </summary>
    internal static unsafe void TransposeTile(float* src, long lds, float* dst, long ldd, int i0, int i1, int j0, int j1)
    {
        int i = i0;
        if (Vector256.IsHardwareAccelerated && Avx.IsSupported)
            for (; i + 8 <= i1; i += 8)
            {
                int j = j0;
                for (; j + 8 <= j1; j += 8) Block8(src + j * lds + i, lds, dst + i * ldd + j, ldd);
                Scalar(src, lds, dst, ldd, i, i + 8, j, j1);
            }
        if (Vector128.IsHardwareAccelerated && Sse.IsSupported)
            for (; i + 4 <= i1; i += 4)
            {
                int j = j0;
                for (; j + 4 <= j1; j += 4) Block4(src + j * lds + i, lds, dst + i * ldd + j, ldd);
                Scalar(src, lds, dst, ldd, i, i + 4, j, j1);
            }
        Scalar(src, lds, dst, ldd, i, i1, j0, j1);
    }

    private static unsafe void Scalar(float* src, long lds, float* dst, long ldd, int i0, int i1, int j0, int j1)
    {
        for (int i = i0; i < i1; i++)
        {
            float* d = dst + i * ldd;
            for (int j = j0; j < j1; j++) d[j] = src[j * lds + i];
        }
    }

    /// <summary>An 8×8 block: eight source rows in, eight destination rows out, through unpack, shuffle and lane permutes.</summary>
    private static unsafe void Block8(float* s, long lds, float* d, long ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + lds), r2 = Avx.LoadVector256(s + 2 * lds), r3 = Avx.LoadVector256(s + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(s + 4 * lds), r5 = Avx.LoadVector256(s + 5 * lds), r6 = Avx.LoadVector256(s + 6 * lds), r7 = Avx.LoadVector256(s + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>A 4×4 block with SSE unpacks and half moves.</summary>
    private static unsafe void Block4(float* s, long lds, float* d, long ldd)
    {
        Vector128<float> r0 = Sse.LoadVector128(s), r1 = Sse.LoadVector128(s + lds), r2 = Sse.LoadVector128(s + 2 * lds), r3 = Sse.LoadVector128(s + 3 * lds);
        var t0 = Sse.UnpackLow(r0, r1); var t1 = Sse.UnpackLow(r2, r3);
        var t2 = Sse.UnpackHigh(r0, r1); var t3 = Sse.UnpackHigh(r2, r3);
        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
        Sse.Store(d + ldd, Sse.MoveHighToLow(t1, t0));
        Sse.Store(d + 2 * ldd, Sse.MoveLowToHigh(t2, t3));
        Sse.Store(d + 3 * ldd, Sse.MoveHighToLow(t3, t2));
    }

    /// <summary>Sets <paramref name="coord"/> to the row-major coordinates of <paramref name="index"/> over the first <paramref name="rank"/> axes; returns its source offset.</summary>
    private static long Decompose(int index, int[] sizes, long[] strides, int rank, int[] coord)
    {
        long offset = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            coord[d] = index % sizes[d];
            index /= sizes[d];
            offset += coord[d] * strides[d];
        }
        return offset;
    }

    /// <summary>Advances <paramref name="coord"/> by one (row-major) and returns the updated source offset.</summary>
    private static long Next(int[] sizes, long[] strides, int rank, int[] coord, long offset)
    {
        for (int d = rank - 1; d >= 0; d--)
        {
            offset += strides[d];
            if (++coord[d] < sizes[d]) return offset;
            offset -= strides[d] * sizes[d];
            coord[d] = 0;
        }
        return offset;
    }
}
