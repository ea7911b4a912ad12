using Lacuna.Graph;

namespace Lacuna.Pruning;

/// <summary>
/// TASDER (Jeong et al., arXiv 2403.07953), weights only: per layer, choose a TASD series from a ladder of
/// ever cheaper candidates so the whole model stays within a quality budget. Greedy and layer-wise:
/// <list type="number">
/// <item>sensitivity: the model's score with only that layer replaced by the ladder's last (most aggressive) entry;</item>
/// <item>from the least to the most sensitive layer, step the layer down the ladder while the whole model (with every
/// choice made so far) still scores at or above the threshold; the first step that fails ends that layer.</item>
/// </list>
/// <see cref="TasderOrder.RoundRobin"/> instead takes one step per layer per round (same order), round after round,
/// until no layer can step: the budget is spread over the layers rather than spent by the first ones.
/// <see cref="TasderOrder.CostAware"/> (the default) spends the budget where it buys most: each round tries one step on
/// every layer that can still step and keeps the one with the most dense MACs saved per point of score lost. The
/// layer-by-layer greedy spends it on the least sensitive layers first, which in a CNN are often the small ones: on a
/// Fashion-MNIST VGG it took fc1 to 1:8 and removed 15 % of the MACs at 99.3 % of the accuracy, where one 2:4+1:8
/// series on every layer removes 37 %.
/// The score is any "higher is better" measure of a candidate graph: accuracy, or minus the relative output error.
/// Activation TASD (TASD-A: a ReLU output decomposed at run time, times dense W) is a kernel of its own,
/// <see cref="Lacuna.Kernels.Tasd.TasdActivationPlan"/>, with its series picked from the measured activation density by
/// <see cref="Lacuna.Kernels.Tasd.TasdActivationSeries"/>; this search does not choose it and the planner does not use it.
/// </summary>
public enum TasderOrder
{
    /// <summary>Each layer in turn steps down the ladder as far as the budget allows (the paper's greedy).</summary>
    LayerByLayer,

    /// <summary>One step per layer per round, rounds repeated until no layer can step.</summary>
    RoundRobin,

    /// <summary>Each round, the one step (over all layers) with the most MACs saved per score lost; until none fits.</summary>
    CostAware,
}

public static class Tasder
{
    /// <summary>
    /// The default ladder, by accelerator MAC fraction Σ N/M: 2:4+2:8 (0.75), 2:4+1:8 (0.625), 4:8 (0.5), 1:4+1:8 (0.375),
    /// 2:8 (0.25), 1:8 (0.125). 2:4 and 1:4 cost what 4:8 and 2:8 cost and keep no more of the weights (a 4:8 selection keeps at
    /// least the norm a 2:4 one does), so they are left out; dense (1.0) is every layer's start.
    /// </summary>
    public static IReadOnlyList<SparsityPattern> DefaultLadder { get; } =
        new[] { "2:4+2:8", "2:4+1:8", "nm:4:8", "1:4+1:8", "nm:2:8", "nm:1:8" }.Select(SparsityPattern.Parse).ToArray();

    /// <summary>One evaluated trial: which layer tried which pattern, the model's score, and whether it was kept.</summary>
    public sealed record Trial(string Phase, string Layer, string Pattern, double Score, bool Accepted);

    /// <summary>The search's outcome: the chosen pattern per layer (null: dense), the final score, every trial.</summary>
    public sealed record Result(IReadOnlyDictionary<string, SparsityPattern?> Choice, double Score, IReadOnlyList<Trial> Trials);

    /// <param name="dense">The dense model (not changed).</param>
    /// <param name="layers">The layers to search, found in <paramref name="dense"/>.</param>
    /// <param name="score">Scores a candidate graph (higher is better).</param>
    /// <param name="threshold">The lowest acceptable score.</param>
    /// <param name="progress">Told each trial as it finishes.</param>
    public static Result Search(ModelGraph dense, IReadOnlyList<PrunableLayer> layers, Func<ModelGraph, double> score, double threshold,
        IReadOnlyList<SparsityPattern>? ladder = null, Action<Trial>? progress = null, TasderOrder order = TasderOrder.CostAware)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(score);
        ladder ??= DefaultLadder;
        if (ladder.Count == 0) ThrowHelper.Argument(nameof(ladder), "TASDER needs at least one candidate pattern.");
        var originals = layers.ToDictionary(l => l.Name, l => l.ReadMatrix(dense), StringComparer.Ordinal);
        var pruned = new Dictionary<(string, string), float[]>();
        var trials = new List<Trial>();
        var choice = layers.ToDictionary(l => l.Name, _ => (SparsityPattern?)null, StringComparer.Ordinal);

        double Evaluate(string phase, PrunableLayer layer, SparsityPattern pattern, IReadOnlyDictionary<string, SparsityPattern?> trialChoice, bool? accept)
        {
            double s = score(Apply(dense, layers, trialChoice, originals, pruned));
            var t = new Trial(phase, layer.Name, pattern.Name, s, accept ?? s >= threshold);
            trials.Add(t);
            progress?.Invoke(t);
            return s;
        }

        var sensitivity = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            var only = layers.ToDictionary(x => x.Name, x => x == l ? ladder[^1] : null, StringComparer.Ordinal);
            sensitivity[l.Name] = Evaluate("sensitivity", l, ladder[^1], only, accept: false);
        }
        double current = double.NaN;
        // Least sensitive first: the layer whose most aggressive series alone hurts least (stable for ties).
        var ordered = layers.OrderByDescending(x => sensitivity[x.Name]).ToList();
        var rung = layers.ToDictionary(l => l.Name, _ => -1, StringComparer.Ordinal); // index in the ladder, -1 = dense
        var done = new HashSet<string>(StringComparer.Ordinal);
        bool Step(PrunableLayer l)
        {
            if (done.Contains(l.Name) || rung[l.Name] + 1 >= ladder.Count) { done.Add(l.Name); return false; }
            var p = ladder[rung[l.Name] + 1];
            var trial = new Dictionary<string, SparsityPattern?>(choice, StringComparer.Ordinal) { [l.Name] = p };
            double s = Evaluate("step", l, p, trial, accept: null);
            if (s < threshold) { done.Add(l.Name); return false; }
            choice[l.Name] = p;
            rung[l.Name]++;
            current = s;
            return true;
        }
        if (order == TasderOrder.LayerByLayer)
            foreach (var l in ordered)
                while (Step(l)) { }
        else if (order == TasderOrder.RoundRobin)
            while (done.Count < ordered.Count)
                foreach (var l in ordered) Step(l);
        else
        {
            var macs = LayerGeometry.Measure(dense);
            double Density(int r) => r < 0 ? 1 : 1 - ladder[r].ResultingSparsity(0);
            double base_ = score(dense);
            current = base_;
            while (true)
            {
                PrunableLayer? best = null;
                double bestValue = double.NegativeInfinity, bestScore = double.NaN;
                foreach (var l in ordered)
                {
                    if (done.Contains(l.Name)) continue;
                    if (rung[l.Name] + 1 >= ladder.Count) { done.Add(l.Name); continue; }
                    var p = ladder[rung[l.Name] + 1];
                    var trial = new Dictionary<string, SparsityPattern?>(choice, StringComparer.Ordinal) { [l.Name] = p };
                    double s = Evaluate("step", l, p, trial, accept: null);
                    // A step that breaks the budget now will not fit later either (later steps only remove weights).
                    if (s < threshold) { done.Add(l.Name); continue; }
                    double saved = (macs.TryGetValue(l.Name, out var geo) ? geo.DenseMacs : (double)l.Rows * l.Cols)
                                   * (Density(rung[l.Name]) - Density(rung[l.Name] + 1));
                    // Score lost, floored at a thousandth of the budget's slack so free steps rank by MACs alone.
                    double lost = Math.Max(current - s, 1e-3 * Math.Max(base_ - threshold, 1e-9));
                    if (saved / lost > bestValue) { bestValue = saved / lost; best = l; bestScore = s; }
                }
                if (best is null) break;
                choice[best.Name] = ladder[rung[best.Name] + 1];
                rung[best.Name]++;
                current = bestScore;
            }
        }
        if (double.IsNaN(current)) current = score(dense);
        return new Result(choice, current, trials);
    }

    /// <summary>A copy of <paramref name="dense"/> with each chosen layer's weights replaced by its pattern's pruning.</summary>
    public static ModelGraph Apply(ModelGraph dense, IReadOnlyList<PrunableLayer> layers, IReadOnlyDictionary<string, SparsityPattern?> choice)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return Apply(dense, layers, choice, layers.ToDictionary(l => l.Name, l => l.ReadMatrix(dense), StringComparer.Ordinal), []);
    }

    private static ModelGraph Apply(ModelGraph dense, IReadOnlyList<PrunableLayer> layers, IReadOnlyDictionary<string, SparsityPattern?> choice,
        Dictionary<string, float[]> originals, Dictionary<(string, string), float[]> cache)
    {
        var g = dense.Clone();
        foreach (var l in layers)
        {
            if (!choice.TryGetValue(l.Name, out var p) || p is null) continue;
            if (!cache.TryGetValue((l.Name, p.Name), out var w))
            {
                w = (float[])originals[l.Name].Clone();
                p.Prune(w, l.Rows, l.Cols, 0);
                cache[(l.Name, p.Name)] = w;
            }
            l.WriteMatrix(g, w);
        }
        return g;
    }
}
