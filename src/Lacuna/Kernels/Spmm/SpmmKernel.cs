namespace Lacuna.Kernels.Spmm;

/// <summary>
/// Arguments of one SpMM pass: one sparse row over one register tile of Width columns.
/// y[j] = act(Bias + Σ_i Values[i] · X[Cols[i]·Stride + j]) for j in [0, Valid); X is read for j in [0, Width)
/// (callers guarantee that much is readable: interior tiles of X, or the zero-padded tail copy).
/// </summary>
internal unsafe struct SpmmArgs
{
    public float* X;
    public int Stride;
    public int* Cols;
    public float* Values;
    public int Count;
    public float Bias;
    public float* Y;
    public int Valid;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: tier, tile width (columns of X per pass) and function.</summary>
internal sealed unsafe class SpmmKernel
{
    public SpmmKernel(IsaTier tier, int width, delegate*<SpmmArgs*, void> function)
    {
        Tier = tier; Width = width; Function = function;
    }

    public IsaTier Tier { get; }
    public int Width { get; }
    public delegate*<SpmmArgs*, void> Function { get; }
    public string Name => $"{Tier} 1x{Width}";
    public override string ToString() => Name;
}

/// <summary>The SpMM registry: the one list the plan, the tests and the benchmarks read.</summary>
internal static unsafe class SpmmKernels
{
    public static readonly SpmmKernel[] All =
    {
        new(IsaTier.Avx2Fma, 64, &Spmm.Avx2Pass64),
        new(IsaTier.Vector128, 16, &Spmm.Vector128Pass16),
        new(IsaTier.Scalar, 4, &Spmm.ScalarPass4),
    };

    public static IEnumerable<SpmmKernel> Supported => All.Where(k => IsaTiers.IsSupported(k.Tier) && k.Tier <= IsaTiers.Best);

    public static SpmmKernel Best => Supported.OrderByDescending(k => k.Tier).First();
}
