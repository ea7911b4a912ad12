using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Nm;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench tasd --dlmc DIR --series 2:4+1:8,...</c>: every DLMC matrix in DIR (unstructured pruned topologies,
/// values synthesized) approximated by each TASD series (greedy, <see cref="TasdSeries"/>) and run as one pass on the
/// N:M plan, against Lacuna's dense GEMM on W (densified) and the CSR SpMM on W, interleaved on the same X. N as in
/// <c>bench spmm</c>: output pixels × batch from rn50_batchsizes.txt, else N = batch. Per series: kept_norm_fraction =
/// ‖Σ terms‖ / ‖W‖, residual_rel_norm, output_rel_error = ‖W_approx·X − W·X‖ / ‖W·X‖ on that X, speedup_vs_dense and
/// speedup_vs_csr (the other's ms / the series' ms); the summary gives their geomeans and the mean kept norm.
/// </summary>
public static class BenchTasdCommand
{
    public static Command Build()
    {
        var dlmc = new Option<string>("--dlmc") { Description = "Folder of .smtx/.smtx.gz files (e.g. .../dlmc/rn50/magnitude_pruning/0.9).", Required = true };
        var series = new Option<string>("--series") { Description = "Comma-separated TASD series, e.g. 2:4,2:4+1:8,1:4+1:8 (append :rR for R rows sharing each pattern).", DefaultValueFactory = _ => "2:4+1:8" };
        var batch = new Option<int>("--batch") { Description = "ResNet-50 folders: images per batch (N = output pixels × batch); other folders: N itself.", DefaultValueFactory = _ => 1 };
        var filter = new Option<string?>("--filter") { Description = "Only matrices whose name contains this text." };
        var limit = new Option<int>("--limit") { Description = "At most this many matrices (0: all), for short runs.", DefaultValueFactory = _ => 0 };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("tasd", "TASD series of N:M terms on DLMC matrices: kept weight norm, one-pass N:M plan vs Lacuna dense and CSR SpMM.")
        {
            dlmc, series, batch, filter, limit, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int b = pr.GetValue(batch);
            if (CommonOptions.CheckBatch(b) is { } badBatch) { Console.Error.WriteLine(badBatch); return 2; }
            TasdSpec[] specs;
            try
            {
                specs = pr.GetValue(series)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(TasdSpec.Parse).ToArray();
            }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
            if (specs.Length == 0) { Console.Error.WriteLine("--series needs at least one series, e.g. 2:4+1:8."); return 2; }
            string dir = pr.GetValue(dlmc)!;
            if (!Directory.Exists(dir)) { Console.Error.WriteLine($"DLMC folder not found: {dir}"); return 2; }
            var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".smtx") || f.EndsWith(".smtx.gz")).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            string? f = pr.GetValue(filter);
            if (f is not null) files = files.Where(p => DlmcReader.MatrixName(p).Contains(f, StringComparison.Ordinal)).ToArray();
            if (pr.GetValue(limit) is > 0 and var lim) files = files.Take(lim).ToArray();
            if (files.Length == 0) { Console.Error.WriteLine($"No .smtx or .smtx.gz files in {dir}{(f is null ? "" : $" matching '{f}'")}."); return 2; }
            string? sizesPath = DlmcReader.FindBatchSizes(dir);
            var sizes = sizesPath is null ? null : DlmcReader.ReadBatchSizes(sizesPath);
            if (sizes is not null && !files.Any(p => sizes.ContainsKey(DlmcReader.MatrixName(p)))) sizes = null;
            return Run(files, sizes, specs, b, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static int Run(string[] files, Dictionary<string, int>? sizes, TasdSpec[] specs, int batch, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var vsDense = specs.Select(_ => new List<double>()).ToArray();
        var vsCsr = specs.Select(_ => new List<double>()).ToArray();
        var kept = specs.Select(_ => new List<double>()).ToArray();
        var minVsDense = specs.Select(_ => new List<double>()).ToArray();
        var minVsCsr = specs.Select(_ => new List<double>()).ToArray();
        var table = new Table().Title($"TASD on DLMC, batch {batch}, {threads} thread(s), median of {repeats}")
            .AddColumns("matrix", "M", "K", "N", "sparsity", "series", "kept norm", "output err", "ms", "dense ms", "csr ms", "vs dense", "vs csr");
        foreach (string file in files)
        {
            string name = DlmcReader.MatrixName(file);
            int pixels = 1;
            if (sizes is not null && !sizes.TryGetValue(name, out pixels))
                throw new LacunaFormatException(name, "has no entry in rn50_batchsizes.txt.");
            var w = DlmcReader.ReadSmtx(file);
            int m = w.Rows, k = w.Cols, n = pixels * batch;
            float[] dense = w.ToDense();
            using var x = Tensor.Random(7, [k, n]);
            using var yd = new Tensor(m, n);
            using var yc = new Tensor(m, n);
            using var ys = new Tensor(m, n);
            var csr = SpmmPlan.Create(w);
            var decomposed = specs.Select(s => TasdSeries.Decompose(dense, m, k, s)).ToArray();
            var plans = decomposed.Select(d => NmSpmmPlan.Create(d)).ToArray();
            var contenders = new List<(string, Action)>
            {
                ("dense", () => Gemm.Compute(m, n, k, dense, k, false, x.Span, n, false, yd.Span, n, threads: threads)),
                ("csr", () => csr.Run(x.Span, n, yc.Span, threads)),
            };
            foreach (var plan in plans) contenders.Add((plan.Describe(), () => plan.Run(x.Span, n, ys.Span, threads)));
            var t = Measure.Interleaved(warmup, repeats, contenders);
            double dm = t[0].MedianMs, cm = t[1].MedianMs;
            var row = new JsonObject
            {
                ["name"] = name, ["m"] = m, ["k"] = k, ["n"] = n, ["nnz"] = w.Nnz, ["sparsity"] = BenchJson.Num(w.Sparsity),
                ["lacuna_dense_ms"] = BenchJson.Num(dm), ["csr_ms"] = BenchJson.Num(cm),
            };
            var perSeries = new JsonArray();
            for (int i = 0; i < specs.Length; i++)
            {
                double sm = t[2 + i].MedianMs, err = decomposed[i].OutputError(dense, x.Span, n);
                vsDense[i].Add(dm / sm); vsCsr[i].Add(cm / sm); kept[i].Add(decomposed[i].KeptNormFraction);
                // Ratios of the fastest repeats as well: on a loaded machine noise only ever adds time.
                double minDense = t[0].MinMs / t[2 + i].MinMs, minCsr = t[1].MinMs / t[2 + i].MinMs;
                minVsDense[i].Add(minDense); minVsCsr[i].Add(minCsr);
                perSeries.Add(new JsonObject
                {
                    ["series"] = specs[i].ToString(),
                    ["kept_norm_fraction"] = BenchJson.Num(decomposed[i].KeptNormFraction, 6),
                    ["residual_rel_norm"] = BenchJson.Num(decomposed[i].ResidualNorm, 6),
                    ["output_rel_error"] = BenchJson.Num(err, 6),
                    ["kept_nnz"] = decomposed[i].Terms.Sum(term => term.Nnz),
                    ["macs_vs_dense"] = BenchJson.Num((double)plans[i].Slots / k),
                    ["tasd_ms"] = BenchJson.Num(sm),
                    ["speedup_vs_dense"] = BenchJson.Num(dm / sm), ["speedup_vs_csr"] = BenchJson.Num(cm / sm),
                    ["min_speedup_vs_dense"] = BenchJson.Num(minDense), ["min_speedup_vs_csr"] = BenchJson.Num(minCsr),
                    ["schedule"] = plans[i].ScheduleFor(n, threads),
                });
                table.AddRow(Markup.Escape(name), m.ToString(), k.ToString(), n.ToString(), $"{w.Sparsity:F3}", specs[i].ToString(),
                    $"{decomposed[i].KeptNormFraction:F4}", $"{err:E2}", $"{sm:F3}", $"{dm:F3}", $"{cm:F3}", $"{dm / sm:F2}", $"{cm / sm:F2}");
            }
            row["series"] = perSeries;
            results.Add(row);
        }
        var summary = new JsonArray();
        for (int i = 0; i < specs.Length; i++)
            summary.Add(new JsonObject
            {
                ["series"] = specs[i].ToString(), ["matrices"] = vsDense[i].Count,
                ["mean_kept_norm_fraction"] = BenchJson.Num(kept[i].Average(), 6),
                ["geomean_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(vsDense[i])),
                ["geomean_speedup_vs_csr"] = BenchJson.Num(Measure.GeometricMean(vsCsr[i])),
                ["geomean_min_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(minVsDense[i])),
                ["geomean_min_speedup_vs_csr"] = BenchJson.Num(Measure.GeometricMean(minVsCsr[i])),
            });
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "tasd", ["threads"] = threads, ["batch"] = batch, ["tier"] = IsaTiers.Best.ToString(), ["repeats"] = repeats,
                ["results"] = results, ["summary"] = summary,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            for (int i = 0; i < specs.Length; i++)
                AnsiConsole.MarkupLine($"{Markup.Escape(specs[i].ToString())}: mean kept norm {kept[i].Average():F4}, geomean vs dense {Measure.GeometricMean(vsDense[i]):F2}x, vs CSR {Measure.GeometricMean(vsCsr[i]):F2}x over {vsDense[i].Count} matrices"
                    + $" (fastest repeats: {Measure.GeometricMean(minVsDense[i]):F2}x, {Measure.GeometricMean(minVsCsr[i]):F2}x)");
        }
        return 0;
    }
}
