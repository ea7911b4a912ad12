using Lacuna.Graph;

namespace Lacuna.Pruning;

/// <summary>One pruned (or deliberately kept) layer of a <see cref="ModelPruning.Prune"/> run.</summary>
/// <param name="Rows">W's rows before pruning (output channels/features).</param>
/// <param name="Cols">W's columns before pruning.</param>
/// <param name="Pattern">The pattern the layer was pruned to ("dense" when kept).</param>
/// <param name="Sparsity">Fraction of W [Rows × Cols] that is zero or removed.</param>
/// <param name="KeptNorm">‖W_pruned‖_F / ‖W‖_F.</param>
/// <param name="Note">Why a layer was kept dense (first/last layer, channels that cannot be followed), else null.</param>
public sealed record PrunedLayer(string Name, string Op, int Rows, int Cols, string Pattern, double Sparsity, double KeptNorm, string? Note);

/// <summary>A pruned copy of a model and what happened to each prunable layer (in topological order).</summary>
public sealed record PruneOutcome(ModelGraph Graph, IReadOnlyList<PrunedLayer> Layers, Tasder.Result? Search);

/// <summary>
/// `lacuna prune` as a library call: one method applied to a model's prunable layers (<see cref="PrunableLayer"/>),
/// first and last excluded unless asked, with each layer's pattern written to the metadata the planner reads
/// (<see cref="PruningMetadata"/>). Methods: magnitude, global, block:RxC, nm:N:M, gs:V, channel, tasd:SERIES, tasder.
/// </summary>
public static class ModelPruning
{
    public const string MethodList = "magnitude, global, block:RxC, nm:N:M, gs:V, channel, tasd:SERIES or tasder";

    /// <summary>What TASDER needs: a score of a candidate graph (higher is better) and the lowest acceptable one.</summary>
    public sealed record TasderBudget(Func<ModelGraph, double> Score, double Threshold, Action<Tasder.Trial>? Progress = null,
        TasderOrder Order = TasderOrder.CostAware);

    /// <summary>
    /// The pattern a method name prunes to, or null for the methods that are not one pattern (global, channel,
    /// tasder). An unknown method is an <see cref="ArgumentException"/> listing them.
    /// </summary>
    public static SparsityPattern? PatternOf(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        string m = method.Trim().ToLowerInvariant();
        if (m is "global" or "channel" or "tasder") return null;
        if (m == "magnitude") return UnstructuredPattern.Instance;
        try
        {
            if (m.StartsWith("tasd:", StringComparison.Ordinal))
            {
                string series = m[5..];
                return SparsityPattern.Parse(series.Contains('+') ? series : "nm:" + series);
            }
            if (m.StartsWith("block:", StringComparison.Ordinal) || m.StartsWith("nm:", StringComparison.Ordinal) || m.StartsWith("gs:", StringComparison.Ordinal))
                return SparsityPattern.Parse(m);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"method '{method}': {e.Message}", nameof(method), e);
        }
        throw new ArgumentException($"unknown pruning method '{method}'; expected {MethodList}.", nameof(method));
    }

    /// <summary>
    /// Checks a method/sparsity pair before any work: sparsity in [0, 1) for methods that take one, and 0 (not given)
    /// for those that fix their own (N:M, TASD series, TASDER). Returns an error message or null.
    /// </summary>
    public static string? CheckSparsity(string method, double sparsity)
    {
        var p = PatternOf(method);
        bool fixedSparsity = method.Trim().Equals("tasder", StringComparison.OrdinalIgnoreCase) || p is { SparsityIsFree: false };
        if (fixedSparsity)
            return sparsity == 0 ? null : $"--sparsity does not apply to {method} (it fixes its own); leave it out.";
        if (!(sparsity > 0 && sparsity < 1)) return $"--sparsity must be in (0, 1) for {method} (got {sparsity}).";
        return null;
    }

    /// <summary>
    /// Prunes a copy of <paramref name="dense"/> by <paramref name="method"/>. The model must have a prunable layer
    /// left after the first/last exclusion; tasder needs <paramref name="budget"/>.
    /// </summary>
    public static PruneOutcome Prune(ModelGraph dense, string method, double sparsity, bool includeFirstLast = false,
        TasderBudget? budget = null, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(dense);
        if (CheckSparsity(method, sparsity) is { } error) throw new ArgumentException(error, nameof(sparsity));
        string m = method.Trim().ToLowerInvariant();
        var all = PrunableLayer.Find(dense);
        if (all.Count == 0)
            throw new ArgumentException("the model has no prunable layer (Conv with group 1, Gemm or MatMul with a constant weight).", nameof(dense));
        var selected = PrunableLayer.Select(all, includeFirstLast);
        if (selected.Count == 0)
            throw new ArgumentException($"the model's {all.Count} prunable layer(s) are its first and last, which are kept dense; give --include-first-last to prune them.", nameof(dense));
        var g = dense.Clone();
        var chosen = new Dictionary<string, string>(StringComparer.Ordinal);
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in all.Except(selected)) notes[l.Name] = l == all[0] ? "first layer, kept dense" : "last layer, kept dense";
        Tasder.Result? search = null;
        if (m == "tasder")
        {
            if (budget is null) throw new ArgumentException("tasder needs calibration data (--calibration) to hold its budget.", nameof(budget));
            search = Tasder.Search(dense, selected, budget.Score, budget.Threshold, progress: budget.Progress, order: budget.Order);
            g = Tasder.Apply(dense, selected, search.Choice);
            foreach (var (layer, p) in search.Choice) chosen[layer] = p?.Name ?? "dense";
        }
        else if (m == "channel")
            PruneChannels(g, selected, sparsity, chosen, notes, progress);
        else if (m == "global")
            PruneGlobal(g, selected, sparsity, chosen, progress);
        else
        {
            var pattern = PatternOf(m)!;
            foreach (var l in selected)
            {
                var w = l.ReadMatrix(g);
                pattern.Prune(w, l.Rows, l.Cols, sparsity);
                l.WriteMatrix(g, w);
                chosen[l.Name] = pattern.Name;
                progress?.Invoke($"{l.Name}: {pattern.Name}");
            }
        }
        PruningMetadata.Write(g.Metadata, chosen);
        return new PruneOutcome(g, Describe(dense, g, all, chosen, notes), search);
    }

    /// <summary>Unstructured pruning with one magnitude threshold over all selected layers (<see cref="GlobalMagnitude"/>).</summary>
    private static void PruneGlobal(ModelGraph g, IReadOnlyList<PrunableLayer> layers, double sparsity, Dictionary<string, string> chosen, Action<string>? progress)
    {
        var weights = layers.Select(l => l.ReadMatrix(g)).ToArray();
        GlobalMagnitude.Prune(layers.Select((l, i) => new GlobalLayer(l.Name, weights[i], l.Rows, l.Cols)).ToArray(), sparsity);
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].WriteMatrix(g, weights[i]);
            chosen[layers[i].Name] = UnstructuredPattern.Instance.Name;
            progress?.Invoke($"{layers[i].Name}: unstructured (global threshold), {weights[i].Count(v => v == 0f) / (double)weights[i].Length:P1} zeros");
        }
    }

    /// <summary>
    /// Zeros each followable conv's weakest filters (<c>channel</c> pattern: smallest L2 norm rows) and removes every
    /// all-zero filter from the graph (<see cref="ChannelShrinker"/>), keeping at least one.
    /// </summary>
    private static void PruneChannels(ModelGraph g, IReadOnlyList<PrunableLayer> layers, double sparsity, Dictionary<string, string> chosen,
        Dictionary<string, string> notes, Action<string>? progress)
    {
        var channel = SparsityPattern.Parse("channel");
        foreach (var l in layers)
        {
            // The layer's shape may have changed since it was found: an earlier layer's shrink removed its input channels.
            var current = PrunableLayer.Find(g).First(x => x.Name == l.Name);
            var chain = ChannelShrinker.Follow(g, current);
            if (!chain.CanShrink)
            {
                AddNote(notes, l.Name, $"channels kept: {chain.Reason}");
                chosen[l.Name] = "dense";
                progress?.Invoke($"{l.Name}: kept ({chain.Reason})");
                continue;
            }
            var w = current.ReadMatrix(g);
            channel.Prune(w, current.Rows, current.Cols, sparsity);
            var zero = ChannelShrinker.ZeroRows(w, current.Rows, current.Cols);
            if (zero.Length >= current.Rows) zero = zero[..^1];
            ChannelShrinker.Shrink(g, chain, zero);
            chosen[l.Name] = "channel";
            if (zero.Length > 0) AddNote(notes, chain.Consumer!.Name, $"{zero.Length} input channels removed with '{l.Name}'");
            progress?.Invoke($"{l.Name}: removed {zero.Length} of {current.Rows} filters");
        }
    }

    private static void AddNote(Dictionary<string, string> notes, string layer, string note) =>
        notes[layer] = notes.TryGetValue(layer, out var before) ? $"{before}; {note}" : note;

    private static IReadOnlyList<PrunedLayer> Describe(ModelGraph dense, ModelGraph pruned, IReadOnlyList<PrunableLayer> all,
        Dictionary<string, string> chosen, Dictionary<string, string> notes)
    {
        var after = PrunableLayer.Find(pruned).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var list = new List<PrunedLayer>();
        foreach (var l in all)
        {
            var w0 = l.ReadMatrix(dense);
            double total = (double)l.Rows * l.Cols, n0 = Norm(w0);
            double nonZero = 0, n1 = 0;
            if (after.TryGetValue(l.Name, out var a))
            {
                var w1 = a.ReadMatrix(pruned);
                foreach (float v in w1) if (v != 0f) nonZero++;
                n1 = Norm(w1);
            }
            string pattern = chosen.GetValueOrDefault(l.Name, "dense");
            list.Add(new PrunedLayer(l.Name, l.Op, l.Rows, l.Cols, pattern, 1 - nonZero / total, n0 == 0 ? 1 : n1 / n0, notes.GetValueOrDefault(l.Name)));
        }
        return list;
    }

    private static double Norm(ReadOnlySpan<float> w)
    {
        double s = 0;
        foreach (float v in w) s += (double)v * v;
        return Math.Sqrt(s);
    }
}
