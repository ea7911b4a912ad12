using Lacuna.Kernels.SparseConv;
using Lacuna.Threading;

namespace Lacuna.Kernels.BlockConv;

/// <summary>
/// Direct convolution for weights pruned in r×1 blocks (r output channels sharing each kept (c, kh, kw) position):
/// no im2col. Output channels are taken in groups of the kernel's Rows (a divisor of r, so a group lies in one block
/// row); each group keeps the list of positions where any of its channels has a non-zero weight, as offsets into the
/// phase-split, zero-padded input (<see cref="PhasePlanes"/>, the CSR direct conv's padding), with Rows packed
/// weights per position. Over the flattened output grid (oy·Wq + ox, see <see cref="PhasePlanes"/>) a pass loads a few
/// input vectors per position and broadcasts each of the Rows weights onto them: the dense direct tile's register
/// reuse on the block pattern's non-zeros only. The flattened grid keeps 7- and 14-wide outputs in whole vectors
/// (dropped columns ox ≥ OW cost (Wq − OW)/Wq). Any weights give the right result; without r×1 structure a group's
/// union of positions is larger than one row's. Groups must be 1. Plans are immutable; concurrent Run calls are safe.
/// </summary>
public sealed unsafe class BlockConv2dPlan
{
    private readonly int _m, _c, _h, _w, _oh, _ow, _groups;
    private readonly PhasePlanes _planes;
    private readonly int[] _groupOffsets;  // [groups + 1] into _offsets (entries) and, × Rows, into _weights
    private readonly int[] _offsets;       // [entries], pinned
    private readonly float[] _weights;     // [entries × Rows], pinned
    private readonly float[] _bias;        // [groups × Rows], pinned
    private readonly BlockConvKernel _kernel;
    private readonly string _family;

    private BlockConv2dPlan(int m, int c, int h, int w, int oh, int ow, PhasePlanes planes, int[] groupOffsets, int[] offsets,
        float[] weights, float[] bias, Activation activation, BlockConvKernel kernel, long weightCount, long nnz, string family)
    {
        _family = family;
        _m = m; _c = c; _h = h; _w = w; _oh = oh; _ow = ow; _planes = planes; _kernel = kernel;
        _groups = groupOffsets.Length - 1;
        _groupOffsets = groupOffsets;
        _offsets = GC.AllocateUninitializedArray<int>(Math.Max(1, offsets.Length), pinned: true);
        offsets.CopyTo(_offsets, 0);
        _weights = GC.AllocateUninitializedArray<float>(Math.Max(1, weights.Length), pinned: true);
        weights.CopyTo(_weights, 0);
        _bias = GC.AllocateUninitializedArray<float>(Math.Max(1, bias.Length), pinned: true);
        bias.CopyTo(_bias, 0);
        Activation = activation;
        Entries = offsets.Length;
        Sparsity = weightCount == 0 ? 1.0 : 1.0 - (double)nnz / weightCount;
    }

    /// <summary>
    /// Builds the plan for inputs [N, C, inputH, inputW] from weight [M, C, KH, KW] pruned in
    /// <paramref name="blockRows"/>×1 blocks along M (any zeros are handled; the block size picks the group width),
    /// bias [M] or empty.
    /// </summary>
    public static BlockConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, int blockRows, Activation activation = default) =>
        Create(weight, weightShape, bias, p, inputH, inputW, activation, BlockConvKernels.For(blockRows));

    /// <summary>The same with a forced registry entry (tests, benchmarks).</summary>
    internal static BlockConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, Activation activation, BlockConvKernel kernel)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        if (kernel is null) ThrowHelper.ArgumentNull(nameof(kernel));
        if (weightShape.Length != 4)
            ThrowHelper.Shape(nameof(weightShape), $"Conv2d weight must be rank 4 (M, C, KH, KW); got rank {weightShape.Length}.");
        if (p.Groups != 1)
            ThrowHelper.NotSupported($"Block direct convolution supports groups = 1 only (got groups = {p.Groups}); use the dense conv.");
        ThrowHelper.IfNegative(inputH, nameof(inputH));
        ThrowHelper.IfNegative(inputW, nameof(inputW));
        int m = weightShape[0], c = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        int[] os = p.OutputShape(new[] { 1, c, inputH, inputW }, weightShape);
        int taps = kh * kw, k = c * taps;
        ThrowHelper.IfTooShort(weight.Length, (long)m * k, nameof(weight), $"weight [{m}, {c}, {kh}, {kw}]");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");
        for (long i = 0; i < (long)m * k; i++)
            if (!float.IsFinite(weight[(int)i]))
                ThrowHelper.Argument(nameof(weight), $"Weight element {i} is {weight[(int)i]}; sparse plans need finite weights.");

        var planes = new PhasePlanes(c, inputH, inputW, p, os[2]);
        int rows = kernel.Rows, groups = (m + rows - 1) / rows;
        var groupOffsets = new int[groups + 1];
        var offsets = new List<int>();
        var packed = new List<float>();
        var packedBias = new float[groups * rows];
        long nnz = 0;
        for (int gi = 0; gi < groups; gi++)
        {
            int r0 = gi * rows, valid = Math.Min(rows, m - r0);
            for (int col = 0; col < k; col++)
            {
                bool any = false;
                for (int r = 0; r < valid; r++) any |= weight[(r0 + r) * k + col] != 0f;
                if (!any) continue;
                int ci = col / taps, t = col % taps;
                offsets.Add(planes.TapOffset(ci, t / kw, t % kw, p.DilationH, p.DilationW));
                for (int r = 0; r < rows; r++)
                {
                    float v = r < valid ? weight[(r0 + r) * k + col] : 0f;
                    if (v != 0f) nnz++;
                    packed.Add(v);
                }
            }
            groupOffsets[gi + 1] = offsets.Count;
            for (int r = 0; r < valid; r++) packedBias[gi * rows + r] = bias.IsEmpty ? 0f : bias[r0 + r];
        }
        return new BlockConv2dPlan(m, c, inputH, inputW, os[2], os[3], planes, groupOffsets, [.. offsets], [.. packed],
            packedBias, activation, kernel, (long)m * k, nnz, "BlockDirect");
    }

    /// <summary>
    /// A plan over groups another format packed (the N:M direct conv, <see cref="NmConv.NmConv2dPlan"/>): the same
    /// layout as <see cref="Create(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{float}, Conv2dParams, int, int, Activation, BlockConvKernel)"/>
    /// builds, with <paramref name="offsets"/> already taken through <paramref name="planes"/>' TapOffset. The caller
    /// has validated the shapes; <paramref name="family"/> names the plan in <see cref="Describe"/>.
    /// </summary>
    internal static BlockConv2dPlan FromGroups(int m, int c, int inputH, int inputW, int outputH, int outputW, PhasePlanes planes,
        int[] groupOffsets, int[] offsets, float[] weights, float[] bias, Activation activation, BlockConvKernel kernel,
        long weightCount, long nnz, string family) =>
        new(m, c, inputH, inputW, outputH, outputW, planes, groupOffsets, offsets, weights, bias, activation, kernel, weightCount, nnz, family);

    public Activation Activation { get; }
    /// <summary>(group, position) entries: each one loads the input once for Rows channels.</summary>
    public int Entries { get; }
    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity { get; }
    internal BlockConvKernel Kernel => _kernel;
    /// <summary>The register tile, e.g. "Avx512 8x48".</summary>
    public string TileName => _kernel.Name;

    public string Describe() => $"{_family} {_kernel.Name}, sparsity {Sparsity:P1}";

    public int[] OutputShape(int batch) => new[] { batch, _m, _oh, _ow };

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW], fully overwritten</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 0)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        ThrowHelper.IfTooShort(input.Length, (long)batch * _c * _h * _w, nameof(input), $"input [{batch}, {_c}, {_h}, {_w}]");
        ThrowHelper.IfTooShort(output.Length, (long)batch * _m * _oh * _ow, nameof(output), $"output [{batch}, {_m}, {_oh}, {_ow}]");
        int t = WorkerPool.Resolve(threads);
        if (batch == 0 || _m == 0 || _oh == 0 || _ow == 0) return;
        float[] planes = SparseConvScratch.Planes(_planes.Length);
        int parts = Math.Min(t, _groups);
        int[] bounds = Partition(parts);
        fixed (float* px = input, py = output, pp = planes)
        {
            float* inputPtr = px, outputPtr = py, planesPtr = pp;
            for (int n = 0; n < batch; n++)
            {
                _planes.Fill(inputPtr + (long)n * _c * _h * _w, planesPtr, t);
                float* yImage = outputPtr + (long)n * _m * _oh * _ow;
                if (parts == 1) RunGroups(0, _groups, planesPtr, yImage);
                else WorkerPool.Shared.Run(parts, part => RunGroups(bounds[part], bounds[part + 1], planesPtr, yImage));
            }
        }
    }

    /// <summary>Groups split into <paramref name="parts"/> runs of about equal entries (each entry costs the same).</summary>
    private int[] Partition(int parts)
    {
        var bounds = new int[parts + 1];
        long total = _groupOffsets[_groups];
        int gi = 0;
        for (int part = 1; part < parts; part++)
        {
            long target = total * part / parts;
            while (gi < _groups && _groupOffsets[gi] < target) gi++;
            bounds[part] = Math.Max(bounds[part - 1], Math.Min(gi, _groups - (parts - part)));
        }
        bounds[parts] = _groups;
        return bounds;
    }

    /// <summary>
    /// Output rows in blocks, groups inside, so a block's window of the planes stays in L2 across groups. Each group
    /// writes Rows grid rows into this worker's scratch, then its valid channels are compacted into the output.
    /// </summary>
    private void RunGroups(int g0, int g1, float* planes, float* y)
    {
        if (g0 >= g1) return;
        int wq = _planes.Wq, rows = _kernel.Rows;
        int gridLength = (_oh - 1) * wq + _ow;
        int rowsPerBlock = _planes.RowsPerBlock(_oh);
        nint stride = ((nint)rowsPerBlock * wq + 15) & ~(nint)15;
        float* grid = SparseConvScratch.Grid(stride * rows + 16);
        BlockConvArgs a;
        a.Planes = planes;
        a.GridStride = stride;
        a.Activation = Activation.Kind; a.Min = Activation.Min; a.Max = Activation.Max;
        fixed (int* offs = _offsets)
        fixed (float* w = _weights, b = _bias)
            for (int r0 = 0; r0 < _oh; r0 += rowsPerBlock)
            {
                int r1 = Math.Min(_oh, r0 + rowsPerBlock);
                a.Start = r0 * wq;
                a.End = Math.Min(r1 * wq, gridLength);
                a.Grid = grid - a.Start;
                for (int gi = g0; gi < g1; gi++)
                {
                    int start = _groupOffsets[gi];
                    a.Offsets = offs + start;
                    a.Weights = w + (long)start * rows;
                    a.Count = _groupOffsets[gi + 1] - start;
                    a.Bias = b + gi * rows;
                    _kernel.Function(&a);
                    int valid = Math.Min(rows, _m - gi * rows);
                    for (int r = 0; r < valid; r++)
                    {
                        float* src = grid + r * stride, dst = y + (long)(gi * rows + r) * _oh * _ow;
                        for (int oy = r0; oy < r1; oy++)
                            new ReadOnlySpan<float>(src + (long)(oy - r0) * wq, _ow).CopyTo(new Span<float>(dst + (long)oy * _ow, _ow));
                    }
                }
            }
    }
}
