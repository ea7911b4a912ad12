using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.GsSpmm;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench gs --n 1,8,16,49</c>: the GS pattern's gather kernel (<see cref="GsSpmmPlan"/>) against the CSR kernel
/// and Lacuna dense GEMM on the same GS-pruned weights, at small n (batch-1 FC layers, LSTM steps, 7×7 layers).
/// Default shapes: ResNet-50's FC (1000×2048) and layer-4 1×1 (512×2048, 2048×512) and 3×3 (512×4608, im2col) layers;
/// --m/--k give one shape instead. speedup_vs_csr = csr_ms / gs_ms, speedup_vs_dense = dense_ms / gs_ms. With
/// several threads each row also reports busy_ms: the time each worker spent in the GS kernel (mean over repeats).
/// --bodies also times every GS body the plan chooses between (each forced) against CSR in one interleaved run.
/// </summary>
public static class BenchGsCommand
{
    internal static readonly (int M, int K)[] DefaultShapes = [(1000, 2048), (512, 2048), (2048, 512), (512, 4608)];

    public static Command Build()
    {
        var ns = new Option<string>("--n") { Description = "Columns of X (batch × pixels), comma-separated.", DefaultValueFactory = _ => "1,8,16,49" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of zero weights.", DefaultValueFactory = _ => 0.9 };
        var m = new Option<int>("--m") { Description = "Rows of W (with --k: one shape instead of the ResNet-50 defaults)." };
        var k = new Option<int>("--k") { Description = "Columns of W." };
        var pattern = new Option<string>("--pattern") { Description = "GS pattern: gs:V, gs:V:col or gs:V:hybrid (V = 8 or 16).", DefaultValueFactory = _ => "gs:16" };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(7);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var bodies = new Option<bool>("--bodies") { Description = "Also time each GS body (forced) against CSR, interleaved.", DefaultValueFactory = _ => false };
        var cmd = new Command("gs", "GS (gather-scatter) pattern SpMM vs the CSR kernel vs Lacuna dense at small n.")
        {
            ns, sparsity, m, k, pattern, threads, repeat, warmup, json, bodies,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            var (nList, nErr) = StructuredBench.ParseList(pr.GetValue(ns)!, "--n");
            if (nErr is not null) { Console.Error.WriteLine(nErr); return 2; }
            double s = pr.GetValue(sparsity);
            if (!(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            int mv = pr.GetValue(m), kv = pr.GetValue(k);
            if ((mv == 0) != (kv == 0) || mv < 0 || kv < 0) { Console.Error.WriteLine("--m and --k go together and must be positive."); return 2; }
            SparsityPattern p;
            try { p = SparsityPattern.Parse(pr.GetValue(pattern)!); }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
            if (p is not GsPattern) { Console.Error.WriteLine($"--pattern must be a GS pattern (gs:V, gs:V:col, gs:V:hybrid), not {p.Name}."); return 2; }
            var shapes = mv > 0 ? new[] { (mv, kv) } : DefaultShapes;
            return Run(p, shapes, nList!, s, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(bodies));
        });
        return cmd;
    }

    private static int Run(SparsityPattern pattern, (int M, int K)[] shapes, int[] ns, double sparsity, int threads, int repeats, int warmup, bool json, bool bodies)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var all = new List<StructuredBench.Result>();
        foreach (var (m, k) in shapes)
        {
            var w = StructuredBench.PrunedWeights(pattern, m, k, sparsity);
            foreach (int n in ns)
            {
                var r = StructuredBench.Run(pattern, w, m, k, n, threads, warmup, repeats, out var plan);
                if (r.MaxRelDiff > 1e-3) Console.Error.WriteLine($"warning: {m}x{k} n={n}: GS and CSR differ by {r.MaxRelDiff:E2} (relative)");
                all.Add(r);
                var row = r.ToJson();
                row["gs_ms"] = row["pattern_ms"]!.DeepClone();
                if (threads > 1) row["busy_ms"] = BusyMs((GsSpmmPlan)plan, m, k, n, threads, repeats);
                if (bodies) row["bodies"] = Bodies(((GsSpmmPlan)plan).Weights, w, m, k, n, threads, warmup, repeats, json);
                results.Add(row);
                if (!json)
                    Console.WriteLine($"{m}x{k} n={n,-3} gs {r.PatternMs,8:F4} ms  csr {r.CsrMs,8:F4} ms  dense {r.DenseMs,8:F4} ms  vs csr {r.VsCsr,5:F2}x  vs dense {r.VsDense,6:F2}x  (min: {r.VsCsrMin,5:F2}x, {r.VsDenseMin,6:F2}x)"
                        + (row["busy_ms"] is JsonArray b ? $"  busy ms [{string.Join(", ", b.Select(v => $"{v!.GetValue<double>():F4}"))}]" : ""));
            }
        }
        var summary = new JsonObject
        {
            ["geomean_speedup_vs_csr"] = BenchJson.Num(Measure.GeometricMean(all.Select(r => r.VsCsr))),
            ["geomean_speedup_vs_csr_min"] = BenchJson.Num(Measure.GeometricMean(all.Select(r => r.VsCsrMin))),
            ["geomean_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(all.Select(r => r.VsDense))),
            ["geomean_speedup_vs_dense_min"] = BenchJson.Num(Measure.GeometricMean(all.Select(r => r.VsDenseMin))),
        };
        var perN = new JsonObject();
        var perNMin = new JsonObject();
        foreach (int n in ns)
        {
            perN[n.ToString()] = BenchJson.Num(Measure.GeometricMean(all.Where(r => r.N == n).Select(r => r.VsCsr)));
            perNMin[n.ToString()] = BenchJson.Num(Measure.GeometricMean(all.Where(r => r.N == n).Select(r => r.VsCsrMin)));
        }
        summary["geomean_speedup_vs_csr_by_n"] = perN;
        summary["geomean_speedup_vs_csr_min_by_n"] = perNMin;
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "gs", ["pattern"] = pattern.Name, ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(),
                ["sparsity"] = BenchJson.Num(sparsity), ["repeats"] = repeats, ["results"] = results, ["summary"] = summary,
            }));
        else
            Console.WriteLine($"geomean vs CSR {summary["geomean_speedup_vs_csr"]}x, vs dense {summary["geomean_speedup_vs_dense"]}x; vs CSR by n: {perN.ToJsonString()}; of the fastest samples: {perNMin.ToJsonString()}");
        return 0;
    }

    /// <summary>Each GS body (forced) and the CSR kernel timed interleaved: median ms and speedup over CSR per body.</summary>
    private static JsonObject Bodies(Lacuna.Formats.GsMatrix gs, float[] w, int m, int k, int n, int threads, int warmup, int repeats, bool json)
    {
        using var x = Tensor.Random(11, new[] { k, n });
        var y = new float[(long)m * n];
        var csr = Lacuna.Kernels.Spmm.SpmmPlan.Create(Lacuna.Formats.CsrMatrix.FromDense(w, m, k));
        var runs = GsBodies.Runners(gs, x, n, y, threads).Append(("csr", () => csr.Run(x.Span, n, y, threads))).ToArray();
        var t = Measure.Interleaved(warmup, repeats, runs);
        double csrMs = t[^1].MedianMs;
        var result = new JsonObject { ["csr_ms"] = BenchJson.Num(csrMs), ["csr_min_ms"] = BenchJson.Num(t[^1].MinMs) };
        foreach (var body in t[..^1])
            result[body.Name] = new JsonObject { ["ms"] = BenchJson.Num(body.MedianMs), ["min_ms"] = BenchJson.Num(body.MinMs), ["speedup_vs_csr"] = BenchJson.Num(csrMs / body.MedianMs) };
        if (!json)
            Console.WriteLine($"    bodies: csr {csrMs:F4} ms; " + string.Join("; ", t[..^1].Select(b => $"{b.Name} {b.MedianMs:F4} ms ({csrMs / b.MedianMs:F2}x)")));
        return result;
    }

    /// <summary>Each worker's time inside the GS kernel, mean over <paramref name="repeats"/> runs (shows the split's balance).</summary>
    private static JsonArray BusyMs(GsSpmmPlan plan, int m, int k, int n, int threads, int repeats)
    {
        using var x = Tensor.Random(11, new[] { k, n });
        var y = new float[(long)m * n];
        var busy = new double[threads];
        var sum = new double[threads];
        for (int r = 0; r < repeats; r++)
        {
            plan.Run(x.Span, n, y, threads, busy);
            for (int p = 0; p < threads; p++) sum[p] += busy[p];
        }
        return new JsonArray(sum.Select(v => BenchJson.Num(v / repeats)).ToArray());
    }
}
