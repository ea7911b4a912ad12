using Lacuna.Kernels.Nm;

namespace Lacuna.Kernels.Tasd;

/// <summary>
/// Arguments of one TASD-A tile call: Columns output columns × one tile of Width output rows × one block of K. Column
/// c's kept activations are the pairs (Rows[c·Capacity + e], Values[c·Capacity + e]) for e in [Begin[c], End[c]) (the
/// column's entries in the K block); each adds value × W^T row Rows[..] (W^T [K × Ldw], pre-offset to the tile's first
/// output row) to the column's accumulators. Y^T[c·Ldy + i] = act(init + Σ_e value_e · Wt[k_e·Ldw + i]) for i in
/// [0, Width), init = Y^T's value when Accumulate, else Bias[i], and act applied only when Activate (the last block of
/// K). W^T, Bias and Y^T are padded so a tile always reads and writes whole vectors.
/// </summary>
internal unsafe struct TasdActArgs
{
    public float* Wt;
    public nint Ldw;
    public int* Rows;
    public float* Values;
    public int* Begin, End;
    public int Capacity;
    public int Columns;
    public bool Accumulate, Activate;
    public float* Bias;
    public float* Y;
    public nint Ldy;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: a tier and a tile of Vectors × Lanes output rows.</summary>
internal sealed unsafe class TasdActKernel
{
    public TasdActKernel(IsaTier tier, int lanes, int vectors, delegate*<TasdActArgs*, void> body)
    {
        Tier = tier; Lanes = lanes; Vectors = vectors; Body = body;
    }

    public IsaTier Tier { get; }
    public int Lanes { get; }
    public int Vectors { get; }
    public int Width => Lanes * Vectors;
    public delegate*<TasdActArgs*, void> Body { get; }
    public string Name => $"{Tier} {Width} rows";

    public override string ToString() => Name;

    public static TasdActKernel Avx512<TV>() where TV : struct, INmVectors => new(IsaTier.Avx512, 16, TV.Vectors, &TasdActivationSpmm.Avx512Tile<TV>);
    public static TasdActKernel Avx2<TV>() where TV : struct, INmVectors => new(IsaTier.Avx2Fma, 8, TV.Vectors, &TasdActivationSpmm.Avx2Tile<TV>);
    public static TasdActKernel Vector128<TV>() where TV : struct, INmVectors => new(IsaTier.Vector128, 4, TV.Vectors, &TasdActivationSpmm.Vector128Tile<TV>);
    public static TasdActKernel Scalar() => new(IsaTier.Scalar, 4, 1, &TasdActivationSpmm.ScalarTile);
}

/// <summary>
/// The TASD-A registry: the one list the plan, the tests and the benchmarks read. Per tier, tiles of 8, 4, 2 and 1
/// vectors of output rows (8 accumulators at most, plus U sets on narrow tiles); widths are powers of two, so any
/// multiple of 16 rows is covered by the widest tile that fits, then narrower ones.
/// </summary>
internal static class TasdActKernels
{
    /// <summary>Rows are padded to a multiple of this (every tile width divides it or is a multiple of it).</summary>
    public const int RowAlign = 16;

    public static readonly TasdActKernel[] All =
    {
        TasdActKernel.Avx512<NmVec8>(), TasdActKernel.Avx512<NmVec4>(), TasdActKernel.Avx512<NmVec2>(), TasdActKernel.Avx512<NmVec1>(),
        TasdActKernel.Avx2<NmVec8>(), TasdActKernel.Avx2<NmVec4>(), TasdActKernel.Avx2<NmVec2>(), TasdActKernel.Avx2<NmVec1>(),
        TasdActKernel.Vector128<NmVec8>(), TasdActKernel.Vector128<NmVec4>(), TasdActKernel.Vector128<NmVec2>(), TasdActKernel.Vector128<NmVec1>(),
        TasdActKernel.Scalar(),
    };

    /// <summary>The entries this process can run (tests run each).</summary>
    public static IEnumerable<TasdActKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    public static IsaTier BestTier => IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>The tier's tiles, widest first.</summary>
    public static TasdActKernel[] For(IsaTier tier) => All.Where(k => k.Tier == tier).OrderByDescending(k => k.Width).ToArray();
}
