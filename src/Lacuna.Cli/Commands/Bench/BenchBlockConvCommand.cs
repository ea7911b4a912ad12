using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench block-conv</c>: on ResNet-50's k×k conv layers with r×1 block-pruned or N:M-pruned weights, the conv
/// planner's candidates for the pattern timed interleaved at batch 1 (medians): the pattern's direct conv
/// ("pattern-block:Rx1-direct", "pattern-nm:N:M-direct"), its SpMM on im2col ("pattern-…-im2col"), the CSR direct conv
/// ("sparse-direct", default tile) and dense. N:M patterns fix their own sparsity (--sparsity applies to blocks).
/// speedup_vs_im2col = im2col_ms / direct_ms, speedup_vs_csr_direct = csr_direct_ms / direct_ms.
/// </summary>
public static class BenchBlockConvCommand
{
    public static Command Build()
    {
        var patterns = new Option<string>("--patterns") { Description = "r×1 block patterns (block:Rx1) and N:M patterns (nm:N:M, nm:N:M:rR), comma-separated.", DefaultValueFactory = _ => "block:16x1,block:8x1,block:4x1" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of zero weights.", DefaultValueFactory = _ => 0.9 };
        var layer = new Option<string>("--layer") { Description = "Only the ResNet-50 layers whose name contains this text (e.g. \"3x3 512@7\")." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(7);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var cmd = new Command("block-conv", "Block- or N:M-direct conv vs its SpMM on im2col vs CSR direct conv vs dense on ResNet-50 k×k layers (batch 1).")
        {
            patterns, sparsity, layer, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            double s = pr.GetValue(sparsity);
            if (!(s >= 0.5 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0.5, 1) so the CSR direct conv is a candidate too (got {s})."); return 2; }
            var list = new List<SparsityPattern>();
            foreach (string text in pr.GetValue(patterns)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                SparsityPattern parsed;
                try { parsed = SparsityPattern.Parse(text); }
                catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
                if (parsed is not (BlockPattern { BlockCols: 1 } or NmPattern)) { Console.Error.WriteLine($"--patterns takes r×1 block patterns (block:Rx1) and N:M patterns (nm:N:M[:rR]), not {text}."); return 2; }
                list.Add(parsed);
            }
            string only = pr.GetValue(layer) ?? "";
            var shapes = BenchDenseConvCommand.Shapes.Where(x => x.K > 1 && x.Name.StartsWith("rn50 ", StringComparison.Ordinal) && x.Name.Contains(only, StringComparison.Ordinal)).ToArray();
            if (shapes.Length == 0) { Console.Error.WriteLine($"No ResNet-50 k×k layer matches --layer '{only}'."); return 2; }
            return Run(list, shapes, s, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    /// <summary>
    /// The CSR direct conv where the planner leaves it out: a pattern's fixed sparsity can fall just under the planner's
    /// sparse threshold (2:4 on the stem's K = 147 keeps 74 of 147). Any other missing candidate is a bug here.
    /// </summary>
    private static ConvCandidateRunner.Candidate Missing(string name, float[] wt, int[] ws, ReadOnlySpan<float> bias, Conv2dParams p, int h, int w)
    {
        if (name != "sparse-direct") throw new InvalidOperationException($"The planner offered no '{name}' candidate.");
        var plan = Lacuna.Kernels.SparseConv.SparseConv2dPlan.Create(wt, ws, bias, p, h, w, Activation.Relu);
        return new ConvCandidateRunner.Candidate(name, (x, y, n) => plan.Run(x, y, n), plan.Describe());
    }

    private static int Run(List<SparsityPattern> patterns, (string Name, int C, int H, int W, int M, int K, int S, int P)[] shapes, double sparsity,
        int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var ratios = patterns.ToDictionary(p => p.Name, _ => (Im2Col: new List<double>(), Csr: new List<double>(), Dense: new List<double>()));
        foreach (var (name, c, h, w, m, k, s, pad) in shapes)
            foreach (var pattern in patterns)
            {
                var p = Conv2dParams.Square(k, s, pad);
                int[] ws = [m, c, k, k];
                var wt = StructuredBench.PrunedWeights(pattern, m, c * k * k, sparsity);
                var bias = Tensor.Random(3, new[] { m });
                var all = ConvCandidateRunner.For(wt, ws, bias.Span, p, h, w, Activation.Relu, [pattern]);
                string direct = $"pattern-{pattern.Name}-direct", im2col = $"pattern-{pattern.Name}-im2col";
                var picked = new[] { direct, im2col, "sparse-direct", "dense" }.Select(n => all.SingleOrDefault(x => x.Name == n) ?? Missing(n, wt, ws, bias.Span, p, h, w)).ToArray();
                using var x = Tensor.Random(1, new[] { 1, c, h, w });
                int outLen = m * p.OutputHeight(h) * p.OutputWidth(w);
                var ys = picked.Select(_ => new float[outLen]).ToArray();
                var t = Measure.Interleaved(warmup, repeats, picked.Select((cand, i) => (cand.Name, (Action)(() => cand.Run(x.Span, ys[i], 1)))).ToArray());
                double diff = 0;
                for (int i = 1; i < ys.Length; i++) diff = Math.Max(diff, BenchDenseConvCommand.MaxRelDiff(ys[0], ys[i]));
                if (diff > 1e-3) Console.Error.WriteLine($"warning: {name} {pattern.Name}: the direct conv differs from the others by {diff:E2} (relative)");
                double vsIm2col = t[1].MedianMs / t[0].MedianMs, vsCsr = t[2].MedianMs / t[0].MedianMs, vsDense = t[3].MedianMs / t[0].MedianMs;
                ratios[pattern.Name].Im2Col.Add(vsIm2col); ratios[pattern.Name].Csr.Add(vsCsr); ratios[pattern.Name].Dense.Add(vsDense);
                results.Add(new JsonObject
                {
                    ["layer"] = name, ["pattern"] = pattern.Name,
                    ["direct_ms"] = BenchJson.Num(t[0].MedianMs), ["im2col_ms"] = BenchJson.Num(t[1].MedianMs),
                    ["csr_direct_ms"] = BenchJson.Num(t[2].MedianMs), ["dense_ms"] = BenchJson.Num(t[3].MedianMs),
                    ["speedup_vs_im2col"] = BenchJson.Num(vsIm2col), ["speedup_vs_csr_direct"] = BenchJson.Num(vsCsr),
                    ["speedup_vs_dense"] = BenchJson.Num(vsDense), ["direct_plan"] = picked[0].Description, ["max_rel_diff"] = BenchJson.Num(diff),
                });
                if (!json)
                    Console.WriteLine($"{name,-19} {pattern.Name,-11} direct {t[0].MedianMs,7:F3} ms  im2col {t[1].MedianMs,7:F3} ms  csr-direct {t[2].MedianMs,7:F3} ms  dense {t[3].MedianMs,7:F3} ms  vs im2col {vsIm2col,5:F2}x  vs csr {vsCsr,5:F2}x  vs dense {vsDense,5:F2}x");
                bias.Dispose();
            }
        var summary = new JsonObject();
        foreach (var (key, (im, csr, dense)) in ratios)
            summary[key] = new JsonObject
            {
                ["geomean_speedup_vs_im2col"] = BenchJson.Num(Measure.GeometricMean(im)),
                ["geomean_speedup_vs_csr_direct"] = BenchJson.Num(Measure.GeometricMean(csr)),
                ["geomean_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(dense)),
            };
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "block-conv", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(), ["sparsity"] = BenchJson.Num(sparsity),
                ["repeats"] = repeats, ["results"] = results, ["summary"] = summary,
            }));
        else
            foreach (var (key, value) in summary)
                Console.WriteLine($"{key}: geomean direct vs im2col {value!["geomean_speedup_vs_im2col"]}x, vs CSR direct {value["geomean_speedup_vs_csr_direct"]}x, vs dense {value["geomean_speedup_vs_dense"]}x");
        return 0;
    }
}
