namespace Lacuna.Pruning;

public abstract partial class SparsityPattern
{
    /// <summary>
    /// The structured patterns <see cref="Detect(ReadOnlySpan{float}, int, int)"/> looks for, most constrained first
    /// within each family (a 1:8 matrix is also 2:8, 1:4 and 2:4; 16x1 blocks are also 8x1 blocks), by their
    /// canonical spellings: a family joins detection when its parser (<see cref="Parsers"/>) reads them, with no
    /// change here. Spellings no parser knows yet are skipped.
    /// </summary>
    private static readonly string[] DetectableSpellings =
    [
        "block:16x1", "block:8x1", "block:4x4", "block:4x1",
        // Row-shared N:M (8 rows per pattern) just before the per-row pattern of the same density: a model pruned
        // with shared rows then gets the kernels that feed 8 rows from each X load (the N:M direct conv's 8-channel tile).
        "nm:1:8:r8", "nm:1:8", "nm:1:4:r8", "nm:1:4", "nm:2:8:r8", "nm:2:8", "nm:2:4:r8", "nm:2:4", "nm:4:8:r8", "nm:4:8",
        "gs:16", "gs:8",
        "1:4+1:8", "2:4+1:8",
    ];

    private static readonly Lazy<SparsityPattern[]> DetectableList = new(() =>
    {
        var list = new List<SparsityPattern>();
        foreach (var text in DetectableSpellings)
        {
            try { list.Add(Parse(text)); }
            catch (ArgumentException) { /* that family is not in this build */ }
        }
        return list.ToArray();
    });

    /// <summary>Fewest zeros (fraction) at which a free-sparsity pattern (block, GS) is detected at all.</summary>
    public const double MinFreeSparsity = 0.5;

    /// <summary>The structured patterns <see cref="Detect(ReadOnlySpan{float}, int, int)"/> tries, in its order.</summary>
    public static IReadOnlyList<SparsityPattern> Detectable => DetectableList.Value;

    /// <summary>
    /// The structured patterns that W [rows × cols] (row-major, K along columns) already satisfies, so a model pruned
    /// to 2:4 or to 16x1 blocks by another tool gets those kernels as planner candidates: of the
    /// <see cref="Detectable"/> patterns, the first satisfied one of each family (the most constrained).
    /// Unstructured is never returned (its CSR kernels are always candidates).
    /// </summary>
    public static IReadOnlyList<SparsityPattern> Detect(ReadOnlySpan<float> weights, int rows, int cols) =>
        Detect(weights, rows, cols, Detectable);

    /// <summary>
    /// As <see cref="Detect(ReadOnlySpan{float}, int, int)"/> over the given <paramref name="candidates"/>, in their order;
    /// <paramref name="firstPerFamily"/> false keeps every satisfied one (a list the user chose).
    /// </summary>
    public static IReadOnlyList<SparsityPattern> Detect(ReadOnlySpan<float> weights, int rows, int cols, IEnumerable<SparsityPattern> candidates,
        bool firstPerFamily = true)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(weights.Length, (long)rows * cols, nameof(weights), $"W [{rows}×{cols}]");
        var w = weights[..(rows * cols)];
        double zeros = w.IsEmpty ? 0 : Zeros(w);
        var found = new List<SparsityPattern>();
        var families = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in candidates)
        {
            if (p is UnstructuredPattern || families.Contains(Family(p))) continue;
            // A W with far fewer zeros than the pattern leaves cannot satisfy it: this guards the planner against a
            // pattern whose check accepts what it would only approximate. Not the exact fraction, which a partial
            // last group may undercut (2:4 over K = 9 keeps up to 5 of 9, 44 % zeros, not 50 %).
            // A pattern whose sparsity is free (block, GS) accepts a dense W as its 0 % case: below half zeros it is not
            // a sparse layer (the planner's unstructured candidates start at the same 0.5).
            if (zeros < (p.SparsityIsFree ? MinFreeSparsity : 0.75 * p.ResultingSparsity(0))) continue;
            if (p.Violation(w, rows, cols) is not null) continue;
            found.Add(p);
            if (firstPerFamily) families.Add(Family(p));
        }
        return found;
    }

    /// <summary>The family a pattern belongs to, from its spelling: "block", "nm", "gs", or "series" for a TASD sum.</summary>
    public static string Family(SparsityPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        string name = pattern.Name;
        if (name.Contains('+')) return "series";
        int colon = name.IndexOf(':');
        return colon < 0 ? name : name[..colon];
    }

    private static double Zeros(ReadOnlySpan<float> w)
    {
        long z = 0;
        foreach (float v in w) if (v == 0f) z++;
        return (double)z / w.Length;
    }
}
