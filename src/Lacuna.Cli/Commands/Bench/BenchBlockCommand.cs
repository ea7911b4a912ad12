using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Pruning;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench block</c>: block-sparse SpMM (<see cref="Kernels.BlockSpmm.BlockSpmmPlan"/>) for each block shape
/// against the CSR kernel and Lacuna dense GEMM on the same block-pruned weights. Default shapes: ResNet-50 1×1 and
/// 3×3 (im2col: K = 9·C) layers at batch 1, n = output pixels; --m/--k/--n give one shape instead.
/// speedup_vs_csr = csr_ms / block_ms, speedup_vs_dense = dense_ms / block_ms; geomeans per pattern.
/// </summary>
public static class BenchBlockCommand
{
    internal static readonly (string Name, int M, int K, int N)[] DefaultShapes =
    [
        ("l1.1x1", 256, 64, 3136), ("l2.3x3", 128, 1152, 784), ("l3.1x1", 1024, 256, 196),
        ("l3.3x3", 256, 2304, 196), ("l4.1x1", 512, 2048, 49), ("l4.3x3", 512, 4608, 49),
    ];

    public static Command Build()
    {
        var patterns = new Option<string>("--patterns") { Description = "Block patterns, comma-separated.", DefaultValueFactory = _ => "block:16x1,block:8x1,block:4x1" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of zero weights.", DefaultValueFactory = _ => 0.9 };
        var m = new Option<int>("--m") { Description = "Rows of W (with --k and --n: one shape instead of the ResNet-50 defaults)." };
        var k = new Option<int>("--k") { Description = "Columns of W." };
        var n = new Option<int>("--n") { Description = "Columns of X." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(7);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var cmd = new Command("block", "Block-sparse (r×c) SpMM vs the CSR kernel vs Lacuna dense on ResNet-50 layer shapes.")
        {
            patterns, sparsity, m, k, n, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            double s = pr.GetValue(sparsity);
            if (!(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            int mv = pr.GetValue(m), kv = pr.GetValue(k), nv = pr.GetValue(n);
            bool one = mv > 0 || kv > 0 || nv > 0;
            if (one && (mv < 1 || kv < 1 || nv < 1)) { Console.Error.WriteLine("--m, --k and --n go together and must be positive."); return 2; }
            var list = new List<SparsityPattern>();
            foreach (string text in pr.GetValue(patterns)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try { list.Add(SparsityPattern.Parse(text)); }
                catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
                if (list[^1] is not BlockPattern) { Console.Error.WriteLine($"--patterns takes block patterns (block:RxC), not {text}."); return 2; }
            }
            var shapes = one ? new[] { ("custom", mv, kv, nv) } : DefaultShapes;
            return Run(list, shapes, s, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static int Run(List<SparsityPattern> patterns, (string Name, int M, int K, int N)[] shapes, double sparsity, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var all = new List<StructuredBench.Result>();
        foreach (var (name, m, k, n) in shapes)
            foreach (var pattern in patterns)
            {
                var w = StructuredBench.PrunedWeights(pattern, m, k, sparsity);
                var r = StructuredBench.Run(pattern, w, m, k, n, threads, warmup, repeats, out _);
                if (r.MaxRelDiff > 1e-3) Console.Error.WriteLine($"warning: {name} {pattern.Name}: block and CSR differ by {r.MaxRelDiff:E2} (relative)");
                all.Add(r);
                var row = r.ToJson();
                row["layer"] = name;
                row["block_ms"] = row["pattern_ms"]!.DeepClone();
                results.Add(row);
                if (!json)
                    Console.WriteLine($"{name,-7} {m}x{k} n={n,-5} {pattern.Name,-11} block {r.PatternMs,8:F4} ms  csr {r.CsrMs,8:F4} ms  dense {r.DenseMs,8:F4} ms  vs csr {r.VsCsr,5:F2}x  vs dense {r.VsDense,6:F2}x  (min: {r.VsCsrMin,5:F2}x, {r.VsDenseMin,6:F2}x)");
            }
        var summary = new JsonObject();
        foreach (var pattern in patterns)
        {
            var mine = all.Where(r => r.Pattern == pattern.Name).ToArray();
            summary[pattern.Name] = new JsonObject
            {
                ["geomean_speedup_vs_csr"] = BenchJson.Num(Measure.GeometricMean(mine.Select(r => r.VsCsr))),
                ["geomean_speedup_vs_csr_min"] = BenchJson.Num(Measure.GeometricMean(mine.Select(r => r.VsCsrMin))),
                ["geomean_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(mine.Select(r => r.VsDense))),
                ["geomean_speedup_vs_dense_min"] = BenchJson.Num(Measure.GeometricMean(mine.Select(r => r.VsDenseMin))),
            };
        }
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "block", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(), ["sparsity"] = BenchJson.Num(sparsity),
                ["repeats"] = repeats, ["results"] = results, ["summary"] = summary,
            }));
        else
            foreach (var (key, value) in summary)
                Console.WriteLine($"{key}: geomean vs CSR {value!["geomean_speedup_vs_csr"]}x, vs dense {value["geomean_speedup_vs_dense"]}x (fastest samples: {value["geomean_speedup_vs_csr_min"]}x, {value["geomean_speedup_vs_dense_min"]}x)");
        return 0;
    }
}
