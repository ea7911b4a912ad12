namespace Lacuna.Kernels.Attention;

/// <summary>
/// Arguments of one panel product, the only inner loop attention needs: C[rows × N] = A[rows × K] · B[K × N],
/// rows ≤ 4, every operand row-major with its own row stride (C overwritten). Scores are Q rows × packed Kᵀ
/// (K = head size, N = keys); the output is probability rows × V rows (K = keys, N = head size). The product is
/// vectorized along N with one broadcast A element feeding every row's FMA, so no horizontal sums are needed.
/// </summary>
internal unsafe struct AttentionPanelArgs
{
    public float* A;
    public nint Lda;
    public int Rows;
    public int K;
    public float* B;
    public nint Ldb;
    public int N;
    public float* C;
    public nint Ldc;
}

/// <summary>One registry entry: a tier and its panel product.</summary>
internal sealed unsafe class AttentionPanelKernel
{
    public AttentionPanelKernel(IsaTier tier, delegate*<AttentionPanelArgs*, void> function) { Tier = tier; Function = function; }

    public IsaTier Tier { get; }
    public delegate*<AttentionPanelArgs*, void> Function { get; }
    public string Name => $"{Tier} 4-row panel";
    public override string ToString() => Name;
}

/// <summary>The attention panel products, one per tier: the one list the driver, the tests and the benchmark read.</summary>
internal static unsafe class AttentionPanelKernels
{
    public const int MaxRows = 4;

    public static readonly AttentionPanelKernel[] All =
    {
        new(IsaTier.Avx512, &AttentionPanels.Avx512),
        new(IsaTier.Avx2Fma, &AttentionPanels.Avx2),
        new(IsaTier.Vector128, &AttentionPanels.Vector128Panel),
        new(IsaTier.Scalar, &AttentionPanels.Scalar),
    };

    /// <summary>Entries this process can run.</summary>
    public static IEnumerable<AttentionPanelKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    /// <summary>The widest entry this process runs.</summary>
    public static AttentionPanelKernel Best { get; } = Supported.First();
}
