using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tensors;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// One structured-pattern case shared by `bench gs` and `bench block`: a random W [m × k] pruned by the pattern, its
/// plan against the CSR kernel (<see cref="SpmmPlan"/>) on the same pruned W and Lacuna dense GEMM on it, all timed
/// interleaved on the same X [k × n] (median of repeats). Kept small so `bench nm` can call it for any pattern.
/// </summary>
public static class StructuredBench
{
    public sealed record Result(string Pattern, int M, int K, int N, double Sparsity, double PatternMs, double CsrMs, double DenseMs, double MaxRelDiff, string Plan,
        double PatternMinMs, double CsrMinMs, double DenseMinMs)
    {
        /// <summary>Ratios of the fastest samples: on a loaded machine noise only adds time, so these are the steadier estimate.</summary>
        public double VsCsrMin => CsrMinMs / PatternMinMs;
        public double VsDenseMin => DenseMinMs / PatternMinMs;

        public double VsCsr => CsrMs / PatternMs;
        public double VsDense => DenseMs / PatternMs;

        public JsonObject ToJson() => new()
        {
            ["pattern"] = Pattern, ["m"] = M, ["k"] = K, ["n"] = N, ["sparsity"] = BenchJson.Num(Sparsity),
            ["pattern_ms"] = BenchJson.Num(PatternMs), ["csr_ms"] = BenchJson.Num(CsrMs), ["dense_ms"] = BenchJson.Num(DenseMs),
            ["speedup_vs_csr"] = BenchJson.Num(VsCsr), ["speedup_vs_dense"] = BenchJson.Num(VsDense),
            ["pattern_min_ms"] = BenchJson.Num(PatternMinMs), ["csr_min_ms"] = BenchJson.Num(CsrMinMs), ["dense_min_ms"] = BenchJson.Num(DenseMinMs),
            ["speedup_vs_csr_min"] = BenchJson.Num(VsCsrMin), ["speedup_vs_dense_min"] = BenchJson.Num(VsDenseMin),
            ["max_rel_diff_vs_csr"] = BenchJson.Num(MaxRelDiff), ["plan"] = Plan,
        };
    }

    /// <summary>Random weights (seeded by the shape) pruned by <paramref name="pattern"/>; throws when the pattern's check fails after pruning.</summary>
    public static float[] PrunedWeights(SparsityPattern pattern, int m, int k, double sparsity)
    {
        var w = new float[(long)m * k];
        var rng = new DeterministicRandom((ulong)(m * 7919 + k));
        for (int i = 0; i < w.Length; i++) w[i] = rng.NextFloat() * 2f - 1f;
        pattern.Prune(w, m, k, sparsity);
        if (pattern.Violation(w, m, k) is { } bad) throw new InvalidOperationException($"pruning left a violation: {bad}");
        return w;
    }

    /// <summary>Times the pattern's plan, CSR and dense on the pruned <paramref name="w"/>; <paramref name="onPlan"/> may add timed extras after.</summary>
    public static Result Run(SparsityPattern pattern, float[] w, int m, int k, int n, int threads, int warmup, int repeats, out ISpmmPlan plan)
    {
        plan = pattern.CreatePlan(w, m, k, default, default) ?? throw new InvalidOperationException($"{pattern.Name} has no plan for [{m}×{k}]");
        var csr = SpmmPlan.Create(CsrMatrix.FromDense(w, m, k));
        using var x = Tensor.Random(11, new[] { k, n });
        var yp = new float[(long)m * n];
        var yc = new float[(long)m * n];
        var yd = new float[(long)m * n];
        var p = plan;
        var t = Measure.Interleaved(warmup, repeats, new (string, Action)[]
        {
            ("pattern", () => p.Run(x.Span, n, yp, threads)),
            ("csr", () => csr.Run(x.Span, n, yc, threads)),
            ("dense", () => Gemm.Compute(m, n, k, w, k, false, x.Span, n, false, yd, n, threads: threads)),
        });
        double diff = BenchDenseConvCommand.MaxRelDiff(yp, yc);
        double sparsity = 1 - w.Count(v => v != 0f) / (double)Math.Max(1, w.Length);
        return new Result(pattern.Name, m, k, n, sparsity, t[0].MedianMs, t[1].MedianMs, t[2].MedianMs, diff, plan.Describe(), t[0].MinMs, t[1].MinMs, t[2].MinMs);
    }

    /// <summary>Parses "1,8,16,49" (positive integers) or returns an error message.</summary>
    public static (int[]? Values, string? Error) ParseList(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out values[i]) || values[i] < 1)
                return (null, $"{option}: '{parts[i]}' is not a positive integer (expected e.g. 1,8,16,49).");
        return parts.Length == 0 ? (null, $"{option} is empty.") : (values, null);
    }
}
