using Lacuna.Kernels.Elementwise;
using Lacuna.Formats;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.Spmm;

/// <summary>
/// Sparse × dense matrix product for pruned weights: Y[M×N] = act(W[M×K] · X[K×N] + bias[M]), W in CSR,
/// X and Y dense row-major (N = output pixels × batch for a 1x1 conv or an im2col'd conv). Vectorized along N
/// (Tadokoro et al., IEICE CPSY2020-55): each non-zero w[m,k] is broadcast and FMA'd into a register tile of
/// consecutive columns of row k of X. See <see cref="SpmmSchedule"/> for how N is cut into tiles, K into blocks
/// and the work into threads. Column indices are stored in 16 bits when K ≤ 65536; weights in fp32 or bf16.
/// Buffers: x ≥ K·N, y ≥ M·N, bias [M] or empty. Plans are immutable and safe to share between threads.
/// <para>Measured (`lacuna bench spmm --dlmc .../rn50/magnitude_pruning/S --threads 1 --repeat 7`, geomean vs OpenBLAS
/// sgemm on the 2-vCPU Zen 4 VM): S = 0.7: 2.16-2.21x, 0.9: 5.55x, 0.95: 9.72-9.79x. The kernel's floor, with X in
/// L1 and no index loads at all, is 1.26-1.4 cycles per 512-bit FMA, against OpenBLAS's 1.1; on the deep DLMC layers
/// X comes from L2 (each non-zero reads a whole tile row of X) and it is 2-2.6.</para>
/// <para>With <see cref="SpmmPrecision.BFloat16Activations"/> each packed block of X is bf16, half the bytes per FMA.
/// Measured on the DLMC rn50 0.9 matrices, 1 thread, Zen 5 (AVX-512), min of 15 interleaved runs on a loaded machine:
/// 1.25x the speed of fp32 X (geomean; 1.3-1.47x on the N = 196 and 49 layers, about 1.0-1.2x on 64-row layers,
/// where the tuning may keep fp32 X), max error 1.8e-3 of max |Y| (`bench spmm --bf16x`).</para>
/// </summary>
public sealed unsafe class SpmmPlan : ISpmmPlan, IDisposable
{
    // The plan's only copy of the weights, in native memory (see NativeArray): the CSR matrix it was made from is not
    // kept, since a second copy of every non-zero (values, 32- and 16-bit indices) doubled a pruned model's memory.
    private readonly NativeArray<ushort>? _cols16;  // K ≤ 65536
    private readonly NativeArray<int>? _cols32;
    private readonly NativeArray<float>? _valuesF32;
    private readonly NativeArray<ushort>? _valuesBf16; // one pad element first (see below)
    private readonly NativeArray<float> _bias;       // [M]
    private readonly int[] _rowOffsets;               // [M + 1]
    private readonly int[] _defaultParts;
    private readonly SpmmKernel[] _tiles;      // the tier's tiles, widest first (AVX-512 plans: then AVX2's)
    private readonly SpmmKernel? _forcedMain;  // tests: run every window with this tile

    private SpmmPlan(CsrMatrix w, float[] bias, Activation activation, SpmmPrecision precision, IsaTier tier, SpmmKernel? forcedMain, int blockBytes, bool? packed)
    {
        BlockBytes = blockBytes;
        ForcedPacked = packed;
        M = w.Rows; K = w.Cols;
        Nnz = w.Nnz;
        Sparsity = w.Sparsity;
        _rowOffsets = w.RowOffsets;
        Precision = precision;
        Index16 = w.Fits16BitIndices;
        if (Index16)
        {
            _cols16 = new NativeArray<ushort>(w.Nnz);
            var c = _cols16.Pointer;
            int[] source = w.ColumnIndices;
            for (int i = 0; i < source.Length; i++) c[i] = (ushort)source[i];
        }
        else _cols32 = new NativeArray<int>(w.ColumnIndices);
        if (precision.HasBf16Weights())
        {
            // One pad element first: the AVX2 kernels broadcast the 32 bits ending at weight i (see WeightBf16).
            _valuesBf16 = new NativeArray<ushort>(w.Nnz + 1, clear: true);
            var v = _valuesBf16.Pointer;
            for (int i = 0; i < w.Nnz; i++) v[i + 1] = BFloat16.FromSingle(w.Values[i]);
        }
        else _valuesF32 = new NativeArray<float>(w.Values);
        _bias = new NativeArray<float>(bias);
        Activation = activation;
        // An AVX-512 plan may also run AVX2 tiles: Zen 4 executes a 512-bit FMA as two 256-bit halves, so for
        // narrow N the finer AVX2 widths waste fewer lanes (DLMC rn50 0.9, N = 49: 1x56 AVX2 6.49 ms, best
        // AVX-512 tile 7.02 ms), while wide N runs faster on AVX-512 (N = 3136: 4.11 against 5.79 ms).
        _tiles = tier == IsaTier.Avx512 && forcedMain is null
            ? SpmmKernels.OfTier(IsaTier.Avx512).Concat(SpmmKernels.OfTier(IsaTier.Avx2Fma)).ToArray()
            : SpmmKernels.OfTier(tier);
        _forcedMain = forcedMain;
        _defaultParts = CsrMatrix.PartitionRowsByNnz(_rowOffsets, WorkerPool.Shared.MaxThreads);
    }

    /// <summary>
    /// Frees the weights at once (the conv planner disposes the candidates it did not choose); a later
    /// <see cref="Run"/> throws <see cref="ObjectDisposedException"/>. Without it the finalizers free them.
    /// </summary>
    public void Dispose()
    {
        _cols16?.Dispose(); _cols32?.Dispose(); _valuesF32?.Dispose(); _valuesBf16?.Dispose(); _bias.Dispose();
    }

    public static SpmmPlan Create(CsrMatrix weights, ReadOnlySpan<float> bias = default, Activation activation = default) =>
        Create(weights, bias, activation, SpmmPrecision.Float32);

    /// <summary>
    /// As <see cref="Create(CsrMatrix, ReadOnlySpan{float}, Activation)"/>, storing the weights, and with bf16
    /// activations the packed panels of X, in <paramref name="precision"/> (accumulation stays fp32).
    /// </summary>
    public static SpmmPlan Create(CsrMatrix weights, ReadOnlySpan<float> bias, Activation activation, SpmmPrecision precision) =>
        Create(weights, bias, activation, precision, null);

    /// <summary>
    /// Tests and benchmarks: <paramref name="tile"/> forces the tier and the main tile (null: the best tier, tiles chosen
    /// per N); <paramref name="blockBytes"/> forces the K block size in bytes of X (0: no blocking, -1: measured default);
    /// <paramref name="packed"/> forces reading X in place (false) or from packed panels (true) (null: measured).
    /// </summary>
    internal static SpmmPlan Create(CsrMatrix weights, ReadOnlySpan<float> bias, Activation activation, SpmmPrecision precision, SpmmKernel? tile, int blockBytes = -1, bool? packed = null)
    {
        if (weights is null) ThrowHelper.ArgumentNull(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            ThrowHelper.Shape(nameof(bias), $"Bias has {bias.Length} elements but W has {weights.Rows} rows.");
        if (precision is not (SpmmPrecision.Float32 or SpmmPrecision.BFloat16 or SpmmPrecision.BFloat16Activations or SpmmPrecision.BFloat16WeightsAndActivations))
            ThrowHelper.OutOfRange(nameof(precision), precision, "Unknown SpMM precision.");
        var b = new float[weights.Rows];
        if (!bias.IsEmpty) bias.CopyTo(b);
        return new SpmmPlan(weights, b, activation, precision, tile?.Tier ?? SpmmKernels.BestTier, tile, blockBytes, packed);
    }

    /// <summary>Names of the register tiles this process can run (AVX2 and wider tiers, or the best tier's), e.g. "Avx512 1x64".</summary>
    public static IReadOnlyList<string> TileNames =>
        SpmmKernels.Supported.Where(k => k.Tier >= IsaTier.Avx2Fma || k.Tier == SpmmKernels.BestTier).Select(k => k.Name).ToArray();

    /// <summary>Benchmarks: a plan that runs every window with the tile named <paramref name="tile"/> (see <see cref="TileNames"/>).</summary>
    public static SpmmPlan CreateWithTile(CsrMatrix weights, string tile)
    {
        var k = SpmmKernels.Supported.FirstOrDefault(k => k.Name == tile);
        if (k is null) ThrowHelper.Argument(nameof(tile), $"No SpMM tile '{tile}' on this machine; there are: {string.Join(", ", TileNames)}.");
        return Create(weights, default, default, SpmmPrecision.Float32, k);
    }

    /// <summary>The main tile for <paramref name="n"/> columns: the measured pick once a run with that N has tuned it, else the cost model's.</summary>
    public string TileFor(int n, int threads = 1) =>
        (_forcedMain ?? (_tuned.TryGetValue((n, WorkerPool.Resolve(threads)), out var c) ? c.Tile : SpmmSchedule.ChooseMain(this, n))).Name;

    /// <summary>
    /// What runs with <paramref name="n"/> columns and <paramref name="threads"/> threads once tuned, e.g. "Avx512 1x112,
    /// 64 KiB K blocks, packed, rows split", or "SpMV" for one column; null before the first such run.
    /// </summary>
    public string? ScheduleFor(int n, int threads) =>
        n == 1 && _forcedMain is null ? "SpMV" : _tuned.TryGetValue((n, WorkerPool.Resolve(threads)), out var c) ? Describe(c) : null;

    private static string Describe(SpmmChoice c) =>
        $"{c.Tile.Name}, {(c.BlockBytes == 0 ? "no K blocks" : $"{c.BlockBytes / 1024} KiB K blocks")}{(c.Packed ? ", packed" : "")}"
        + (c.SplitRows is { } rows ? rows ? ", rows split" : ", columns split" : "") + (c.Fp32X ? ", fp32 X" : "");

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int N, int Threads), SpmmChoice> _tuned = new();

    /// <summary>
    /// The main tile, K block and thread split for this N and thread count, measured on the first run that needs
    /// them, one after the other: the cost model's shortlist of tiles (<see cref="SpmmSchedule.Candidates"/>) at the
    /// default block, the best tile at each size of <see cref="SpmmSchedule.BlockSizes"/> reading X in place and at
    /// each of <see cref="SpmmSchedule.PackedBlockSizes"/> from packed panels, the shortlist again at that block and
    /// layout, then (several threads) columns against rows. Each step times its candidates on the caller's X (<see cref="KernelTimer.Fastest"/>);
    /// the result is kept for the plan's lifetime, so repeated runs compute the same bits.
    /// <list type="bullet">
    /// <item>The model alone mispredicts by up to 1.5x across tiers (DLMC rn50 0.9, 1 thread: it picked the AVX-512
    /// 12-vector tile, 6.08 ms summed over the N = 3136 layers, where the 7-vector one takes 4.11 ms).</item>
    /// <item>Blocks are tuned because the AVX-512 tiles moved the best one: at 0.7 sparsity 32 KiB blocks beat the
    /// 64 KiB chosen for AVX2 (DLMC rn50 geomean 1.88x vs 1.66x of OpenBLAS, 1 thread); at 0.9 no size won everywhere.</item>
    /// <item>With bf16 activations the packed bf16 blocks are timed against the fp32 layouts (in place and packed, with
    /// the tile picked for bf16), so each N runs the faster; the bench reports the error against fp32 next to the time.</item>
    /// <item>Each thread count has its own pick, and a column's summation order depends on its tile, so results
    /// with different thread counts agree to rounding, not bit for bit.</item>
    /// </list>
    /// </summary>
    private SpmmChoice Tuned(float* x, int n, float* y, int threads)
    {
        if (_tuned.TryGetValue((n, threads), out var known)) return known;
        int block = SpmmSchedule.DefaultBlockBytes(this);
        var candidates = SpmmSchedule.Candidates(this, SpmmSchedule.SplitColumns(n, threads) ? n / threads : n);
        var best = new SpmmChoice(candidates[0], block);
        if (BlockBytes < 0)
        {
            if (candidates.Length > 1) best = Fastest(candidates.Select(c => new SpmmChoice(c, block)).ToArray());
            var blocks = SpmmSchedule.BlockSizes.Select(b => best with { BlockBytes = b });
            var packedBlocks = SpmmSchedule.PackedBlockSizes.Select(b => best with { BlockBytes = b, Packed = true });
            // bf16 activations are always packed (the conversion happens in the packing), so only packed blocks differ.
            // Against them the fp32 layouts run too: where each X row meets few non-zeros (64-row layers at 0.9) the
            // conversion costs more than the halved bytes save, and a plan that allows bf16 need not use it.
            if (Precision.HasBf16Activations())
                blocks = packedBlocks.Concat(ForcedPacked is null ? blocks.Concat(packedBlocks).Select(c => c with { Fp32X = true }) : []);
            else if (ForcedPacked is null) blocks = blocks.Concat(packedBlocks);
            best = Fastest(blocks.ToArray());
            // The tile was picked at the default block, in place; at the chosen block and layout another may win
            // (DLMC rn50 0.7 256x64x3136: AVX2 1x56 kept at 0.46 ms where AVX-512 1x128 packed takes 0.38).
            if (candidates.Length > 1) best = Fastest(candidates.Select(c => best with { Tile = c }).ToArray());
            // Splitting columns halves each thread's X but leaves each a partial tail window; splitting rows by
            // non-zeros balances exactly but every thread reads all of X. Which wins depends on N and K.
            if (threads > 1 && n >= 2) best = Fastest(new[] { best with { SplitRows = false }, best with { SplitRows = true } });
        }
        return _tuned.GetOrAdd((n, threads), best);

        SpmmChoice Fastest(SpmmChoice[] choices) =>
            choices[KernelTimer.Fastest(choices.Select(c => (Action)(() => SpmmSchedule.Run(this, x, n, y, threads, c))).ToArray())];
    }

    /// <summary>
    /// The weights as this plan multiplies them (built on each call from the plan's own copy; with bf16 weights, the
    /// values rounded to bf16).
    /// </summary>
    public CsrMatrix Weights
    {
        get
        {
            var cols = new int[Nnz];
            var values = new float[Nnz];
            for (int i = 0; i < Nnz; i++)
            {
                cols[i] = Index16 ? ((ushort*)ColsPointer)[i] : ((int*)ColsPointer)[i];
                values[i] = _valuesF32 is not null ? _valuesF32.Pointer[i] : WeightBf16.Get(ValuesPointer, i);
            }
            GC.KeepAlive(this);
            return new CsrMatrix(M, K, (int[])_rowOffsets.Clone(), cols, values);
        }
    }

    /// <summary>Non-zero weights.</summary>
    public int Nnz { get; }

    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity { get; }
    public int M { get; }
    public int K { get; }
    public Activation Activation { get; }
    public SpmmPrecision Precision { get; }
    internal bool Index16 { get; }
    internal int BlockBytes { get; }
    internal bool? ForcedPacked { get; }
    internal SpmmKernel[] Tiles => _tiles;
    internal SpmmKernel? ForcedTile => _forcedMain;
    internal int[] RowOffsets => _rowOffsets;
    // Read per call, so a disposed plan fails with ObjectDisposedException rather than reading freed memory.
    internal void* ColsPointer => Index16 ? _cols16!.Pointer : _cols32!.Pointer;
    internal void* ValuesPointer => _valuesF32 is not null ? _valuesF32.Pointer : _valuesBf16!.Pointer + 1;
    internal float* BiasPointer => _bias.Pointer;

    public string Describe() => $"Spmm {_tiles[0].Tier} {(_forcedMain?.Name ?? "tiles per N")}, {Precision}, {(Index16 ? 16 : 32)}-bit indices, sparsity {Sparsity:P1}"
        + string.Concat(_tuned.OrderBy(t => t.Key).Select(t => $"; N={t.Key.N} t{t.Key.Threads}: {Describe(t.Value)}"));

    /// <param name="x">X [K × n], row-major</param>
    /// <param name="n">columns of X and Y</param>
    /// <param name="y">Y [M × n], fully overwritten</param>
    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0) => Run(x, n, y, default, default, threads);

    /// <summary>
    /// Y = act(W·X + bias + R): the residual R [M × n] added, and then <paramref name="residualActivation"/> applied, to
    /// each window of Y as it is finished (<see cref="OutputEpilogue"/>). The plan itself must have no activation,
    /// which would otherwise come before the sum. An empty <paramref name="residual"/> is the plain product;
    /// <paramref name="post"/> is applied to each window last (<see cref="OutputEpilogue"/>), residual or not.
    /// </summary>
    public void Run(ReadOnlySpan<float> x, int n, Span<float> y, ReadOnlySpan<float> residual, Activation residualActivation, int threads = 0,
        PostActivation post = default)
    {
        ThrowHelper.IfNegative(n, nameof(n));
        ThrowHelper.IfTooShort(x.Length, (long)K * n, nameof(x), $"X [{K}×{n}]");
        ThrowHelper.IfTooShort(y.Length, (long)M * n, nameof(y), $"Y [{M}×{n}]");
        if (!residual.IsEmpty)
        {
            ThrowHelper.IfTooShort(residual.Length, (long)M * n, nameof(residual), $"residual [{M}×{n}]");
            if (Activation.Kind != ActivationKind.None)
                ThrowHelper.Argument(nameof(residual), $"a residual needs a plan without its own activation (this one applies {Activation}), which would come before the sum.");
        }
        int t = WorkerPool.Resolve(threads);
        // Here, not in a worker: a disposed plan is one clear error, not an AggregateException from the pool.
        ObjectDisposedException.ThrowIf(_bias.IsDisposed, this);
        if (n == 0 || M == 0) return;
        fixed (float* px = x, py = y, pr = residual)
        {
            var epilogue = new OutputEpilogue(residual.IsEmpty ? null : pr, residualActivation, post);
            if (n == 1 && _forcedMain is null)
            {
                float* xs = px, ys = py;
                int p1 = Math.Min(t, M);
                int[] b1 = PartsFor(p1);
                if (p1 == 1) SpmvRows(0, M, xs, ys, epilogue);
                else WorkerPool.Shared.Run(p1, p => SpmvRows(b1[p], b1[p + 1], xs, ys, epilogue));
            }
            else SpmmSchedule.Run(this, px, n, py, t, _forcedMain is null ? Tuned(px, n, py, t) : null, epilogue);
        }
        GC.KeepAlive(this); // the weights are native: the plan must outlive the kernels that read them
    }

    private void SpmvRows(int m0, int m1, float* x, float* y, OutputEpilogue epilogue)
    {
        Spmv.Rows(this, m0, m1, x, y);
        if (!epilogue.IsNone) epilogue.Apply(y, m0, m1 - m0);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int[]> _blockOffsets = new();

    /// <summary>
    /// Row segments per block of <paramref name="kb"/> columns of W, [blocks + 1][M] flattened: row m's non-zeros in
    /// block b are [result[b·M + m], result[(b+1)·M + m]). Built once per block size (columns are sorted, so each
    /// segment is contiguous).
    /// </summary>
    internal int[] BlockOffsets(int kb) => _blockOffsets.GetOrAdd(kb, size =>
    {
        int blocks = (K + size - 1) / size;
        var result = new int[(blocks + 1) * M];
        int[] offsets = _rowOffsets;
        void* cols = ColsPointer;
        for (int m = 0; m < M; m++)
        {
            int i = offsets[m];
            for (int b = 0; b < blocks; b++)
            {
                result[b * M + m] = i;
                int limit = (b + 1) * size;
                while (i < offsets[m + 1] && (Index16 ? ((ushort*)cols)[i] : ((int*)cols)[i]) < limit) i++;
            }
            result[blocks * M + m] = offsets[m + 1];
        }
        GC.KeepAlive(this);
        return result;
    });

    internal int[] PartsFor(int parts) => parts == _defaultParts.Length - 1 ? _defaultParts : CsrMatrix.PartitionRowsByNnz(_rowOffsets, parts);
}
