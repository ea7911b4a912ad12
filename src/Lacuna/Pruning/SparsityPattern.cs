using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Pruning;

/// <summary>
/// A weight-sparsity pattern as `--pattern` names it: how a dense weight matrix W [rows × cols] is pruned (magnitude
/// within the pattern's constraint), how a pruned W is checked, and the kernel plan it runs on. cols is K, the
/// reduction dimension (input channels × kernel window for a conv, flattened as OIHW is), along which N:M groups run.
/// </summary>
public abstract partial class SparsityPattern
{
    /// <summary>The canonical spelling, which <see cref="Parse"/> reads back: "unstructured", "block:16x1", "nm:2:4", "gs:16", "2:4+1:8", "channel".</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="Prune"/> takes a target sparsity (false for N:M and series, which fix their own).</summary>
    public abstract bool SparsityIsFree { get; }

    /// <summary>The fraction of zeros <see cref="Prune"/> leaves for a requested sparsity (N:M: 1 - N/M whatever is asked).</summary>
    public abstract double ResultingSparsity(double requested);

    /// <summary>Zeros entries of W [rows × cols] (row-major, in place) by magnitude within the pattern's constraint.</summary>
    public abstract void Prune(Span<float> weights, int rows, int cols, double sparsity);

    /// <summary>Null when W [rows × cols] satisfies the pattern, else what is wrong, naming the row or block.</summary>
    public abstract string? Violation(ReadOnlySpan<float> weights, int rows, int cols);

    /// <summary>
    /// The multiply plan for an already pruned W, or null when W does not satisfy the pattern or no kernel of the
    /// pattern applies to this shape.
    /// </summary>
    public abstract ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation);

    public override string ToString() => Name;

    /// <summary>
    /// Parsers of every pattern family, tried in order; each returns null when the text is not its family and throws
    /// <see cref="ArgumentException"/> when it is but the parameters are wrong ("nm:4:2": N must be below M).
    /// </summary>
    private static readonly Func<string, SparsityPattern?>[] Parsers =
    [
        UnstructuredPattern.TryParse,
        BlockPattern.TryParse,
        GsPattern.TryParse,
        NmPattern.TryParse,
        TasdPattern.TryParse,
        ChannelPattern.TryParse,
    ];

    /// <summary>Reads a `--pattern` value; an unknown one is an <see cref="ArgumentException"/> listing the families.</summary>
    public static SparsityPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        foreach (var parse in Parsers)
            if (parse(t) is { } p) return p;
        throw new ArgumentException(
            $"unknown sparsity pattern '{text}'; expected unstructured, block:RxC, nm:N:M, gs:V, channel or a TASD series such as 2:4+1:8.", nameof(text));
    }
}

/// <summary>Any zeros anywhere: magnitude pruning over the whole matrix (<see cref="Pruner.Magnitude"/>), CSR SpMM.</summary>
public sealed class UnstructuredPattern : SparsityPattern
{
    public static readonly UnstructuredPattern Instance = new();

    private UnstructuredPattern() { }

    public override string Name => "unstructured";
    public override bool SparsityIsFree => true;
    public override double ResultingSparsity(double requested) => requested;

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        Pruner.Magnitude(weights[..(rows * cols)], sparsity);
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols) => null;

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation) =>
        SpmmPlan.Create(CsrMatrix.FromDense(weights[..(rows * cols)], rows, cols), bias, activation);

    internal static SparsityPattern? TryParse(string text) => text is "unstructured" or "csr" ? Instance : null;
}
