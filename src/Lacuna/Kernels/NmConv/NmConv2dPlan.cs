using Lacuna.Formats;
using Lacuna.Kernels.BlockConv;
using Lacuna.Kernels.SparseConv;

namespace Lacuna.Kernels.NmConv;

/// <summary>
/// Direct convolution for weights W [M × C·kh·kw] pruned N:M along the reduction axis (<see cref="NmMatrix"/>): no
/// im2col. Each slot's column (c, kh, kw) becomes an offset into the phase-split, zero-padded input
/// (<see cref="PhasePlanes"/>), and the output grid is swept by the block-direct conv's register tiles
/// (<see cref="BlockConvKernels"/>), whose contract (a group of Rows channels sharing one list of positions, Rows
/// weights per position) is exactly the row-shared N:M layout: with r rows per pattern, a group of Rows (a divisor of
/// r) channels runs its pattern row's N·K/M slots, and each loaded input vector feeds Rows FMAs. With r = 1 (per-row
/// N:M) the groups are single channels, one load per FMA as in the CSR direct conv but with equal work per channel.
/// Slots that hold zero in every channel of a group (padding of a sparse row) are skipped. Groups must be 1.
/// Plans are immutable; concurrent Run calls are safe.
/// </summary>
public sealed class NmConv2dPlan
{
    private readonly BlockConv2dPlan _plan;

    private NmConv2dPlan(BlockConv2dPlan plan, int n, int m, int rowsPerPattern)
    {
        _plan = plan; N = n; M = m; RowsPerPattern = rowsPerPattern;
    }

    public int N { get; }
    public int M { get; }
    public int RowsPerPattern { get; }

    /// <summary>
    /// Builds the plan for inputs [N, C, inputH, inputW] from dense weight [M, C, KH, KW] that is already
    /// <paramref name="n"/>:<paramref name="m"/> along C·KH·KW with <paramref name="rowsPerPattern"/> channels sharing
    /// each pattern (throws <see cref="LacunaFormatException"/> naming the first row and group that break it), bias [M] or empty.
    /// </summary>
    public static NmConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, int n, int m, int rowsPerPattern = 1, Activation activation = default)
    {
        CheckShape(weightShape, p);
        int rows = weightShape[0], k = weightShape[1] * weightShape[2] * weightShape[3];
        ThrowHelper.IfTooShort(weight.Length, (long)rows * k, nameof(weight), $"weight [{rows}, {weightShape[1]}, {weightShape[2]}, {weightShape[3]}]");
        var nm = NmMatrix.FromDense(weight, rows, k, n, m, rowsPerPattern);
        return Create(nm, weightShape, bias, p, inputH, inputW, activation, BlockConvKernels.For(rowsPerPattern));
    }

    /// <summary>The same from an N:M matrix [M × C·KH·KW] (its shape must match <paramref name="weightShape"/>).</summary>
    public static NmConv2dPlan Create(NmMatrix weights, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, Activation activation = default)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        return Create(weights, weightShape, bias, p, inputH, inputW, activation, BlockConvKernels.For(weights.RowsPerPattern));
    }

    /// <summary>The same with a forced registry entry (tests, benchmarks); its Rows must divide the rows per pattern.</summary>
    internal static NmConv2dPlan Create(NmMatrix w, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, Activation activation, BlockConvKernel kernel)
    {
        if (kernel is null) ThrowHelper.ArgumentNull(nameof(kernel));
        CheckShape(weightShape, p);
        ThrowHelper.IfNegative(inputH, nameof(inputH));
        ThrowHelper.IfNegative(inputW, nameof(inputW));
        int mOut = weightShape[0], c = weightShape[1], kh = weightShape[2], kw = weightShape[3], taps = kh * kw;
        if (w.Rows != mOut || w.Cols != c * taps)
            ThrowHelper.Shape(nameof(weightShape), $"N:M matrix is [{w.Rows}×{w.Cols}] but weight [{mOut}, {c}, {kh}, {kw}] needs [{mOut}×{c * taps}].");
        if (w.RowsPerPattern % kernel.Rows != 0)
            ThrowHelper.Argument(nameof(kernel), $"Kernel {kernel.Name} groups {kernel.Rows} channels, which does not divide {w.RowsPerPattern} rows per pattern.");
        if (!bias.IsEmpty && bias.Length != mOut)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {mOut} output channels.");
        int[] os = p.OutputShape(new[] { 1, c, inputH, inputW }, weightShape);
        var planes = new PhasePlanes(c, inputH, inputW, p, os[2]);

        int rows = kernel.Rows, groups = (mOut + rows - 1) / rows, slots = w.SlotsPerRow;
        // Tap offset of every column, so each pattern row's slots map to plane offsets without a division per slot.
        var tap = new int[c * taps];
        for (int col = 0; col < tap.Length; col++)
            tap[col] = planes.TapOffset(col / taps, col % taps / kw, col % kw, p.DilationH, p.DilationW);
        var groupOffsets = new int[groups + 1];
        var offsets = new List<int>(groups * slots);
        var packed = new List<float>(groups * slots * rows);
        var packedBias = new float[groups * rows];
        long nnz = 0;
        int[] columns = [];
        int columnsOf = -1;
        for (int gi = 0; gi < groups; gi++)
        {
            int r0 = gi * rows, valid = Math.Min(rows, mOut - r0), pattern = r0 / w.RowsPerPattern;
            if (pattern != columnsOf) { columns = w.SlotColumns(pattern); columnsOf = pattern; }
            for (int i = 0; i < slots; i++)
            {
                bool any = false;
                for (int r = 0; r < valid; r++) any |= w.Values[(long)(r0 + r) * slots + i] != 0f;
                if (!any) continue;
                offsets.Add(tap[columns[i]]);
                for (int r = 0; r < rows; r++)
                {
                    float v = r < valid ? w.Values[(long)(r0 + r) * slots + i] : 0f;
                    if (v != 0f) nnz++;
                    packed.Add(v);
                }
            }
            groupOffsets[gi + 1] = offsets.Count;
            for (int r = 0; r < valid; r++) packedBias[gi * rows + r] = bias.IsEmpty ? 0f : bias[r0 + r];
        }
        var plan = BlockConv2dPlan.FromGroups(mOut, c, inputH, inputW, os[2], os[3], planes, groupOffsets, [.. offsets], [.. packed],
            packedBias, activation, kernel, (long)mOut * c * taps, nnz, $"NmDirect {w.N}:{w.M}" + (w.RowsPerPattern == 1 ? "" : $":r{w.RowsPerPattern}"));
        return new NmConv2dPlan(plan, w.N, w.M, w.RowsPerPattern);
    }

    private static void CheckShape(ReadOnlySpan<int> weightShape, Conv2dParams p)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        if (weightShape.Length != 4)
            ThrowHelper.Shape(nameof(weightShape), $"Conv2d weight must be rank 4 (M, C, KH, KW); got rank {weightShape.Length}.");
        if (p.Groups != 1)
            ThrowHelper.NotSupported($"N:M direct convolution supports groups = 1 only (got groups = {p.Groups}); use the dense conv.");
    }

    public Activation Activation => _plan.Activation;
    /// <summary>(group, slot) entries run: each loads the input once for the group's channels.</summary>
    public int Entries => _plan.Entries;
    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity => _plan.Sparsity;
    internal BlockConvKernel Kernel => _plan.Kernel;
    /// <summary>The register tile, e.g. "Avx512 8x48".</summary>
    public string TileName => _plan.TileName;

    public string Describe() => _plan.Describe();

    public int[] OutputShape(int batch) => _plan.OutputShape(batch);

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW], fully overwritten</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 0) => _plan.Run(input, output, batch, threads);
}
