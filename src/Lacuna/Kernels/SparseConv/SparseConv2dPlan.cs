using Lacuna.Formats;
using Lacuna.Kernels.Elementwise;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.SparseConv;

/// <summary>
/// Direct sparse convolution (Park et al., ICLR'17): no im2col. Each output channel m keeps its non-zero
/// weights w[m, c, kh, kw] as a CSR row whose column indices are pre-converted to offsets into the phase-split,
/// zero-padded input (<see cref="PhasePlanes"/>), so
/// y[n, m, oy, ox] = act(bias[m] + Σ_nz value · planes[offset + oy·Wq + ox]) is a broadcast-FMA over a
/// contiguous run of the flattened output grid. Work is proportional to the non-zeros, so it beats the dense
/// conv once sparsity outweighs the lost register reuse (see <c>lacuna bench conv --sweep</c>).
/// Groups must be 1. Plans are immutable; concurrent Run calls are safe (scratch is per thread).
/// </summary>
public sealed unsafe class SparseConv2dPlan : IDisposable
{
    private readonly int _m, _c, _h, _w, _oh, _ow;
    private readonly PhasePlanes _planes;
    private readonly int[] _rowOffsets;      // [M + 1] into _values/_offsets
    // Native (NativeArray), shared by the plans of WithKernel: the planner frees a losing layer's at once. The CSR
    // matrix the plan was made from is not kept (its values and column indices were a second copy of the weights).
    private readonly NativeArray<float> _values;  // [nnz]
    private readonly NativeArray<int> _offsets;   // [nnz]: offsets into the planes
    private readonly float[] _bias;          // [M]
    private readonly int[] _channelParts;    // output channels split by non-zero count, for 1..MaxThreads parts
    private readonly SparseConvKernel _kernel;

    private SparseConv2dPlan(int m, int c, int h, int w, int oh, int ow, PhasePlanes planes, CsrMatrix csr, int[] offsets,
        float[] bias, Activation activation, SparseConvKernel kernel, long weightCount)
    {
        _m = m; _c = c; _h = h; _w = w; _oh = oh; _ow = ow; _planes = planes;
        _rowOffsets = csr.RowOffsets;
        _values = new NativeArray<float>(csr.Values);
        _offsets = new NativeArray<int>(offsets);
        _bias = bias;
        Activation = activation;
        _kernel = kernel;
        Nnz = csr.Nnz;
        Sparsity = weightCount == 0 ? 1.0 : 1.0 - (double)csr.Nnz / weightCount;
        _channelParts = csr.PartitionRowsByNnz(Math.Max(1, WorkerPool.Shared.MaxThreads));
    }

    /// <summary>The same plan (weights, offsets and bias shared, not copied) run by another kernel.</summary>
    private SparseConv2dPlan(SparseConv2dPlan other, SparseConvKernel kernel)
    {
        _m = other._m; _c = other._c; _h = other._h; _w = other._w; _oh = other._oh; _ow = other._ow; _planes = other._planes;
        _rowOffsets = other._rowOffsets; _values = other._values; _offsets = other._offsets; _bias = other._bias;
        _channelParts = other._channelParts;
        Activation = other.Activation; Nnz = other.Nnz; Sparsity = other.Sparsity;
        _kernel = kernel;
    }

    /// <summary>
    /// This plan on another registry entry, sharing its arrays: the conv planner times one plan per tile of
    /// <see cref="SparseConvKernels.Candidates"/> without a copy of the weights for each.
    /// </summary>
    internal SparseConv2dPlan WithKernel(SparseConvKernel kernel)
    {
        if (kernel is null) ThrowHelper.ArgumentNull(nameof(kernel));
        return kernel == _kernel ? this : new SparseConv2dPlan(this, kernel);
    }

    internal SparseConvKernel Kernel => _kernel;

    /// <summary>The register tile this plan runs, e.g. "Avx512 1x128".</summary>
    public string TileName => _kernel.Name;

    /// <summary>The tiles the conv planner times on each layer in this process (the default first), e.g. "Avx512 1x128".</summary>
    public static IReadOnlyList<string> TileNames => SparseConvKernels.Candidates.Select(k => k.Name).ToArray();

    /// <summary>Benchmarks: this plan (arrays shared) on the tile named <paramref name="tile"/>, any this process supports.</summary>
    public SparseConv2dPlan WithTile(string tile)
    {
        var k = SparseConvKernels.Supported.FirstOrDefault(k => k.Name == tile);
        if (k is null)
            ThrowHelper.Argument(nameof(tile), $"No sparse conv tile '{tile}' on this machine; there are: {string.Join(", ", SparseConvKernels.Supported.Select(x => x.Name))}.");
        return WithKernel(k);
    }

    /// <summary>
    /// Builds the plan for inputs [N, C, inputH, inputW] from weight [M, C, KH, KW] (its zeros define the sparsity),
    /// bias [M] or empty. <paramref name="kernel"/> forces a registry entry (tests, benchmarks).
    /// </summary>
    public static SparseConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, Activation activation = default) =>
        Create(weight, weightShape, bias, p, inputH, inputW, activation, null);

    internal static SparseConv2dPlan Create(ReadOnlySpan<float> weight, ReadOnlySpan<int> weightShape, ReadOnlySpan<float> bias,
        Conv2dParams p, int inputH, int inputW, Activation activation, SparseConvKernel? kernel)
    {
        if (p is null) ThrowHelper.ArgumentNull(nameof(p));
        if (weightShape.Length != 4)
            ThrowHelper.Shape(nameof(weightShape), $"Conv2d weight must be rank 4 (M, C, KH, KW); got rank {weightShape.Length}.");
        if (p.Groups != 1)
            ThrowHelper.NotSupported($"Sparse convolution supports groups = 1 only (got groups = {p.Groups}); use the dense conv.");
        ThrowHelper.IfNegative(inputH, nameof(inputH));
        ThrowHelper.IfNegative(inputW, nameof(inputW));
        int m = weightShape[0], c = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        int[] os = p.OutputShape(new[] { 1, c, inputH, inputW }, weightShape);
        long k = (long)c * kh * kw;
        ThrowHelper.IfTooShort(weight.Length, m * k, nameof(weight), $"weight [{m}, {c}, {kh}, {kw}]");
        if (!bias.IsEmpty && bias.Length != m)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but the conv has {m} output channels.");
        for (long i = 0; i < m * k; i++)
            if (!float.IsFinite(weight[(int)i]))
                ThrowHelper.Argument(nameof(weight), $"Weight element {i} is {weight[(int)i]}; sparse plans need finite weights.");

        var csr = CsrMatrix.FromDense(weight[..(int)(m * k)], m, (int)k);
        var planes = new PhasePlanes(c, inputH, inputW, p, os[2]);
        var offsets = new int[csr.Nnz];
        for (int i = 0; i < csr.Nnz; i++)
        {
            int col = csr.ColumnIndices[i];
            int ci = col / (kh * kw), t = col % (kh * kw);
            offsets[i] = planes.TapOffset(ci, t / kw, t % kw, p.DilationH, p.DilationW);
        }
        var b = bias.IsEmpty ? new float[m] : bias.ToArray();
        return new SparseConv2dPlan(m, c, inputH, inputW, os[2], os[3], planes, csr, offsets, b, activation,
            kernel ?? SparseConvKernels.Best, m * k);
    }

    public Activation Activation { get; }
    public int Nnz { get; }
    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity { get; }

    /// <summary>Whether this plan and <paramref name="other"/> run the same copy of the weights (<see cref="WithKernel"/>).</summary>
    internal bool SharesWeightsWith(SparseConv2dPlan other) => ReferenceEquals(_values, other._values);

    /// <summary>
    /// Frees the weights at once, for this plan and every plan of <see cref="WithKernel"/> that shares them (the conv
    /// planner disposes the layer's losing candidates); a later <see cref="Run"/> throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        _values.Dispose();
        _offsets.Dispose();
    }

    public string Describe() => $"SparseDirect {_kernel.Name}, sparsity {Sparsity:P1}";

    public int[] OutputShape(int batch) => new[] { batch, _m, _oh, _ow };

    /// <param name="input">[batch, C, H, W]</param>
    /// <param name="output">[batch, M, OH, OW], fully overwritten</param>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 0) => Run(input, output, batch, default, default, threads);

    /// <summary>
    /// y = act(conv(x) + residual): the residual [batch, M, OH, OW] is added where each block's grid rows are copied
    /// into the output (<see cref="Elementwise.OutputEpilogue"/>), so it costs no pass of its own. The plan must have
    /// no activation of its own. An empty <paramref name="residual"/> is the plain conv; <paramref name="post"/> is applied
    /// to each compacted row last, residual or not.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, ReadOnlySpan<float> residual, Activation residualActivation, int threads = 0,
        PostActivation post = default)
    {
        ThrowHelper.IfNegative(batch, nameof(batch));
        ThrowHelper.IfTooShort(input.Length, (long)batch * _c * _h * _w, nameof(input), $"input [{batch}, {_c}, {_h}, {_w}]");
        ThrowHelper.IfTooShort(output.Length, (long)batch * _m * _oh * _ow, nameof(output), $"output [{batch}, {_m}, {_oh}, {_ow}]");
        if (!residual.IsEmpty)
        {
            ThrowHelper.IfTooShort(residual.Length, (long)batch * _m * _oh * _ow, nameof(residual), $"residual [{batch}, {_m}, {_oh}, {_ow}]");
            if (Activation.Kind != ActivationKind.None)
                ThrowHelper.Argument(nameof(residual), $"a residual needs a plan without its own activation (this one applies {Activation}), which would come before the sum.");
        }
        int t = WorkerPool.Resolve(threads);
        ObjectDisposedException.ThrowIf(_values.IsDisposed, this);
        if (batch == 0 || _m == 0) return;
        float[] planes = SparseConvScratch.Planes(_planes.Length);
        fixed (float* px = input, py = output, pp = planes, pb = _bias, pr = residual)
        {
            float* inputPtr = px, outputPtr = py, planesPtr = pp, valsPtr = _values.Pointer, biasPtr = pb, residualPtr = pr;
            int* offsPtr = _offsets.Pointer;
            int parts = Math.Min(t, _m);
            int[] bounds = parts == _channelParts.Length - 1 ? _channelParts : CsrMatrix.PartitionRowsByNnz(_rowOffsets, parts);
            for (int n = 0; n < batch; n++)
            {
                _planes.Fill(inputPtr + (long)n * _c * _h * _w, planesPtr, t);
                long image = (long)n * _m * _oh * _ow;
                float* yImage = outputPtr + image;
                var epilogue = new OutputEpilogue(residual.IsEmpty ? null : residualPtr + image, residualActivation, post);
                if (parts == 1) RunChannels(0, _m, planesPtr, valsPtr, offsPtr, biasPtr, yImage, epilogue);
                else WorkerPool.Shared.Run(parts, part =>
                    RunChannels(bounds[part], bounds[part + 1], planesPtr, valsPtr, offsPtr, biasPtr, yImage, epilogue));
            }
        }
        GC.KeepAlive(this); // the weights are native: the plan must outlive the kernels that read them
    }

    /// <summary>
    /// Output rows are processed in blocks, channels inside: every output channel reads the same few input rows
    /// of every plane, so a block's window stays in L2 across channels instead of each channel streaming the
    /// whole image from L3 or memory (VGG-16 64@224 has 13 MB of planes).
    /// </summary>
    private void RunChannels(int m0, int m1, float* planes, float* vals, int* offs, float* bias, float* y, OutputEpilogue residual)
    {
        int wq = _planes.Wq;
        int gridLength = (_oh - 1) * wq + _ow; // last valid grid point + 1
        int rowsPerBlock = _planes.RowsPerBlock(_oh);
        float* grid = SparseConvScratch.Grid((long)rowsPerBlock * wq + 64);
        SparseConvArgs a;
        a.Planes = planes;
        a.Activation = Activation.Kind; a.Min = Activation.Min; a.Max = Activation.Max;
        for (int r0 = 0; r0 < _oh; r0 += rowsPerBlock)
        {
            int r1 = Math.Min(_oh, r0 + rowsPerBlock);
            a.Start = r0 * wq;
            a.End = Math.Min(r1 * wq, gridLength);
            a.Grid = grid - a.Start; // the kernel writes Grid[g] for g in [Start, End)
            for (int m = m0; m < m1; m++)
            {
                int start = _rowOffsets[m];
                a.Values = vals + start; a.Offsets = offs + start; a.Count = _rowOffsets[m + 1] - start;
                a.Bias = bias[m];
                _kernel.Function(&a);
                // Compact the block's grid rows (Wq wide) into the output rows (OW wide).
                // With a residual, the copy is the sum: y = act(grid + r), with no pass of its own; then the post-activation.
                float* dst = y + (long)m * _oh * _ow;
                for (int oy = r0; oy < r1; oy++)
                {
                    var row = new ReadOnlySpan<float>(grid + (long)(oy - r0) * wq, _ow);
                    var to = new Span<float>(dst + (long)oy * _ow, _ow);
                    if (residual.R == null) row.CopyTo(to);
                    else AddActivation.Range(row, new ReadOnlySpan<float>(residual.R + (long)m * _oh * _ow + (long)oy * _ow, _ow), to, residual.Act);
                    residual.Post.Apply(to);
                }
            }
        }
    }
}

/// <summary>Per-thread pinned scratch for <see cref="SparseConv2dPlan"/>: the caller's planes, each worker's grid.</summary>
internal static unsafe class SparseConvScratch
{
    [ThreadStatic] private static float[]? t_planes;
    [ThreadStatic] private static float[]? t_grid;
    [ThreadStatic] private static int t_planesEpoch, t_gridEpoch; // the ScratchEpoch each was allocated in

    public static float[] Planes(long length) => Ensure(ref t_planes, ref t_planesEpoch, length);

    /// <summary>Forgets this thread's arrays (<see cref="ScratchEpoch.Advance"/>, outside any kernel call).</summary>
    internal static void DropThisThread()
    {
        t_planes = null;
        t_grid = null;
    }

    public static float* Grid(long length)
    {
        // A stale array is replaced only when its own slot is asked for (see AlignedScratch.Get).
        var a = Ensure(ref t_grid, ref t_gridEpoch, length);
        // Pinned arrays never move, so the pointer stays valid for the array's lifetime (this thread keeps it alive).
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref a[0]);
    }

    private static float[] Ensure(ref float[]? slot, ref int slotEpoch, long length)
    {
        int epoch = ScratchEpoch.Current;
        if (slot is null || slot.Length < length || slotEpoch != epoch)
        {
            slotEpoch = epoch;
            if (length > Array.MaxLength) ThrowHelper.NotSupported($"Sparse conv scratch of {length} floats exceeds the largest array.");
            slot = null;
            slot = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 16), pinned: true);
        }
        return slot;
    }
}
