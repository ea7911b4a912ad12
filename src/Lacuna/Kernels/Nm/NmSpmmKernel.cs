namespace Lacuna.Kernels.Nm;

/// <summary>
/// Arguments of one N:M SpMM call over <see cref="Blocks"/> consecutive row blocks and one register tile of
/// Width columns. A row block is R rows that share their slot columns: block b runs <see cref="Slots"/> slots (those of
/// one block of K; all blocks have the same count), slot s at X row Cols[b·SlotStride + s] with the weight of block
/// row i at W[(b·SlotStride + s)·WStride + i] (WStride = the plan's rows per block, at least R: a kernel of R rows may
/// run a sub-block of a wider layout, W pre-offset to its first row).
/// Y[b·WStride + i, j] = act(init + Σ_s w · X[col_s, j]) for j in [0, Width), init = Y's value when Accumulate, else
/// Bias[b·WStride + i], and act applied only when Activate (the last block of K): X and Y are read and written
/// for whole tiles, so the driver points them at interior columns or at zero-padded panels. Every pointer is
/// pre-offset to the first block.
/// </summary>
internal unsafe struct NmArgs
{
    public float* X;
    public nint Ldx;
    public int* Cols;
    public float* W;
    public nint WStride;
    public int Slots;
    public int SlotStride;
    public int Blocks;
    public bool Accumulate, Activate;
    public float* Bias;
    public float* Y;
    public nint Ldy;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>Rows of a register tile (output rows sharing each loaded X vector).</summary>
internal interface INmRows { static abstract int Rows { get; } }

/// <summary>Vectors of a register tile (consecutive X columns per row).</summary>
internal interface INmVectors { static abstract int Vectors { get; } }

/// <summary>The scalar tier's per-row tile (the vector tiers have RowTile bodies for one row).</summary>
internal struct NmRow1 : INmRows { public static int Rows => 1; }
internal struct NmRows2 : INmRows { public static int Rows => 2; }
internal struct NmRows4 : INmRows { public static int Rows => 4; }
internal struct NmRows8 : INmRows { public static int Rows => 8; }
internal struct NmVec1 : INmVectors { public static int Vectors => 1; }
internal struct NmVec2 : INmVectors { public static int Vectors => 2; }
internal struct NmVec3 : INmVectors { public static int Vectors => 3; }
internal struct NmVec4 : INmVectors { public static int Vectors => 4; }
internal struct NmVec8 : INmVectors { public static int Vectors => 8; }

/// <summary>One registry entry: a tier and a register tile of Rows × (Vectors × Lanes) outputs.</summary>
internal sealed unsafe class NmKernel
{
    public NmKernel(IsaTier tier, int lanes, int rows, int vectors, delegate*<NmArgs*, void> body)
    {
        Tier = tier; Lanes = lanes; Rows = rows; Vectors = vectors; Body = body;
    }

    public IsaTier Tier { get; }
    public int Lanes { get; }
    public int Rows { get; }
    public int Vectors { get; }
    public int Width => Lanes * Vectors;
    public delegate*<NmArgs*, void> Body { get; }
    public string Name => $"{Tier} {Rows}x{Width}";

    public override string ToString() => Name;

    /// <summary>Row-shared tiles (R ≥ 2 rows, at most 4 vectors: R × V ≤ 24 accumulators).</summary>
    public static NmKernel Avx512<TR, TV>() where TR : struct, INmRows where TV : struct, INmVectors =>
        new(IsaTier.Avx512, 16, TR.Rows, TV.Vectors, &NmSpmm.Avx512SharedTile<TR, TV>);

    public static NmKernel Avx2<TR, TV>() where TR : struct, INmRows where TV : struct, INmVectors =>
        new(IsaTier.Avx2Fma, 8, TR.Rows, TV.Vectors, &NmSpmm.Avx2SharedTile<TR, TV>);

    public static NmKernel Vector128<TR, TV>() where TR : struct, INmRows where TV : struct, INmVectors =>
        new(IsaTier.Vector128, 4, TR.Rows, TV.Vectors, &NmSpmm.Vector128SharedTile<TR, TV>);

    /// <summary>Per-row tiles (R = 1, up to 8 vectors).</summary>
    public static NmKernel Avx512Row<TV>() where TV : struct, INmVectors =>
        new(IsaTier.Avx512, 16, 1, TV.Vectors, &NmSpmm.Avx512RowTile<TV>);

    public static NmKernel Avx2Row<TV>() where TV : struct, INmVectors =>
        new(IsaTier.Avx2Fma, 8, 1, TV.Vectors, &NmSpmm.Avx2RowTile<TV>);

    public static NmKernel Vector128Row<TV>() where TV : struct, INmVectors =>
        new(IsaTier.Vector128, 4, 1, TV.Vectors, &NmSpmm.Vector128RowTile<TV>);

    public static NmKernel Scalar<TR>() where TR : struct, INmRows =>
        new(IsaTier.Scalar, 4, TR.Rows, 1, &NmSpmm.ScalarTile<TR, NmVec1>);
}

/// <summary>
/// The N:M SpMM registry: the one list the plan, the tests and the benchmarks read. Per tier, tiles whose
/// accumulators (R × V) plus V loaded X vectors and one broadcast fit the register file. R = 1 tiles run per-row
/// patterns (one load of X per FMA, like CSR); R = 2, 4, 8 run row-shared patterns (one load per R FMAs).
/// </summary>
internal static class NmKernels
{
    public static readonly NmKernel[] All =
    {
        NmKernel.Avx512<NmRows8, NmVec3>(), NmKernel.Avx512<NmRows8, NmVec2>(), NmKernel.Avx512<NmRows8, NmVec1>(),
        NmKernel.Avx512<NmRows4, NmVec4>(), NmKernel.Avx512<NmRows4, NmVec2>(), NmKernel.Avx512<NmRows4, NmVec1>(),
        NmKernel.Avx512<NmRows2, NmVec4>(), NmKernel.Avx512<NmRows2, NmVec2>(), NmKernel.Avx512<NmRows2, NmVec1>(),
        NmKernel.Avx512Row<NmVec8>(), NmKernel.Avx512Row<NmVec4>(), NmKernel.Avx512Row<NmVec2>(), NmKernel.Avx512Row<NmVec1>(),
        NmKernel.Avx2<NmRows8, NmVec1>(), NmKernel.Avx2<NmRows4, NmVec2>(), NmKernel.Avx2<NmRows4, NmVec1>(),
        NmKernel.Avx2<NmRows2, NmVec4>(), NmKernel.Avx2<NmRows2, NmVec1>(),
        NmKernel.Avx2Row<NmVec8>(), NmKernel.Avx2Row<NmVec4>(), NmKernel.Avx2Row<NmVec2>(), NmKernel.Avx2Row<NmVec1>(),
        NmKernel.Vector128<NmRows8, NmVec1>(), NmKernel.Vector128<NmRows4, NmVec2>(), NmKernel.Vector128<NmRows4, NmVec1>(),
        NmKernel.Vector128<NmRows2, NmVec2>(), NmKernel.Vector128<NmRows2, NmVec1>(),
        NmKernel.Vector128Row<NmVec4>(), NmKernel.Vector128Row<NmVec2>(), NmKernel.Vector128Row<NmVec1>(),
        NmKernel.Scalar<NmRows8>(), NmKernel.Scalar<NmRows4>(), NmKernel.Scalar<NmRows2>(), NmKernel.Scalar<NmRow1>(),
    };

    /// <summary>The entries this process can run (tests run each).</summary>
    public static IEnumerable<NmKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    public static IsaTier BestTier => IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>The tier's tiles that can run a layout of <paramref name="blockRows"/> rows per block (R divides it).</summary>
    public static NmKernel[] For(IsaTier tier, int blockRows) =>
        All.Where(k => k.Tier == tier && blockRows % k.Rows == 0).ToArray();
}
